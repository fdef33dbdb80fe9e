// The parts of a multipart upload, prepared (hashed, signed) ahead of their turn to be sent, but
// never more than a few ahead: the hashing worker then works while the parts before are on the
// wire, and memory does not grow with the file. DOM-free.

/**
 * Hands out `numbers` in order with their preparation already under way. At most `limit` parts are
 * prepared or being prepared and not yet taken; taking one starts the next. Preparations may finish
 * in any order; one that fails fails its own part only (its `ready` rejects when taken).
 */
export class LookAhead {
  constructor(numbers, prepare, { limit = 4 } = {}) {
    if (!(limit >= 1)) throw new RangeError(`a look-ahead of ${limit} parts prepares nothing`);
    this.queue = [...numbers];
    this.prepare = prepare;
    this.limit = limit;
    this.ahead = []; // { number, ready } in order
    this.#fill();
  }

  /** Parts prepared or being prepared and not taken yet. */
  get buffered() { return this.ahead.length; }

  /** Parts not yet taken. */
  get remaining() { return this.ahead.length + this.queue.length; }

  /** The next part, `{ number, ready }` (`ready` resolves with what `prepare` made), or null when none is left. */
  take() {
    const next = this.ahead.shift() ?? null;
    this.#fill();
    return next;
  }

  /** Takes nothing more: the parts not yet taken are forgotten (their preparations are left to finish unheard). */
  stop() {
    this.queue.length = 0;
    this.ahead.length = 0;
  }

  #fill() {
    while (this.ahead.length < this.limit && this.queue.length) {
      const number = this.queue.shift();
      let ready;
      try {
        ready = Promise.resolve(this.prepare(number));
      } catch (error) {
        ready = Promise.reject(error);
      }
      ready.catch(() => {}); // heard by whoever takes it; a stopped upload never does
      this.ahead.push({ number, ready });
    }
  }
}
