// Waiting, for the upload engine: slots that bound how many parts are on the wire at once (a bound
// the pace may move while parts are out), and a sleep a pause or cancel cuts short. DOM-free.

/** A counting semaphore handing out slots in the order they were asked for; `resize` moves its bound. */
export class Slots {
  constructor(count) { this.limit = count; this.used = 0; this.waiting = []; }

  async acquire(signal) {
    if (signal?.aborted) throw new DOMException('Aborted', 'AbortError');
    if (this.used < this.limit && this.waiting.length === 0) { this.used += 1; return; }
    await new Promise((resolve, reject) => {
      const entry = { resolve, reject };
      this.waiting.push(entry);
      signal?.addEventListener('abort', () => {
        const index = this.waiting.indexOf(entry);
        if (index >= 0) { this.waiting.splice(index, 1); reject(new DOMException('Aborted', 'AbortError')); }
      }, { once: true });
    });
  }

  release() {
    this.used -= 1;
    this.#wake();
  }

  /** A new bound: more slots wake waiters now; fewer take effect as the parts out come back. */
  resize(count) {
    this.limit = count;
    this.#wake();
  }

  #wake() {
    while (this.used < this.limit && this.waiting.length) {
      this.used += 1;
      this.waiting.shift().resolve();
    }
  }
}

/** Resolves after `ms`, or rejects with an AbortError as soon as `signal` aborts. */
export function abortableSleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(new DOMException('Aborted', 'AbortError')); return; }
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); reject(new DOMException('Aborted', 'AbortError')); }, { once: true });
  });
}
