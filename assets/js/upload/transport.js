// Sends one body to a presigned S3 URL with XMLHttpRequest: unlike fetch it reports upload progress,
// and it streams a Blob from disk instead of holding it in memory. Never rejects for an HTTP or
// network failure: the caller reads `{ status, network, code, message }` and decides.

/** S3's XML error `<Code>` and `<Message>`, read as text (no HTML parser under Trusted Types). */
export function s3Error(text) {
  const pick = (name) => text?.match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1];
  return { code: pick('Code'), message: pick('Message') };
}

/** A request that moves no byte either way for this long is given up and counts as a network failure. */
export const STALL_MS = 60_000;

/**
 * PUTs `body` to `url` with `headers`. `onProgress(loaded)` follows the bytes sent; `signal` aborts
 * (the promise then rejects with an AbortError). Resolves with `{ status, etag, checksum }` on 2xx,
 * `{ network: true }` when no answer came, `{ status, code, message, retryAfterSeconds }` otherwise.
 * A request that makes no progress for `stallMs` (a connection that hangs without failing: no
 * browser times it out by itself) is aborted and resolves `{ network: true, stalled: true }`, so the
 * caller's retry sends the part again.
 */
export function put({ url, body, headers = {}, onProgress = () => {}, signal, stallMs = STALL_MS }) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    let stalled = false;
    let watchdog = null;
    const watch = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => { stalled = true; request.abort(); }, stallMs);
    };
    request.open('PUT', url);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => { watch(); onProgress(event.loaded); };
    request.upload.onload = watch;
    request.onprogress = watch;
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) {
        resolve({ status: request.status, etag: request.getResponseHeader('ETag'), checksum: request.getResponseHeader('x-amz-checksum-sha256') });
        return;
      }
      const retryAfter = Number(request.getResponseHeader('Retry-After'));
      resolve({ status: request.status, ...s3Error(request.responseText), retryAfterSeconds: retryAfter > 0 ? retryAfter : undefined });
    };
    request.onerror = () => resolve({ network: true, status: 0 });
    request.ontimeout = () => resolve({ network: true, status: 0 });
    const abort = () => request.abort();
    request.onabort = () => {
      if (stalled) resolve({ network: true, status: 0, stalled: true });
      else reject(new DOMException('The upload was paused or cancelled.', 'AbortError'));
    };
    if (signal?.aborted) { reject(new DOMException('Aborted', 'AbortError')); return; }
    signal?.addEventListener('abort', abort, { once: true });
    request.onloadend = () => { clearTimeout(watchdog); signal?.removeEventListener('abort', abort); };
    watch();
    request.send(body);
  });
}
