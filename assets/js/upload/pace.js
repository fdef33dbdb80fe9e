// How many parts go on the wire at once, learnt from the link: the in-flight count climbs while
// another part in flight buys more throughput and steps back when it does not; a refused or failed
// request halves it. Browsers open at most six connections to one host, the ceiling here. DOM-free.

export const PACE_DEFAULTS = Object.freeze({ start: 4, min: 2, max: 6, windowMs: 2000, gain: 0.08, holdWindows: 5 });

/**
 * Fed the bytes of every part the store took (`sent(bytes, nowMs)`) and every part that failed
 * (`trouble()`); `limit` is the count to keep in flight. Throughput is measured over windows of
 * `windowMs` at one limit; a probe one higher is kept only when it beats the limit before by more
 * than `gain`; after a probe that did not pay, the count holds for `holdWindows` windows.
 */
export class Pace {
  constructor(options = {}) {
    Object.assign(this, PACE_DEFAULTS, options);
    this.limit = Math.min(this.max, Math.max(this.min, this.start));
    this.window = null; // { start, bytes }
    this.from = null;   // the limit a probe started from, and its throughput
    this.hold = 0;
    this.listeners = [];
  }

  /** Calls `listener(limit)` whenever the limit changes. */
  onChange(listener) { this.listeners.push(listener); }

  /** A part of `bytes` was stored at `nowMs`. */
  sent(bytes, nowMs) {
    if (!this.window) { this.window = { start: nowMs, bytes: 0 }; return; } // the clock starts at the first part
    this.window.bytes += bytes;
    const elapsed = nowMs - this.window.start;
    if (elapsed < this.windowMs) return;
    const rate = (this.window.bytes / elapsed) * 1000;
    this.window = { start: nowMs, bytes: 0 };
    this.#decide(rate);
  }

  /** A part failed (refused, timed out, cut off): fewer in flight at once, and no probing for a while. */
  trouble() {
    this.from = null;
    this.hold = this.holdWindows;
    this.window = null;
    this.#set(Math.max(this.min, Math.floor(this.limit / 2)));
  }

  #decide(rate) {
    if (this.from) {
      const { limit, rate: before } = this.from;
      if (rate > before * (1 + this.gain) && this.limit < this.max) {
        this.from = { limit: this.limit, rate };
        this.#set(this.limit + 1);
        return;
      }
      if (rate <= before * (1 + this.gain)) this.#set(limit); // the extra part bought nothing: back
      this.from = null;
      this.hold = this.holdWindows;
      return;
    }
    if (this.hold > 0) { this.hold -= 1; return; }
    if (this.limit >= this.max) return;
    this.from = { limit: this.limit, rate };
    this.#set(this.limit + 1);
  }

  #set(limit) {
    if (limit === this.limit) return;
    this.limit = limit;
    this.window = null; // a new measure for the new count
    for (const listener of this.listeners) listener(limit);
  }
}
