// The retry policy for upload requests: what a failure means, how long to wait, when to give up. Pure.

/** S3 error codes that mean "try the same request again later". */
const RETRY_CODES = new Set(['SlowDown', 'RequestTimeout', 'InternalError']);
/** HTTP statuses that mean the same; 0 is a request that got no answer. */
const RETRY_STATUSES = new Set([0, 408, 429, 500, 502, 503, 504]);
/** The API's refusals that sending again cannot mend, whatever their status: over one of the user's limits. */
const FATAL_CODES = new Set(['LimitExceeded']);
/** The signature of a presigned URL is no longer valid: sign again, same bytes. */
const RESIGN_CODES = new Set(['ExpiredToken', 'RequestExpired']);
/** The store did not receive the bytes that were hashed: read, hash, sign and send again. */
const RESEND_CODES = new Set(['BadDigest', 'XAmzContentSHA256Mismatch', 'IncompleteBody']);

/**
 * What to do about a failed request. `failure` is `{ network: true }` or `{ status, code, message }`,
 * `code` being S3's XML error code or the API's error code (either may be missing). Returns
 * `'retry'` (wait and send the same again), `'resign'` (the presigned URL expired: get a new one),
 * `'resend'` (the store refused the bytes: read and hash them again, new URL, send again),
 * `'auth'` (the API refused the session) or `'fatal'` (sending again will not help).
 */
export function classify(failure) {
  const { network, status, code, message } = failure ?? {};
  if (network) return 'retry';
  if (status === 401) return 'auth';
  if (FATAL_CODES.has(code)) return 'fatal';
  if (RESIGN_CODES.has(code)) return 'resign';
  // S3 answers an expired presigned URL with 403 AccessDenied, "Request has expired".
  if (status === 403 && code === 'AccessDenied' && /expired/i.test(message ?? '')) return 'resign';
  if (RESEND_CODES.has(code)) return 'resend';
  if (RETRY_CODES.has(code) || RETRY_STATUSES.has(status)) return 'retry';
  return 'fatal';
}

/**
 * Milliseconds to wait before retry number `attempt` (from 0): "full jitter", a random time up to
 * `base · 2^attempt`, never more than `cap`, so clients that failed together do not return together.
 * A server's `retryAfterSeconds` (Retry-After) is a floor: the wait is at least that long.
 */
export function backoffDelay(attempt, { base = 500, cap = 30_000, random = Math.random, retryAfterSeconds } = {}) {
  const jitter = random() * Math.min(cap, base * 2 ** attempt);
  const floor = Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : 0;
  return Math.max(jitter, floor);
}

/** Whether a request tried `attempts` times already may be tried once more. */
export function shouldRetry(attempts, { maxAttempts = 8 } = {}) {
  return attempts < maxAttempts;
}
