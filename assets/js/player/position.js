// Where each video was left, so playing it again starts there. Pure: the storage is handed in.

/** The most videos remembered; the least recently watched go first. */
export const MAX_POSITIONS = 200;
/** Positions this close to the start (seconds) are not worth resuming. */
const NEAR_START = 5;
/** A video watched to within this many seconds of its end, or past this fraction of it, is finished. */
const NEAR_END = 5;
const FINISHED_FRACTION = 0.95;

/**
 * Positions of user `sub`, in a Web Storage (`localStorage` in the browser) under
 * `sstech.position.<sub>`, as `{ [videoId]: { t, d, at } }`: seconds in, duration (null if unknown),
 * and when it was saved (ms since the epoch). Unreadable contents count as none.
 */
export class PositionStore {
  constructor(storage, sub) {
    this.storage = storage;
    this.key = `sstech.position.${sub}`;
  }

  /** `{ t, d, at }` for `videoId`, or null. */
  get(videoId) {
    return this.#read().get(videoId) ?? null;
  }

  /** Remembers that `videoId` (of `duration` seconds) is at `seconds`, at `nowMs`. Returns whether it was stored. */
  save(videoId, seconds, duration, nowMs) {
    if (!Number.isFinite(seconds)) return false;
    const positions = this.#read();
    positions.delete(videoId);
    positions.set(videoId, { t: seconds, d: Number.isFinite(duration) ? duration : null, at: nowMs });
    const kept = [...positions].sort((a, b) => b[1].at - a[1].at).slice(0, MAX_POSITIONS);
    return this.#write(new Map(kept));
  }

  /** Forgets where `videoId` was (when it was watched to the end, say). */
  clear(videoId) {
    const positions = this.#read();
    if (positions.delete(videoId)) this.#write(positions);
  }

  #read() {
    try {
      const parsed = JSON.parse(this.storage.getItem(this.key) ?? '{}');
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return new Map();
      return new Map(Object.entries(parsed).filter(([, entry]) => Number.isFinite(entry?.t) && Number.isFinite(entry?.at)));
    } catch {
      return new Map();
    }
  }

  #write(positions) {
    try {
      if (positions.size === 0) this.storage.removeItem(this.key);
      else this.storage.setItem(this.key, JSON.stringify(Object.fromEntries(positions)));
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The second to start playing at: the saved position (`{ t, d }` from the store, or seconds), or 0
 * when there is none, it is in the first 5 seconds, or the video was finished (the last 5 seconds
 * or the last 5 %). `duration` is the video's; when not yet known, the saved one is used.
 */
export function resumeAt(saved, duration) {
  const t = typeof saved === 'number' ? saved : saved?.t;
  if (!Number.isFinite(t) || t < NEAR_START) return 0;
  const d = Number.isFinite(duration) && duration > 0 ? duration : saved?.d;
  if (Number.isFinite(d) && d > 0 && (t >= d - NEAR_END || t >= d * FINISHED_FRACTION)) return 0;
  return t;
}
