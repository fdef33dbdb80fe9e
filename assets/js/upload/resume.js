// Unfinished multipart uploads: remembered between page loads (never a token), and what is left to
// send once the store says which parts it holds. Pure. Which of them may be resumed, and with which
// file, is the resume rule in state.js.

import { partRange, partNumbers } from './plan.js';

/** The fields of a remembered upload; nothing else is stored. */
const FIELDS = ['videoId', 'key', 'uploadId', 'fileName', 'size', 'lastModified', 'contentType', 'partSize', 'firstPartSHA256', 'startedAt'];

function pick(record) {
  return Object.fromEntries(FIELDS.map((field) => [field, record[field]]));
}

/**
 * The unfinished uploads of user `sub`, in a Web Storage (`localStorage` in the browser, a Map-backed
 * fake in tests) under `sstech.uploads.<sub>`. Each record is `{ videoId, key, uploadId, fileName,
 * size, lastModified, contentType, partSize, firstPartSHA256, startedAt }`. Unreadable contents count
 * as none; a storage that refuses to write (full, or blocked) loses the record, not the upload.
 */
export class PendingUploads {
  constructor(storage, sub) {
    this.storage = storage;
    this.key = `sstech.uploads.${sub}`;
  }

  /** Every remembered upload, oldest first. */
  list() {
    let parsed;
    try {
      parsed = JSON.parse(this.storage.getItem(this.key) ?? '[]');
    } catch {
      return [];
    }
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((record) => record && typeof record === 'object' && typeof record.videoId === 'string').map(pick);
  }

  /** The remembered upload of video `videoId`, or null. */
  get(videoId) {
    return this.list().find((record) => record.videoId === videoId) ?? null;
  }

  /** Remembers `record` (only its known fields), replacing one for the same video. Returns whether it was stored. */
  save(record) {
    const others = this.list().filter((r) => r.videoId !== record.videoId);
    return this.#write([...others, pick(record)]);
  }

  /** Forgets the upload of video `videoId`. */
  remove(videoId) {
    this.#write(this.list().filter((record) => record.videoId !== videoId));
  }

  #write(records) {
    try {
      if (records.length === 0) this.storage.removeItem(this.key);
      else this.storage.setItem(this.key, JSON.stringify(records));
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The part numbers still to send, ascending, given `listedParts` (`[{ partNumber, size, etag,
 * checksumSHA256 }]`, what the store holds): parts not listed, listed with another size than planned,
 * or, where `localChecksums` (partNumber → base64 SHA-256) knows the part, listed with another checksum.
 */
export function partsToSend(plan, listedParts, { localChecksums } = {}) {
  const listed = new Map(listedParts.map((part) => [part.partNumber, part]));
  const numbers = [];
  for (const number of partNumbers(plan)) {
    const part = listed.get(number);
    const sound = part
      && part.size === partRange(plan, number).size
      && (!localChecksums?.has(number) || localChecksums.get(number) === part.checksumSHA256);
    if (!sound) numbers.push(number);
  }
  return numbers;
}
