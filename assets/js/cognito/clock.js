// The device clock, corrected by the server's. SRP's TIMESTAMP and every token-expiry check use it,
// so a laptop whose clock is minutes off still signs in, and one that is days off is told why.

/** Offsets under this are left alone: the Date header has one-second resolution. */
export const NEGLIGIBLE_MS = 2_000;
/** Offsets above this are shown to the user as a notice (corrected all the same). */
export const NOTICEABLE_MS = 60_000;
/** Offsets above this are not corrected: a clock a day off breaks TLS and the authenticator app too. */
export const UNCORRECTABLE_MS = 24 * 3600_000;

/**
 * The server's time minus the device's, in ms, estimated from an HTTP `Date` header and the device
 * times the request left and its answer arrived (the server stamped it about half way). Null when
 * the header is missing or unreadable (a server that does not expose `Date` to scripts).
 */
export function offsetFromDate(dateHeader, sentAt, receivedAt) {
  if (!dateHeader) return null;
  const server = Date.parse(dateHeader);
  if (Number.isNaN(server)) return null;
  // Date carries whole seconds: the true time is somewhere in [server, server + 1 s).
  return server + 500 - (sentAt + receivedAt) / 2;
}

/** What an offset means for the app: ignored, corrected, corrected with a notice, or too large. */
export function judgeOffset(offset) {
  const size = Math.abs(offset);
  if (size < NEGLIGIBLE_MS) return 'none';
  if (size < NOTICEABLE_MS) return 'corrected';
  if (size <= UNCORRECTABLE_MS) return 'notice';
  return 'too-large';
}

/** A clock that learns its offset from server answers. `read` is the device clock (injectable for tests). */
export class Clock {
  constructor(read = () => Date.now()) {
    this.read = read;
    this.offset = 0;
    this.measured = false;
  }

  /** Device time corrected by the last measured offset, in ms since the epoch. */
  now() {
    return this.read() + this.offset;
  }

  /** Learns from one answer; returns the judgement of the offset (see judgeOffset). */
  observe(dateHeader, sentAt, receivedAt) {
    const offset = offsetFromDate(dateHeader, sentAt, receivedAt);
    if (offset === null) return this.measured ? judgeOffset(this.offset) : 'none';
    this.measured = true;
    const verdict = judgeOffset(offset);
    this.offset = verdict === 'none' || verdict === 'too-large' ? 0 : offset;
    this.tooLarge = verdict === 'too-large' ? offset : 0;
    return verdict;
  }
}
