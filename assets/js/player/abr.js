// Adaptive bitrate: which rendition to fetch next, from the measured throughput, the seconds already
// buffered and the size the picture is shown at. Pure: the clock and the measurements are handed in.

/** Half-lives (seconds of download) of the two throughput averages: one follows changes, one is steady. */
export const FAST_HALF_LIFE = 2;
export const SLOW_HALF_LIFE = 8;
/** Downloads smaller than this say more about latency than about the link, and are not counted. */
export const MIN_SAMPLE_BYTES = 16 * 1024;
/** A rendition is kept while it needs at most this share of the estimate … */
export const KEEP_SHARE = 0.9;
/** … and moved up to only when it needs at most this one (the gap between the two is the hysteresis). */
export const UP_SHARE = 0.7;
/** With less than this buffered (seconds), only a rendition needing this share of the estimate will do. */
export const LOW_BUFFER = 4;
export const LOW_BUFFER_SHARE = 0.5;
/** Moving up waits until this much is buffered (seconds), so a wrong guess cannot stall playback. */
export const UP_BUFFER = 4;

/**
 * Throughput of the link in bits per second: two exponentially weighted moving averages of segment
 * downloads (weighted by how long each took), fast and slow; the estimate is the lower of the two,
 * so it falls at once and rises with care.
 */
export class Throughput {
  #fast = 0;
  #slow = 0;
  #weight = 0;

  /** One download: `bytes` in `seconds`. Tiny or instant downloads are ignored. */
  add(bytes, seconds) {
    if (!(bytes >= MIN_SAMPLE_BYTES) || !(seconds > 0)) return;
    const bps = (bytes * 8) / seconds;
    const fastAlpha = 1 - 0.5 ** (seconds / FAST_HALF_LIFE);
    const slowAlpha = 1 - 0.5 ** (seconds / SLOW_HALF_LIFE);
    this.#fast = fastAlpha * bps + (1 - fastAlpha) * this.#fast;
    this.#slow = slowAlpha * bps + (1 - slowAlpha) * this.#slow;
    this.#weight += seconds;
  }

  /** Bits per second, or null before the first sample. Early averages are corrected for their zero start. */
  estimate() {
    if (this.#weight === 0) return null;
    const fast = this.#fast / (1 - 0.5 ** (this.#weight / FAST_HALF_LIFE));
    const slow = this.#slow / (1 - 0.5 ** (this.#weight / SLOW_HALF_LIFE));
    return Math.min(fast, slow);
  }
}

/**
 * The index of the highest rendition the picture needs: the first (from the lowest) whose height
 * reaches `neededHeight` (the player's height on screen in device pixels), or the highest when none
 * does. `renditions` are `{ height, bandwidth }`, lowest first; a rendition without a height counts
 * as tall enough.
 */
export function capForSize(renditions, neededHeight) {
  if (!(neededHeight > 0)) return renditions.length - 1;
  const index = renditions.findIndex((r) => !(r.height > 0) || r.height >= neededHeight - 8);
  return index < 0 ? renditions.length - 1 : index;
}

/** The highest index up to `cap` whose bandwidth fits in `budget` bits per second; 0 when none does. */
function highestWithin(renditions, budget, cap) {
  let chosen = 0;
  for (let i = 0; i <= cap; i += 1) if (renditions[i].bandwidth <= budget) chosen = i;
  return chosen;
}

/**
 * The rendition to fetch next. `state`: `{ renditions, current, throughput, buffer, neededHeight,
 * pinned }` — renditions lowest first; `current` the index playing now (null before the first);
 * `throughput` bits per second (null when not measured yet); `buffer` seconds buffered ahead;
 * `neededHeight` device pixels; `pinned` an index the user chose, or null for automatic.
 *
 * Down at once when the current rendition needs more than KEEP_SHARE of the estimate, or the buffer
 * runs low; up only with UP_BUFFER seconds buffered and to a rendition needing at most UP_SHARE;
 * never above what the picture's size needs. Returns an index.
 */
export function chooseRendition({ renditions, current = null, throughput = null, buffer = 0, neededHeight = 0, pinned = null }) {
  if (renditions.length === 0) throw new RangeError('no renditions to choose from');
  if (pinned != null) return Math.min(Math.max(0, pinned), renditions.length - 1);
  const cap = capForSize(renditions, neededHeight);
  if (throughput == null) {
    // Nothing measured: the lowest rendition starts fastest and the first segment measures the link.
    return 0;
  }
  const low = buffer < LOW_BUFFER;
  const fitsUp = highestWithin(renditions, throughput * (low ? LOW_BUFFER_SHARE : UP_SHARE), cap);
  if (current == null) return fitsUp;
  const now = Math.min(current, renditions.length - 1);
  if (now > cap) return highestWithin(renditions, throughput * (low ? LOW_BUFFER_SHARE : KEEP_SHARE), cap);
  const keepBudget = throughput * (low ? LOW_BUFFER_SHARE : KEEP_SHARE);
  if (renditions[now].bandwidth > keepBudget && now > 0) {
    return Math.min(now - 1, highestWithin(renditions, keepBudget, cap));
  }
  if (fitsUp > now && !low && buffer >= UP_BUFFER) return fitsUp;
  return now;
}
