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
    if (!buffer && this.count < this.limit) { this.count += 1; buffer = new Uint8Array(size); }
    if (!buffer) buffer = await new Promise((resolve) => this.waiting.push(resolve));
    return buffer.length >= size ? buffer : new Uint8Array(size); // a larger part: a larger buffer from now on
  }

  #give(buffer) {
    const next = this.waiting.shift();
    if (next) next(buffer); else this.free.push(buffer);
  }

  /** The base64 SHA-256 of `blob`. */
  async hash(blob) {
    const buffer = await this.#take(blob.size);
    try {
      let offset = 0;
      const reader = blob.stream().getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer.set(value, offset);
        offset += value.length;
      }
      if (offset !== blob.size) throw new Error(`read ${offset} of ${blob.size} bytes`);
      return base64(new Uint8Array(await this.subtle.digest('SHA-256', buffer.subarray(0, offset))));
    } finally {
      this.#give(buffer);
    }
  }
}
