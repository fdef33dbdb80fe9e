// SHA-256 of upload parts, off the page's main thread: the upload page starts this module as a
// dedicated worker (upload/hash.js) and hands it Blobs (a file or a slice of one, which cost nothing
// to pass); the worker reads each into one of a few buffers it keeps, digests it with WebCrypto and
// answers S3's `x-amz-checksum-sha256` form, base64. The main thread schedules, signs and draws; it
// never holds a part's bytes or computes a digest.
//
// The module imports nothing: a worker has no import map, so an import would bypass the build's
// fingerprinted names. Node tests import PartHasher and sha256Base64 from it directly.

export function base64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The base64 SHA-256 of `blob`'s bytes, read in one piece (tests and small blobs). */
export async function sha256Base64(blob, subtle = globalThis.crypto.subtle) {
  const digest = await subtle.digest('SHA-256', await blob.arrayBuffer());
  return base64(new Uint8Array(digest));
}

/**
 * Hashes blobs with reused buffers: at most `buffers` blobs are in memory at once (later calls wait
 * for a free buffer), each read straight from the file into its buffer, so a long upload makes no
 * garbage the size of a part and memory stays flat however large the file.
 */
export class PartHasher {
  constructor({ buffers = 2, subtle = globalThis.crypto.subtle } = {}) {
    this.subtle = subtle;
    this.free = [];
    this.count = 0;
    this.limit = buffers;
    this.waiting = [];
  }

  async #take(size) {
    let buffer = this.free.pop();
    if (!buffer && this.count < this.limit) { this.count += 1; buffer = new ArrayBuffer(size); }
    if (!buffer) buffer = await new Promise((resolve) => this.waiting.push(resolve));
    return buffer.byteLength >= size ? buffer : new ArrayBuffer(size); // a larger part: a larger buffer from now on
  }

  #give(buffer) {
    const next = this.waiting.shift();
    if (next) next(buffer); else this.free.push(buffer);
  }

  /** The base64 SHA-256 of `blob`. A failed read rejects this call only; its buffer's place is given back. */
  async hash(blob) {
    let buffer = await this.#take(blob.size);
    let offset = 0;
    try {
      const stream = blob.stream();
      let reader = null;
      try {
        reader = stream.getReader({ mode: 'byob' });
      } catch {
        reader = null; // a stream that is not a byte stream: read its chunks and copy them
      }
      if (reader) {
        // Bring-your-own-buffer: the bytes land in the pooled buffer, no chunk is allocated.
        while (offset < blob.size) {
          const { done, value } = await reader.read(new Uint8Array(buffer, offset, blob.size - offset));
          if (value) buffer = value.buffer; // the same memory, handed back under a new ArrayBuffer
          if (done) break;
          offset += value.byteLength;
        }
        reader.releaseLock();
      } else {
        const chunks = stream.getReader();
        for (;;) {
          const { done, value } = await chunks.read();
          if (done) break;
          new Uint8Array(buffer).set(value, offset);
          offset += value.length;
        }
      }
      if (offset !== blob.size) throw new Error(`read ${offset} of ${blob.size} bytes`);
      return base64(new Uint8Array(await this.subtle.digest('SHA-256', new Uint8Array(buffer, 0, offset))));
    } finally {
      // A read that failed midway leaves the buffer detached: a new one takes its place in the pool,
      // so a failure never shrinks the pool until every later hash waits forever.
      this.#give(buffer.byteLength ? buffer : new ArrayBuffer(blob.size));
    }
  }
}

/**
 * The worker's side of the conversation: `{ id, blob }` in, `{ id, checksum }` or `{ id, error }` out.
 * Each message is answered on its own, so one part's failure is that part's only.
 */
export function serve(scope, hasher = new PartHasher()) {
  scope.addEventListener('message', async ({ data }) => {
    try {
      scope.postMessage({ id: data.id, checksum: await hasher.hash(data.blob) });
    } catch (error) {
      scope.postMessage({ id: data.id, error: String(error?.message ?? error) });
    }
  });
}

if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) serve(globalThis);
