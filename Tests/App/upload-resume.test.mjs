import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingUploads, partsToSend } from '../../assets/js/upload/resume.js';
import { MiB, planParts } from '../../assets/js/upload/plan.js';
import { memoryStorage } from './memory-storage.mjs';

function record(overrides = {}) {
  return {
    videoId: 'v1', key: 'uploads/sub-1/v1/holiday.mp4', uploadId: 'up-1', fileName: 'holiday.mp4', size: 100 * MiB,
    lastModified: 1_700_000_000_000, contentType: 'video/mp4', partSize: 16 * MiB, firstPartSHA256: 'Zmlyc3Q=',
    startedAt: '2024-03-05T14:07:00.000Z', ...overrides,
  };
}

test('uploads are remembered per user under sstech.uploads.<sub>', () => {
  const storage = memoryStorage();
  const pending = new PendingUploads(storage, 'sub-1');
  assert.deepEqual(pending.list(), []);
  assert.equal(pending.save(record()), true);
  pending.save(record({ videoId: 'v2', fileName: 'b.mov' }));
  assert.deepEqual([...storage.map.keys()], ['sstech.uploads.sub-1']);
  assert.deepEqual(pending.list().map((r) => r.videoId), ['v1', 'v2']);
  assert.deepEqual(pending.get('v1'), record());
  assert.equal(pending.get('v3'), null);
  assert.deepEqual(new PendingUploads(storage, 'sub-2').list(), [], 'another user sees none of them');
});

test('saving the same video again replaces its record', () => {
  const pending = new PendingUploads(memoryStorage(), 'sub-1');
  pending.save(record());
  pending.save(record({ uploadId: 'up-2' }));
  assert.equal(pending.list().length, 1);
  assert.equal(pending.get('v1').uploadId, 'up-2');
});

test('removing the last record removes the key', () => {
  const storage = memoryStorage();
  const pending = new PendingUploads(storage, 'sub-1');
  pending.save(record());
  pending.save(record({ videoId: 'v2' }));
  pending.remove('v1');
  assert.deepEqual(pending.list().map((r) => r.videoId), ['v2']);
  pending.remove('nothing');
  pending.remove('v2');
  assert.equal(storage.map.size, 0);
});

test('only the record fields are stored, never a token', () => {
  const storage = memoryStorage();
  new PendingUploads(storage, 'sub-1').save({ ...record(), accessToken: 'eyJ…', uploadUrl: 'https://…?X-Amz-Signature=…' });
  const stored = JSON.parse(storage.map.get('sstech.uploads.sub-1'));
  assert.deepEqual(Object.keys(stored[0]).sort(), Object.keys(record()).sort());
  assert.doesNotMatch(storage.map.get('sstech.uploads.sub-1'), /eyJ|Signature/);
});

test('corrupt storage reads as no uploads and is overwritten by the next save', () => {
  for (const text of ['{not json', '"a string"', '{"v1": {}}', 'null', '[1, null, "x", {"size": 3}]']) {
    const storage = memoryStorage({ 'sstech.uploads.sub-1': text });
    const pending = new PendingUploads(storage, 'sub-1');
    assert.deepEqual(pending.list(), [], text);
    assert.equal(pending.get('v1'), null);
    pending.save(record());
    assert.deepEqual(pending.list(), [record()], text);
  }
});

test('a storage that refuses to write loses the record without throwing', () => {
  const storage = { ...memoryStorage(), setItem: () => { throw new DOMException('full', 'QuotaExceededError'); } };
  const pending = new PendingUploads(storage, 'sub-1');
  assert.equal(pending.save(record()), false);
  assert.deepEqual(pending.list(), []);
});

test('parts the store does not hold are sent, in order', () => {
  const plan = planParts(100 * MiB, 16 * MiB); // 7 parts, the last of 4 MiB
  const part = (partNumber, size = 16 * MiB) => ({ partNumber, size, etag: `"e${partNumber}"`, checksumSHA256: `c${partNumber}` });
  assert.deepEqual(partsToSend(plan, []), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(partsToSend(plan, [part(5), part(1), part(2)]), [3, 4, 6, 7]);
  assert.deepEqual(partsToSend(plan, [1, 2, 3, 4, 5, 6].map((n) => part(n)).concat(part(7, 4 * MiB))), []);
});

test('a listed part of the wrong size is sent again', () => {
  const plan = planParts(100 * MiB, 16 * MiB);
  const listed = [1, 2, 3, 4, 5, 6].map((partNumber) => ({ partNumber, size: 16 * MiB, etag: 'e', checksumSHA256: 'c' }));
  listed[2].size = 16 * MiB - 1;
  listed.push({ partNumber: 7, size: 16 * MiB, etag: 'e', checksumSHA256: 'c' });
  listed.push({ partNumber: 8, size: 16 * MiB, etag: 'e', checksumSHA256: 'c' }); // not in the plan: ignored
  assert.deepEqual(partsToSend(plan, listed), [3, 7]);
});

test('a listed part whose checksum differs from the local one is sent again', () => {
  const plan = planParts(40 * MiB, 16 * MiB); // 16 + 16 + 8 MiB
  const listed = [
    { partNumber: 1, size: 16 * MiB, etag: 'e1', checksumSHA256: 'AAA=' },
    { partNumber: 2, size: 16 * MiB, etag: 'e2', checksumSHA256: 'BBB=' },
    { partNumber: 3, size: 8 * MiB, etag: 'e3' },
  ];
  assert.deepEqual(partsToSend(plan, listed), []);
  assert.deepEqual(partsToSend(plan, listed, { localChecksums: new Map([[1, 'AAA='], [2, 'XXX=']]) }), [2]);
  assert.deepEqual(partsToSend(plan, listed, { localChecksums: new Map([[3, 'CCC=']]) }), [3], 'no checksum listed: not proven');
});
