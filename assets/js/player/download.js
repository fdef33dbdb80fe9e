// Downloads for the MSE player: a playlist or a byte range of a segment fetched with the page's
// cookies and timed, and the retry rule around them (backoff; a 403 renews the media session first).
import { backoffDelay } from '../upload/retry.js';

/** Tries of one download before the player gives up (the page then falls back to the MP4). */
export const MAX_TRIES = 6;
const RETRY_BASE_MS = 500;
const RETRY_CAP_MS = 8_000;

/** A download or append that failed for good, with the URL and HTTP status (0 for no answer). */
export class StreamError extends Error {
  constructor(message, { status = 0, url = '' } = {}) {
    super(message);
    this.name = 'StreamError';
    this.status = status;
    this.url = url;
  }
}

/**
 * Downloads `url` (the `byteRange` of it when given) with the page's cookies: `{ bytes, seconds }`.
 * Throws StreamError with the status on an HTTP failure, and lets AbortError through.
 */
export async function download(fetchImpl, url, byteRange, signal, now) {
  const headers = byteRange ? { Range: `bytes=${byteRange.offset}-${byteRange.offset + byteRange.length - 1}` } : {};
  const started = now();
  let response;
  try {
    response = await fetchImpl(url, { credentials: 'same-origin', headers, signal });
  } catch (error) {
    if (error?.name === 'AbortError') throw error;
    throw new StreamError(`no answer for ${url}`, { url });
  }
  if (!response.ok) throw new StreamError(`${url} answered ${response.status}`, { status: response.status, url });
  let bytes = new Uint8Array(await response.arrayBuffer());
  // A server that ignores Range sends the whole file (200): take the part that was asked for.
  if (byteRange && response.status === 200 && bytes.length > byteRange.length) {
    bytes = bytes.subarray(byteRange.offset, byteRange.offset + byteRange.length);
  }
  return { bytes, seconds: Math.max(0.001, (now() - started) / 1000) };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export const sleepFor = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

/**
 * `attempt()` until it works, at most MAX_TRIES times: a 403 (or 401) calls `renew()` (a new media
 * session) before the next try, other failures wait with backoff; a 410, a second 404 and an abort
 * end it at once, as does `stopped()` turning true. The first 404 renews too: a distribution that
 * maps 403 to its 404 page (ours did until its site bucket could be listed) answers run-out media
 * cookies with a 404; a file really missing is a 404 again after the renewal.
 */
export async function retrying(attempt, { signal, renew = async () => false, stopped = () => false } = {}) {
  let renewedFor404 = false;
  for (let tries = 1; ; tries += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (error?.name === 'AbortError' || stopped()) throw error;
      const gone = error?.status === 410 || (error?.status === 404 && renewedFor404);
      if (gone || tries >= MAX_TRIES) throw error;
      if (error?.status === 404) {
        renewedFor404 = true;
        if (!(await renew())) throw error;
      } else if (error?.status === 403 || error?.status === 401) await renew();
      else await sleepFor(backoffDelay(tries - 1, { base: RETRY_BASE_MS, cap: RETRY_CAP_MS }), signal);
      if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
    }
  }
}
