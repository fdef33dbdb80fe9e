// The video API's upload and library calls (Sources/LocalCloud/Resources/openapi.yaml), over a
// fetch that adds the caller's token. Failures become ApiError with the contract's stable `code`.

/**
 * A refused or failed API call: `status` (0 when the network failed), the contract's `code`,
 * `message`; `limit`, for a refusal over one of the user's limits (403 LimitExceeded), is
 * `{ limit, allowed, used, requested }`, else null.
 */
export class ApiError extends Error {
  constructor(status, code, message, { retryAfterSeconds, limit = null } = {}) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
    this.limit = limit;
  }
}

/**
 * What a refusal's body says: `{ code, message, limit }`. The contract's `{"error": {"code",
 * "message"}}` and the flat `{"error": "<sentence>", "code", "limit", …}` are both read.
 */
export function readRefusal(body) {
  const nested = body?.error !== null && typeof body?.error === 'object' ? body.error : null;
  const fields = nested ?? body ?? {};
  const message = typeof fields.message === 'string' ? fields.message : typeof body?.error === 'string' ? body.error : undefined;
  const limit = typeof fields.limit === 'string'
    ? { limit: fields.limit, allowed: fields.allowed, used: fields.used, requested: fields.requested }
    : null;
  return { code: typeof fields.code === 'string' ? fields.code : undefined, message, limit };
}

/**
 * `fetchAPI(url, init)` sends with the session's token (and refreshes once on 401); `baseUrl` is the
 * API's root. Every method resolves with the parsed JSON body, or null for 204.
 */
export class VideoApi {
  constructor({ fetchAPI, baseUrl }) {
    this.fetchAPI = fetchAPI;
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async #call(method, path, body, extra = {}) {
    let response;
    try {
      response = await this.fetchAPI(`${this.baseUrl}${path}`, {
        ...extra,
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      // A refresh that could not reach Cognito is a network failure; any other refusal ends the session.
      if (error?.name === 'CognitoError' && !['network', 'throttled', 'service'].includes(error.kind)) throw error;
      throw new ApiError(0, 'NetworkError', String(error?.message ?? error));
    }
    if (response.status === 204) return null;
    const text = await response.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
    if (!response.ok) {
      const retryAfter = Number(response.headers.get('Retry-After'));
      const refusal = readRefusal(parsed);
      // Only a JSON body is the API's own words: behind CloudFront a 404's body is the site's HTML
      // 404 page, which is no message for a person.
      const message = refusal.message ?? (parsed === null ? `HTTP ${response.status}` : text.slice(0, 200));
      throw new ApiError(response.status, refusal.code ?? `HTTP${response.status}`, message,
        { retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined, limit: refusal.limit });
    }
    return parsed;
  }

  createUploadUrl({ fileName, contentType, size, checksumSHA256 }) {
    return this.#call('POST', '/videos/upload-url', { fileName, contentType, size, checksumSHA256 });
  }

  createMultipart({ fileName, contentType, size }) {
    return this.#call('POST', '/videos/multipart', { fileName, contentType, size, checksumAlgorithm: 'SHA256' });
  }

  presignParts({ key, uploadId, parts }) {
    return this.#call('POST', '/videos/multipart/parts', { key, uploadId, parts });
  }

  async listParts({ key, uploadId }) {
    const query = new URLSearchParams({ key, uploadId });
    return (await this.#call('GET', `/videos/multipart/parts?${query}`)).parts;
  }

  complete({ key, uploadId, parts }) {
    return this.#call('POST', '/videos/multipart/complete', { key, uploadId, parts });
  }

  abortMultipart({ key, uploadId }) {
    const query = new URLSearchParams({ key, uploadId });
    return this.#call('DELETE', `/videos/multipart?${query}`);
  }

  /**
   * Sets the signed cookies that open the caller's media (`/media/videos/<sub>/`) until the access
   * token expires: `{ mediaPath, expiresAt, expiresIn }`. The cookies come back with the answer, so
   * this call (and its undoing) is the one that lets them through.
   */
  openMediaSession() {
    return this.#call('POST', '/session', undefined, { credentials: 'same-origin' });
  }

  /** Takes the media cookies back (sign-out). */
  closeMediaSession() {
    return this.#call('DELETE', '/session', undefined, { credentials: 'same-origin' });
  }

  /** The caller's use of their limits: `{ usage: { storedBytes, videos, convertedMinutes, month }, limits: { … } }`. */
  usage() {
    return this.#call('GET', '/videos/usage');
  }

  async listVideos() {
    return (await this.#call('GET', '/videos')).videos;
  }

  getVideo(id) {
    return this.#call('GET', `/videos/${encodeURIComponent(id)}`);
  }

  deleteVideo(id) {
    return this.#call('DELETE', `/videos/${encodeURIComponent(id)}`);
  }
}
