// Part checksums: base64 SHA-256 equal to node's, from reused buffers, never more parts in memory than asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PartHasher, sha256Base64 } from '../../assets/js/upload/hash.js';

const blobOf = (size, seed) => new Blob([Uint8Array.from({ length: size }, (_, i) => (i * 7 + seed) & 0xff)]);
const expected = async (blob) => createHash('sha256').update(Buffer.from(await blob.arrayBuffer())).digest('base64');

test('the checksum is S3\'s: base64 of the SHA-256, for whole blobs and slices', async () => {
  const blob = blobOf(300_001, 3);
  assert.equal(await sha256Base64(blob), await expected(blob));
  const hasher = new PartHasher({ buffers: 2 });
  for (const [start, end] of [[0, 100_000], [100_000, 300_001], [5, 6], [0, 0]]) {
    assert.equal(await hasher.hash(blob.slice(start, end)), await expected(blob.slice(start, end)));
  }
  assert.equal(await sha256Base64(new Blob([])), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
});

test('at most `buffers` parts are held at once; the rest wait and reuse them', async () => {
  const hasher = new PartHasher({ buffers: 2 });
  const blobs = Array.from({ length: 7 }, (_, i) => blobOf(50_000 + i, i));
  const results = await Promise.all(blobs.map((blob) => hasher.hash(blob)));
  assert.deepEqual(results, await Promise.all(blobs.map(expected)));
  assert.equal(hasher.count, 2);
  assert.equal(hasher.free.length, 2);
});
