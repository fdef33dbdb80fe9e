// SHA-256 of a Blob (a file or a slice of one), as S3's `x-amz-checksum-sha256` wants it: base64.
// The bytes are read when asked and released as soon as the digest is known.

export function base64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The base64 SHA-256 of `blob`'s bytes. */
export async function sha256Base64(blob, subtle = globalThis.crypto.subtle) {
  const digest = await subtle.digest('SHA-256', await blob.arrayBuffer());
  return base64(new Uint8Array(digest));
}
