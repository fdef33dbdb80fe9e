// One file's upload as the engine keeps it and the page draws it (Upload), why it stopped
// (UploadError), and the media type the API is told for a file. DOM-free.
import { uploadMethod } from './plan.js';
import { SpeedMeter } from './progress.js';

/**
 * Why an upload stopped, for the page to put in words: `key` names a `upload.error.*` string;
 * `limit`, when the API refused it over one of the user's limits (key `limit`), is the refusal's
 * `{ limit, allowed, used, requested }`.
 */
export class UploadError extends Error {
  constructor(key, detail = '', { limit = null } = {}) {
    super(detail || key);
    this.name = 'UploadError';
    this.key = key;
    this.detail = detail;
    this.limit = limit;
  }
}

/** One file's upload, as the page sees it. `state` is one of state.js's STATES, moved only by its events. */
export class Upload {
  constructor(file, id) {
    this.id = id;
    this.file = file;
    this.name = file.name;
    this.size = file.size;
    this.state = 'queued';
    this.error = null;
    this.videoId = null;
    this.key = null;
    this.uploadId = null;
    this.plan = null;
    this.method = uploadMethod(file.size);
    /** partNumber → { etag, checksumSHA256, size } of parts the store holds. */
    this.stored = new Map();
    /** partNumber → bytes of it sent so far. */
    this.inflight = new Map();
    this.meter = new SpeedMeter({ windowMs: 5000 });
    this.controller = null;
    this.resumed = false;
  }

  get done() {
    let bytes = 0;
    for (const part of this.stored.values()) bytes += part.size;
    for (const loaded of this.inflight.values()) bytes += loaded;
    return Math.min(bytes, this.size);
  }
}

/** A `video/` media type for the API: the browser's when it has one, else from the extension. */
export function contentTypeOf(file) {
  if (/^video\/[a-z0-9.+-]+$/.test(file.type ?? '')) return file.type;
  const extension = (file.name.match(/\.([a-z0-9]+)$/i)?.[1] ?? '').toLowerCase();
  const known = { mp4: 'video/mp4', m4v: 'video/x-m4v', mov: 'video/quicktime', mkv: 'video/x-matroska', webm: 'video/webm',
    avi: 'video/x-msvideo', wmv: 'video/x-ms-wmv', flv: 'video/x-flv', mpg: 'video/mpeg', mpeg: 'video/mpeg', ts: 'video/mp2t',
    '3gp': 'video/3gpp', ogv: 'video/ogg' };
  return known[extension] ?? 'video/x-unknown';
}
