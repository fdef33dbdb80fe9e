// The upload engine: files to S3 through the video API, every byte verified by SHA-256.
// A file under 5 MiB goes in one presigned PUT; a larger one as S3 multipart: its parts are hashed
// (by the `hash` handed in: the page's worker) and signed a few ahead of their turn, and sent a few
// at once across all files, as many as the pace has learnt the link rewards; each part's body is a
// Blob.slice the browser streams from disk. Failures retry with jittered
// backoff; an expired URL is signed again; a part the store refuses as corrupt is read, hashed and
// sent again. Pause, resume, cancel; an unfinished multipart upload is remembered (never a token) so a
// reload or a new browser can finish it by picking the same file again.
//
// Each upload moves only as state.js's table allows. DOM-free: the API, the transport, the hash, the
// clock and the store of unfinished uploads are handed in, so node tests drive it with fakes and the
// page drives it with the real things.
import { sizeProblem, planParts, partRange } from './plan.js';
import { classify, backoffDelay, shouldRetry } from './retry.js';
import { summarize } from './progress.js';
import { partsToSend } from './resume.js';
import { transition, allows, isUnsettled, reachedServer, resumeProblem } from './state.js';
import { Upload, UploadError, contentTypeOf } from './item.js';
import { Slots, abortableSleep } from './slots.js';
import { LookAhead } from './lookahead.js';
import { Pace } from './pace.js';

const isAbort = (error) => error?.name === 'AbortError';
const isSessionLoss = (error) => error?.name === 'CognitoError' || (error?.status === 401);

export class Uploader {
  /**
   * `api`: a VideoApi. `put(args)`: transport.put. `hash(blob)`: base64 SHA-256. `pending`: a
   * PendingUploads (or null). `onChange(upload)` runs on every visible change; `onSessionLost()` when
   * the session ends mid-upload (the uploads wait in state `session`). `concurrency`: a fixed number
   * of parts in flight instead of the pace's (`pace`: a Pace, learning it from the link).
   * `lookAhead`: how many parts of a file are hashed and signed ahead of their turn.
   */
  constructor({ api, put, hash, pending = null, concurrency = null, pace = null, lookAhead = 4, maxAttempts = 8, now = () => Date.now(),
    sleep = (ms, signal) => abortableSleep(ms, signal), random = Math.random, onChange = () => {}, onSessionLost = () => {} }) {
    Object.assign(this, { api, put, hash, pending, lookAhead, maxAttempts, now, sleep, random, onChange, onSessionLost });
    this.pace = pace ?? new Pace(concurrency ? { start: concurrency, min: concurrency, max: concurrency } : {});
    this.slots = new Slots(this.pace.limit);
    this.pace.onChange((limit) => {
      this.slots.resize(limit);
      for (const upload of this.uploads) if (upload.state === 'uploading' && upload.method === 'multipart') this.#changed(upload);
    });
    this.uploads = [];
    this.nextId = 1;
  }

  /** Whether an upload is still to go on (state.js's isUnsettled): it holds off the idle sign-out and the session's end. */
  get busy() {
    return this.uploads.some((u) => isUnsettled(u.state));
  }

  /** Adds a file and starts it; a file too large or empty is refused at once (state `failed`). */
  add(file) {
    const upload = new Upload(file, this.nextId++);
    this.uploads.push(upload);
    const problem = sizeProblem(file.size);
    if (problem) {
      this.#fail(upload, new UploadError(problem === 'empty' ? 'empty' : 'tooLarge'));
      return upload;
    }
    this.#start(upload, 'start');
    return upload;
  }

  /**
   * Continues a remembered multipart upload with the file the user picked again, by the resume rule
   * (state.js): rejects with UploadError('notSameFile') unless its name, size and date and then its
   * first part's checksum are the ones remembered.
   */
  async resumeFrom(record, file) {
    if (resumeProblem(record, file)) throw new UploadError('notSameFile');
    const upload = new Upload(file, this.nextId++);
    Object.assign(upload, { videoId: record.videoId, key: record.key, uploadId: record.uploadId, method: 'multipart', resumed: true });
    upload.plan = planParts(file.size, record.partSize);
    const first = await this.hash(this.#slice(upload, 1));
    if (resumeProblem(record, file, first)) throw new UploadError('notSameFile');
    upload.firstChecksum = first;
    this.uploads.push(upload);
    this.#start(upload, 'start');
    return upload;
  }

  pause(upload) {
    if (!this.#move(upload, 'pause')) return;
    upload.controller?.abort();
    this.#changed(upload);
  }

  /** Goes on with a paused upload. */
  resume(upload) {
    this.#start(upload, 'resume');
  }

  /** Tries a failed upload again, from the parts already stored (not after a failure no retry mends). */
  retry(upload) {
    this.#start(upload, 'retry');
  }

  /** Goes on with every upload that waited for the session (after the user signed in again). */
  resumeAfterSignIn() {
    for (const upload of this.uploads) if (upload.state === 'session') this.#start(upload, 'signedIn');
  }

  /**
   * Stops the upload and removes what it left: the multipart upload (aborted) and the video.
   * Resolves false, doing nothing, when the upload cannot be cancelled (done, say: its video is kept).
   */
  async cancel(upload) {
    if (!this.#move(upload, 'cancel')) return false;
    upload.controller?.abort();
    upload.inflight.clear();
    this.#changed(upload);
    try {
      if (upload.uploadId) await this.api.abortMultipart({ key: upload.key, uploadId: upload.uploadId });
      else if (upload.videoId) await this.api.deleteVideo(upload.videoId);
    } catch (error) {
      // Already gone (404) is what we wanted; anything else leaves a video the library can delete.
      if (error?.status !== 404 && upload.videoId) await this.api.deleteVideo(upload.videoId).catch(() => {});
    }
    if (upload.videoId) this.pending?.remove(upload.videoId);
    return true;
  }

  /** Progress over every upload not cancelled: `{ size, done, fraction, bytesPerSecond, etaSeconds }`. */
  progress(nowMs = this.now()) {
    // A file refused before it reached the server (empty, too large) is no part of the total.
    const counted = this.uploads.filter((u) => !(u.state === 'failed' && !reachedServer(u)));
    return summarize(counted.map((u) => ({ size: u.size, done: u.done, state: u.state, bytesPerSecond: u.meter.bytesPerSecond(nowMs) })));
  }

  // MARK: running

  #changed(upload) {
    if (upload.state === 'uploading') upload.meter.record(upload.done, this.now());
    upload.parallel = this.pace.limit;
    this.onChange(upload);
  }

  /** Moves `upload` by `event` when state.js allows it; returns whether it moved. */
  #move(upload, event) {
    const to = transition(upload, event);
    if (to === null) return false;
    upload.state = to;
    return true;
  }

  #fail(upload, error) {
    if (!this.#move(upload, 'fail')) return;
    upload.error = error instanceof UploadError ? error : new UploadError('unexpected', String(error?.message ?? error));
    upload.inflight.clear();
    this.#changed(upload);
  }

  /** Starts (or starts again) sending `upload`, when `event` may move it to `uploading`. */
  #start(upload, event) {
    if (!this.#move(upload, event)) return;
    upload.error = null;
    const controller = new AbortController();
    upload.controller = controller;
    const { signal } = controller;
    this.#changed(upload);
    const run = upload.method === 'single' ? this.#single(upload, signal) : this.#multipart(upload, controller);
    // A run replaced by a newer one, or paused or cancelled (which the table then refuses to finish
    // or fail), leaves the state to whoever stopped it.
    run.then(() => {
      if (upload.controller !== controller || !this.#move(upload, 'finish')) return;
      upload.inflight.clear();
      if (upload.videoId) this.pending?.remove(upload.videoId);
      this.#changed(upload);
    }, (error) => {
      const event = isSessionLoss(error) ? 'sessionLost' : 'fail';
      if (upload.controller !== controller || !allows(upload, event)) return;
      controller.abort();
      upload.inflight.clear();
      if (event === 'sessionLost') {
        this.#move(upload, event);
        upload.error = new UploadError('session');
        this.#changed(upload);
        this.onSessionLost(upload);
        return;
      }
      this.#fail(upload, error);
    });
  }

  #slice(upload, number) {
    const range = partRange(upload.plan, number);
    return upload.file.slice(range.start, range.end);
  }

  /** Runs `call` (an API call) with the retry policy; the session's loss and fatal refusals throw. */
  async #api(call, signal) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        if (isSessionLoss(error) || isAbort(error)) throw error;
        const kind = classify(error.status === 0 ? { network: true } : { status: error.status, code: error.code, message: error.message });
        if (error.code === 'LimitExceeded') throw new UploadError('limit', error.message, { limit: error.limit });
        if (kind !== 'retry' || !shouldRetry(attempt + 1, { maxAttempts: this.maxAttempts })) {
          throw new UploadError(error.status === 0 ? 'network' : 'refused', error.message);
        }
        await this.sleep(backoffDelay(attempt, { random: this.random, retryAfterSeconds: error.retryAfterSeconds }), signal);
      }
    }
  }

  async #single(upload, signal) {
    const file = upload.file;
    const checksumSHA256 = await this.hash(file);
    if (signal.aborted) throw new DOMException('Aborted', 'AbortError');
    const contentType = contentTypeOf(file);
    const ask = () => this.#api(() => this.api.createUploadUrl({ fileName: file.name, contentType, size: file.size, checksumSHA256 }), signal);
    let grant = await ask();
    upload.videoId = grant.videoId;
    upload.key = grant.key;
    this.#changed(upload);
    const headers = { 'Content-Type': contentType, 'x-amz-checksum-sha256': checksumSHA256 };
    upload.plan = planParts(file.size, file.size);
    await this.#send(upload, 1, file, { headers, url: () => grant.uploadUrl, checksum: checksumSHA256, resign: async (kind) => {
      if (kind !== 'resign') return; // refused bytes: the same URL takes them again
      // An expired URL: a new one comes with a new video, and the old video is removed.
      const old = upload.videoId;
      grant = await ask();
      upload.videoId = grant.videoId;
      upload.key = grant.key;
      await this.api.deleteVideo(old).catch(() => {});
    } }, signal);
  }

  async #multipart(upload, controller) {
    const { signal } = controller;
    const file = upload.file;
    if (!upload.uploadId) {
      const contentType = contentTypeOf(file);
      const started = await this.#api(() => this.api.createMultipart({ fileName: file.name, contentType, size: file.size }), signal);
      Object.assign(upload, { videoId: started.videoId, key: started.key, uploadId: started.uploadId });
      upload.plan = planParts(file.size, started.partSize);
      upload.firstChecksum = await this.hash(this.#slice(upload, 1));
      this.pending?.save({
        videoId: started.videoId, key: started.key, uploadId: started.uploadId, fileName: file.name, size: file.size,
        lastModified: file.lastModified, contentType, partSize: started.partSize, firstPartSHA256: upload.firstChecksum,
        startedAt: new Date(this.now()).toISOString(),
      });
      this.#changed(upload);
    } else if (upload.resumed && upload.stored.size === 0) {
      // What the store already holds is not sent again.
      const listed = await this.#api(() => this.api.listParts({ key: upload.key, uploadId: upload.uploadId }), signal);
      const missing = new Set(partsToSend(upload.plan, listed));
      for (const part of listed) {
        if (!missing.has(part.partNumber)) upload.stored.set(part.partNumber, { etag: part.etag, checksumSHA256: part.checksumSHA256, size: part.size });
      }
      this.#changed(upload);
    }
    const missing = [];
    for (let n = 1; n <= upload.plan.count; n += 1) if (!upload.stored.has(n)) missing.push(n);
    // Parts are hashed and signed ahead of their turn, so every slot keeps a PUT on the wire while
    // the worker hashes the next ones; the look-ahead bounds how far ahead that goes.
    const ahead = new LookAhead(missing, (number) => this.#sign(upload, number, false, signal), { limit: this.lookAhead });
    const worker = async () => {
      while (ahead.remaining && !signal.aborted) {
        await this.slots.acquire(signal);
        try {
          const part = ahead.take();
          if (!part) return;
          // A hash that failed (a worker that died, a read cut short) is tried once more before the upload fails.
          const signed = await part.ready.catch(() => this.#sign(upload, part.number, true, signal));
          await this.#sendPart(upload, part.number, signed, signal);
        } finally {
          this.slots.release();
        }
      }
    };
    // As many senders as the pace may ever allow; the slots let through only as many as it allows now.
    const workers = Array.from({ length: Math.min(this.pace.max, missing.length) }, () => worker().catch((error) => {
      ahead.stop();
      controller.abort(); // the other parts stop too: the upload has failed (or was paused) as a whole
      throw error;
    }));
    const results = await Promise.allSettled(workers);
    const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    if (failures.length) throw failures.find((error) => !isAbort(error)) ?? failures[0];
    if (signal.aborted) throw new DOMException('Aborted', 'AbortError');
    if (!this.#move(upload, 'partsSent')) throw new DOMException('Aborted', 'AbortError');
    this.#changed(upload);
    const parts = [...upload.stored.entries()].sort((a, b) => a[0] - b[0])
      .map(([partNumber, part]) => ({ partNumber, etag: part.etag, checksumSHA256: part.checksumSHA256 }));
    try {
      await this.#api(() => this.api.complete({ key: upload.key, uploadId: upload.uploadId, parts }), signal);
    } catch (error) {
      // Completed by an earlier attempt whose answer was lost: the video is past `uploading`.
      if (error?.status !== 409) throw error;
    }
  }

  /** Part `number`'s checksum (hashed again when `rehash`) and a URL signed for it. */
  async #sign(upload, number, rehash, signal) {
    const checksum = number === 1 && upload.firstChecksum && !rehash ? upload.firstChecksum : await this.hash(this.#slice(upload, number));
    return { checksum, url: await this.#partURL(upload, number, checksum, signal) };
  }

  /** A presigned UploadPart URL for part `number` carrying `checksum`. */
  async #partURL(upload, number, checksum, signal) {
    const answer = await this.#api(() => this.api.presignParts({ key: upload.key, uploadId: upload.uploadId, parts: [{ partNumber: number, checksumSHA256: checksum }] }), signal);
    return answer.urls[0].url;
  }

  async #sendPart(upload, number, signed, signal) {
    let { checksum, url } = signed;
    await this.#send(upload, number, () => this.#slice(upload, number), {
      headers: () => ({ 'x-amz-checksum-sha256': checksum }),
      url: () => url,
      // 'resend': the store refused the bytes, so they are read and hashed again; 'resign': a new URL only.
      resign: async (kind) => {
        if (kind === 'resend') ({ checksum, url } = await this.#sign(upload, number, true, signal));
        else url = await this.#partURL(upload, number, checksum, signal);
      },
      checksum: () => checksum,
    }, signal);
  }

  /** PUTs one body (part `number`) until the store takes it, following the retry policy. */
  async #send(upload, number, body, how, signal) {
    const value = (v) => (typeof v === 'function' ? v() : v);
    for (let attempt = 0; ; attempt += 1) {
      if (signal.aborted) throw new DOMException('Aborted', 'AbortError');
      upload.inflight.set(number, 0);
      const result = await this.put({
        url: value(how.url), body: value(body), headers: value(how.headers), signal,
        onProgress: (loaded) => { upload.inflight.set(number, loaded); this.#changed(upload); },
      });
      upload.inflight.delete(number);
      if (result.status >= 200 && result.status < 300) {
        if (!result.etag) throw new UploadError('etagHidden');
        const range = partRange(upload.plan, number);
        upload.stored.set(number, { etag: result.etag, checksumSHA256: value(how.checksum), size: range.size });
        this.pace.sent(range.size, this.now());
        this.#changed(upload);
        return;
      }
      this.#changed(upload);
      const kind = classify(result);
      if (kind === 'retry') this.pace.trouble();
      if (kind === 'fatal' || kind === 'auth' || !shouldRetry(attempt + 1, { maxAttempts: this.maxAttempts })) {
        throw new UploadError(result.network ? 'network' : 'store', result.code ?? `HTTP ${result.status}`);
      }
      if (kind === 'retry') {
        await this.sleep(backoffDelay(attempt, { random: this.random, retryAfterSeconds: result.retryAfterSeconds }), signal);
      } else {
        await how.resign(kind); // 'resign' (URL expired) or 'resend' (bytes refused)
      }
    }
  }
}
