// Progress arithmetic for uploads: speed over a sliding window, time left, totals, the tab title's percent. Pure.
import { isMoving } from './state.js';

/**
 * Upload speed over the last `windowMs`, from samples of the bytes done so far. Between samples the
 * count is taken to stay where it was, so a stalled upload slows to 0 rather than keeping its last speed.
 * Bytes going down (a failed part's progress rolled back) start the measure again: never a negative speed.
 */
export class SpeedMeter {
  constructor({ windowMs = 5000, minSpanMs = 1000 } = {}) {
    this.windowMs = windowMs;
    this.minSpanMs = minSpanMs;
    this.samples = [];
  }

  /** Notes that `totalBytesDone` bytes were done at `nowMs`. */
  record(totalBytesDone, nowMs) {
    const last = this.samples.at(-1);
    if (last && (totalBytesDone < last.bytes || nowMs < last.at)) this.samples = [];
    this.samples.push({ bytes: totalBytesDone, at: nowMs });
    this.#prune(nowMs);
  }

  /** Forgets every sample (after a pause, say, so the time paused does not count). */
  reset() {
    this.samples = [];
  }

  /** Bytes per second over the window ending at `nowMs`; null until at least `minSpanMs` has been watched. */
  bytesPerSecond(nowMs) {
    this.#prune(nowMs);
    if (this.samples.length === 0) return null;
    const start = Math.max(this.samples[0].at, nowMs - this.windowMs);
    const span = nowMs - start;
    if (span < this.minSpanMs) return null;
    const atStart = this.samples.findLast((sample) => sample.at <= start);
    return ((this.samples.at(-1).bytes - atStart.bytes) / span) * 1000;
  }

  // Keeps the samples inside the window and the last one before it, which gives the count at its start.
  #prune(nowMs) {
    const start = nowMs - this.windowMs;
    let before = 0;
    while (before + 1 < this.samples.length && this.samples[before + 1].at <= start) before += 1;
    if (before > 0) this.samples.splice(0, before);
  }
}

/** Seconds until `remainingBytes` are sent at `bytesPerSecond`: 0 when nothing remains, null when the speed is unknown or 0. */
export function eta(remainingBytes, bytesPerSecond) {
  if (remainingBytes <= 0) return 0;
  if (!(bytesPerSecond > 0)) return null;
  return remainingBytes / bytesPerSecond;
}

/**
 * Totals over `files` (`{ size, done, bytesPerSecond, state }`), cancelled ones left out:
 * `{ size, done, fraction, bytesPerSecond, etaSeconds, active }`. Speed adds up files that are
 * uploading; `active` counts files on their way (state.js's isMoving: queued, uploading, completing).
 */
export function summarize(files) {
  let size = 0, done = 0, bytesPerSecond = 0, active = 0;
  for (const file of files) {
    if (file.state === 'cancelled') continue;
    size += file.size;
    done += file.state === 'done' ? file.size : Math.min(file.done, file.size);
    if (file.state === 'uploading') bytesPerSecond += file.bytesPerSecond ?? 0;
    if (isMoving(file.state)) active += 1;
  }
  return { size, done, fraction: size > 0 ? done / size : 0, bytesPerSecond, etaSeconds: eta(size - done, bytesPerSecond), active };
}

/** Whole percent for the tab title, 0 to 100, rounded down so that 100 means done. */
export function titleProgress(fraction) {
  if (!(fraction > 0)) return 0;
  if (fraction >= 1) return 100;
  // The epsilon keeps 0.29 at 29 (0.29 · 100 is 28.999…); 99 is the most an unfinished upload shows.
  return Math.min(99, Math.floor(fraction * 100 + 1e-9));
}
