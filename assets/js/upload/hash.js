// SHA-256 of a Blob (a file or a slice of one), as S3's `x-amz-checksum-sha256` wants it: base64.
// WebCrypto hashes only whole buffers, so a part is read into memory; `PartHasher` reads each part
// into one of a few buffers it keeps, so a long upload makes no garbage the size of a part and the
// tab's memory stays flat however large the file.

export function base64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The base64 SHA-256 of `blob`'s bytes (read in one piece: for small files). */
export async function sha256Base64(blob, subtle = globalThis.crypto.subtle) {
  const digest = await subtle.digest('SHA-256', await blob.arrayBuffer());
  return base64(new Uint8Array(digest));
}

/**
 * Hashes parts with reused buffers: at most `buffers` parts are in memory at once (later calls wait
 * for a free buffer), each read straight from the file into its buffer.
 */
export class PartHasher {
  constructor({ buffers = 4, subtle = globalThis.crypto.subtle } = {}) {
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

  /** The base64 SHA-256 of `blob`. */
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
          if (done) break;
          buffer = value.buffer; // the same memory, handed back under a new ArrayBuffer
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
      if (buffer.byteLength) this.#give(buffer);
    }
  }
}
