// Waiting, for the upload engine: slots that bound how many parts are on the wire at once, and a
// sleep a pause or cancel cuts short. DOM-free.

/** A counting semaphore handing out slots in the order they were asked for. */
export class Slots {
  constructor(count) { this.free = count; this.waiting = []; }
  async acquire(signal) {
    if (this.free > 0) { this.free -= 1; return; }
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
    const next = this.waiting.shift();
    if (next) next.resolve(); else this.free += 1;
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
