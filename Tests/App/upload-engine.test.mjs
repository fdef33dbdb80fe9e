// The upload engine against an in-memory store that behaves as the local cloud's S3 does: it checks
// every body's SHA-256 against the signed checksum, answers ETags, and can be told to fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Uploader } from '../../assets/js/upload/engine.js';
import { UploadError, contentTypeOf } from '../../assets/js/upload/item.js';
import { sha256Base64 } from '../../assets/js/upload/hash-worker.js';
import { PendingUploads } from '../../assets/js/upload/resume.js';
import { ApiError } from '../../assets/js/upload/api.js';
import { MiB, TiB } from '../../assets/js/upload/plan.js';
import { memoryStorage } from './memory-storage.mjs';

const PART = 5 * MiB;

function fileOf(size, name = 'clip.mov', seed = 1) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + seed + (i >> 20)) & 0xff;
  return new File([bytes], name, { type: name.endsWith('.mov') ? 'video/quicktime' : '', lastModified: 1_700_000_000_000 });
}

const digest = async (blob) => createHash('sha256').update(Buffer.from(await blob.arrayBuffer())).digest('base64');

/** The API and the store in one: URLs are `mem://part/<n>?sig=<checksum>`. */
function fakeCloud({ partSize = PART } = {}) {
  const cloud = {
    calls: [], puts: [], parts: new Map(), objects: new Map(), failures: [], aborted: false, completed: null,
    sessionGone: false, refusal: null,
    async createMultipart(body) {
      cloud.calls.push(['createMultipart', body]);
      if (cloud.refusal) throw cloud.refusal;
      return { videoId: 'v'.repeat(25) + 'a', key: `uploads/sub/${'v'.repeat(25)}a/${body.fileName}`, uploadId: 'up-1', partSize };
    },
    async createUploadUrl(body) {
      cloud.calls.push(['createUploadUrl', body]);
      if (cloud.refusal) throw cloud.refusal;
      return { videoId: 's'.repeat(25) + 'a', key: 'k', uploadUrl: `mem://single?sig=${encodeURIComponent(body.checksumSHA256)}`, expiresIn: 900 };
    },
    async presignParts({ parts }) {
      cloud.calls.push(['presignParts', parts]);
      if (cloud.sessionGone) throw Object.assign(new Error('Session is expired'), { name: 'CognitoError', type: 'NotAuthorizedException' });
      return { urls: parts.map((p) => ({ partNumber: p.partNumber, url: `mem://part/${p.partNumber}?sig=${encodeURIComponent(p.checksumSHA256)}` })), expiresIn: 3600 };
    },
    async listParts() {
      cloud.calls.push(['listParts']);
      return [...cloud.parts.entries()].sort((a, b) => a[0] - b[0]).map(([partNumber, p]) => ({ partNumber, ...p }));
    },
    async complete(body) {
      cloud.calls.push(['complete', body]);
      if (cloud.completeRefusal) throw cloud.completeRefusal;
      cloud.completed = body;
      return { videoId: 'x', key: body.key };
    },
    async abortMultipart() { cloud.calls.push(['abort']); cloud.aborted = true; return null; },
    async deleteVideo(id) { cloud.calls.push(['delete', id]); return null; },
    /** transport.put: verifies the signed checksum against the body, as the store does. */
    async put({ url, body, headers, onProgress }) {
      const failure = cloud.failures.shift();
      const number = url.startsWith('mem://part/') ? Number(url.slice(11).split('?')[0]) : 1;
      cloud.puts.push(number);
      if (failure) return failure;
      const signed = decodeURIComponent(url.split('sig=')[1]);
      assert.equal(headers['x-amz-checksum-sha256'], signed, 'the header carries the signed checksum');
      const actual = await digest(body);
      if (actual !== signed) return { status: 400, code: 'BadDigest', message: 'The SHA256 you specified did not match the calculated checksum.' };
      onProgress(body.size);
      const etag = `"${createHash('md5').update(Buffer.from(await body.arrayBuffer())).digest('hex')}"`;
      if (url.startsWith('mem://part/')) cloud.parts.set(number, { etag, size: body.size, checksumSHA256: actual });
      else cloud.objects.set('single', { etag, size: body.size });
      return { status: 200, etag, checksum: actual };
    },
  };
  return cloud;
}

function uploaderFor(cloud, options = {}) {
  const delays = [];
  const hashes = [];
  const uploader = new Uploader({
    api: cloud, put: (args) => cloud.put(args), hash: (blob) => { hashes.push(blob.size); return sha256Base64(blob); },
    sleep: async (ms) => { delays.push(ms); }, random: () => 0.5, ...options,
  });
  return { uploader, delays, hashes };
}

function settled(uploader, upload, states = ['done', 'failed', 'session', 'cancelled', 'paused']) {
  return new Promise((resolve) => {
    const check = () => (states.includes(upload.state) ? resolve(upload.state) : setTimeout(check, 2));
    check();
  });
}

test('a multipart upload sends every part once, each with its checksum, and completes in order', async () => {
  const cloud = fakeCloud();
  const pending = new PendingUploads(memoryStorage(), 'sub-1');
  const seen = [];
  const { uploader } = uploaderFor(cloud, { pending, onChange: (u) => seen.push(u.state) });
  const file = fileOf(12 * MiB + 7);
  const upload = uploader.add(file);
  assert.equal(await settled(uploader, upload), 'done');
  assert.deepEqual(cloud.puts.sort(), [1, 2, 3]);
  assert.deepEqual(cloud.completed.parts.map((p) => p.partNumber), [1, 2, 3]);
  for (const part of cloud.completed.parts) {
    const range = [(part.partNumber - 1) * PART, Math.min(file.size, part.partNumber * PART)];
    assert.equal(part.checksumSHA256, await digest(file.slice(...range)));
    assert.equal(part.etag, cloud.parts.get(part.partNumber).etag);
  }
  assert.deepEqual(cloud.calls.find(([name]) => name === 'createMultipart')[1],
    { fileName: 'clip.mov', contentType: 'video/quicktime', size: 12 * MiB + 7 });
  assert.ok(seen.includes('completing'));
  assert.deepEqual(pending.list(), [], 'the record goes once the upload is complete');
  assert.equal(uploader.progress().fraction, 1);
});

test('a small file goes in one PUT carrying the whole file\'s SHA-256', async () => {
  const cloud = fakeCloud();
  const { uploader } = uploaderFor(cloud);
  const file = fileOf(1000, 'tiny.webm');
  const upload = uploader.add(file);
  assert.equal(await settled(uploader, upload), 'done');
  const [, body] = cloud.calls.find(([name]) => name === 'createUploadUrl');
  assert.deepEqual(body, { fileName: 'tiny.webm', contentType: 'video/webm', size: 1000, checksumSHA256: await digest(file) });
  assert.deepEqual(cloud.puts, [1]);
});

test('a part the store refuses as corrupt is read, hashed, signed and sent again', async () => {
  const cloud = fakeCloud();
  const { uploader, hashes } = uploaderFor(cloud, { concurrency: 1 });
  cloud.failures.push(undefined, { status: 400, code: 'BadDigest', message: 'no' });
  const upload = uploader.add(fileOf(11 * MiB));
  assert.equal(await settled(uploader, upload), 'done');
  assert.deepEqual(cloud.puts, [1, 2, 2, 3]);
  assert.equal(hashes.filter((size) => size === PART).length, 3, 'part 1 hashed once, part 2 twice');
  assert.equal(cloud.calls.filter(([name]) => name === 'presignParts').length, 4);
});

test('an expired URL is signed again without hashing again; network errors and 503s back off with jitter', async () => {
  const cloud = fakeCloud();
  const { uploader, delays, hashes } = uploaderFor(cloud, { concurrency: 1 });
  cloud.failures.push({ status: 403, code: 'AccessDenied', message: 'Request has expired' }, { network: true, status: 0 },
    { status: 503, code: 'SlowDown' });
  const upload = uploader.add(fileOf(6 * MiB));
  assert.equal(await settled(uploader, upload), 'done');
  assert.deepEqual(cloud.puts, [1, 1, 1, 1, 2]);
  assert.deepEqual(delays, [0.5 * 500 * 2 ** 1, 0.5 * 500 * 2 ** 2], 'full jitter, growing with the attempt');
  assert.equal(hashes.filter((size) => size === PART).length, 1, 'part 1 hashed once');
});

test('failures past the budget stop the file with a reason; retrying continues it', async () => {
  const cloud = fakeCloud();
  const { uploader } = uploaderFor(cloud, { concurrency: 1, maxAttempts: 3 });
  cloud.failures.push({ network: true, status: 0 }, { network: true, status: 0 }, { network: true, status: 0 });
  const upload = uploader.add(fileOf(6 * MiB));
  assert.equal(await settled(uploader, upload), 'failed');
  assert.equal(upload.error.key, 'network');
  uploader.retry(upload);
  assert.equal(await settled(uploader, upload, ['done', 'failed']), 'done');
});

test('a store whose CORS hides ETag fails visibly', async () => {
  const cloud = fakeCloud();
  const { uploader } = uploaderFor(cloud);
  cloud.put = async () => ({ status: 200, etag: null });
  const upload = uploader.add(fileOf(6 * MiB));
  assert.equal(await settled(uploader, upload), 'failed');
  assert.equal(upload.error.key, 'etagHidden');
});

test('resuming sends only the parts the store does not hold, and refuses another file', async () => {
  const cloud = fakeCloud();
  const storage = memoryStorage();
  const pending = new PendingUploads(storage, 'sub-1');
  const file = fileOf(16 * MiB);
  // A first visit sends parts 1 and 2, then the page goes away.
  let sent = 0;
  const cutOff = (args) => { sent += 1; return sent > 2 ? new Promise(() => {}) : cloud.put(args); };
  const first = uploaderFor(cloud, { pending, concurrency: 1, put: cutOff });
  first.uploader.add(file);
  await new Promise((resolve) => { const check = () => (cloud.parts.size === 2 ? resolve() : setTimeout(check, 2)); check(); });
  const [record] = pending.list();
  assert.equal(record.size, file.size);
  assert.equal(record.firstPartSHA256, await digest(file.slice(0, PART)));
  assert.ok(!JSON.stringify(record).toLowerCase().includes('token'));

  const again = uploaderFor(cloud, { pending });
  await assert.rejects(again.uploader.resumeFrom(record, fileOf(16 * MiB, 'clip.mov', 9)), (e) => e instanceof UploadError && e.key === 'notSameFile');
  cloud.puts.length = 0;
  const upload = await again.uploader.resumeFrom(record, file);
  assert.equal(await settled(again.uploader, upload), 'done');
  assert.deepEqual(cloud.puts.sort(), [3, 4], JSON.stringify(cloud.calls.slice(-6)));
  assert.deepEqual(cloud.completed.parts.map((p) => p.partNumber), [1, 2, 3, 4]);
  assert.deepEqual(pending.list(), []);
});

test('cancel aborts the multipart upload and forgets it', async () => {
  const cloud = fakeCloud();
  const pending = new PendingUploads(memoryStorage(), 'sub-1');
  const { uploader } = uploaderFor(cloud, { pending });
  cloud.put = () => new Promise(() => {});
  const upload = uploader.add(fileOf(11 * MiB));
  await new Promise((resolve) => { const check = () => (pending.list().length ? resolve() : setTimeout(check, 2)); check(); });
  await uploader.cancel(upload);
  assert.equal(upload.state, 'cancelled');
  assert.ok(cloud.aborted);
  assert.deepEqual(pending.list(), []);
  assert.equal(uploader.busy, false);
});

test('pause stops sending; resume goes on from the parts already stored', async () => {
  const cloud = fakeCloud();
  const { uploader } = uploaderFor(cloud, { concurrency: 1 });
  const realPut = cloud.put;
  let gate;
  cloud.put = async (args) => {
    if (cloud.parts.size === 1 && !gate) {
      gate = true;
      return new Promise((resolve, reject) => args.signal.addEventListener('abort', () => reject(new DOMException('x', 'AbortError'))));
    }
    return realPut(args);
  };
  const upload = uploader.add(fileOf(11 * MiB));
  await new Promise((resolve) => { const check = () => (gate ? resolve() : setTimeout(check, 2)); check(); });
  uploader.pause(upload);
  assert.equal(upload.state, 'paused');
  uploader.resume(upload);
  assert.equal(await settled(uploader, upload, ['done', 'failed']), 'done');
  assert.deepEqual(cloud.puts.sort(), [1, 2, 3], 'part 2 sent after the pause; part 1 not again');
});

test('when the session ends the upload waits, and goes on after signing in again', async () => {
  const cloud = fakeCloud();
  let lost = 0;
  const { uploader } = uploaderFor(cloud, { concurrency: 1, onSessionLost: () => { lost += 1; } });
  cloud.sessionGone = true;
  const upload = uploader.add(fileOf(6 * MiB));
  assert.equal(await settled(uploader, upload), 'session');
  assert.equal(lost, 1);
  assert.equal(upload.error.key, 'session');
  cloud.sessionGone = false;
  uploader.resumeAfterSignIn();
  assert.equal(await settled(uploader, upload, ['done', 'failed']), 'done');
});

test('a finished upload cannot be cancelled: its video is kept', async () => {
  const cloud = fakeCloud();
  const { uploader } = uploaderFor(cloud);
  const upload = uploader.add(fileOf(1000, 'tiny.webm'));
  assert.equal(await settled(uploader, upload), 'done');
  assert.equal(await uploader.cancel(upload), false);
  assert.equal(upload.state, 'done');
  assert.ok(!cloud.calls.some(([name]) => name === 'delete' || name === 'abort'), JSON.stringify(cloud.calls));
});

test('an upload waiting for the session goes on only once the user signs in again', async () => {
  const cloud = fakeCloud();
  const { uploader } = uploaderFor(cloud, { concurrency: 1 });
  cloud.sessionGone = true;
  const upload = uploader.add(fileOf(6 * MiB));
  assert.equal(await settled(uploader, upload), 'session');
  cloud.sessionGone = false;
  uploader.resume(upload);
  uploader.retry(upload);
  uploader.pause(upload);
  assert.equal(upload.state, 'session');
  uploader.resumeAfterSignIn();
  assert.equal(await settled(uploader, upload, ['done', 'failed']), 'done');
});

test('a remembered upload is not resumed with a renamed copy of its file', async () => {
  const cloud = fakeCloud();
  const pending = new PendingUploads(memoryStorage(), 'sub-1');
  const file = fileOf(16 * MiB);
  const { uploader, hashes } = uploaderFor(cloud, { pending });
  const record = { videoId: 'v1', key: 'k', uploadId: 'up-1', fileName: file.name, size: file.size, lastModified: file.lastModified,
    contentType: 'video/quicktime', partSize: PART, firstPartSHA256: await digest(file.slice(0, PART)), startedAt: '2024-03-05T14:07:00.000Z' };
  const renamed = new File([file], 'copy.mov', { lastModified: file.lastModified });
  await assert.rejects(uploader.resumeFrom(record, renamed), (e) => e instanceof UploadError && e.key === 'notSameFile');
  assert.deepEqual(hashes, [], 'refused before reading it');
  assert.deepEqual(uploader.uploads, []);
});

test('an upload the API refuses over a limit stops at once with the refusal\'s details, and is not tried again', async () => {
  const limit = { limit: 'storedBytes', allowed: 200e9, used: 198e9, requested: 12 * MiB };
  for (const [size, call] of [[12 * MiB, 'createMultipart'], [1000, 'createUploadUrl']]) {
    const cloud = fakeCloud();
    cloud.refusal = new ApiError(403, 'LimitExceeded', 'This upload would exceed your storage limit.', { limit });
    const { uploader, delays } = uploaderFor(cloud);
    const upload = uploader.add(fileOf(size));
    assert.equal(await settled(uploader, upload), 'failed');
    assert.ok(upload.error instanceof UploadError);
    assert.equal(upload.error.key, 'limit');
    assert.deepEqual(upload.error.limit, limit);
    assert.equal(cloud.calls.filter(([name]) => name === call).length, 1, 'asked once');
    assert.deepEqual(delays, [], 'no backoff');
    assert.deepEqual(cloud.puts, [], 'not a byte sent');
    uploader.retry(upload);
    assert.equal(upload.state, 'failed', 'no retry offered: the same file would be refused again');
    assert.equal(cloud.calls.filter(([name]) => name === call).length, 1);
  }
});

test('a multipart upload refused over a limit when it completes stops with the details, and can be cancelled', async () => {
  const limit = { limit: 'storedBytes', allowed: 2 ** 30, used: 2 ** 30 - MiB, requested: 11 * MiB };
  const cloud = fakeCloud();
  cloud.completeRefusal = new ApiError(403, 'LimitExceeded', 'This upload would take your library past its storage limit.', { limit });
  const { uploader } = uploaderFor(cloud);
  const upload = uploader.add(fileOf(11 * MiB));
  assert.equal(await settled(uploader, upload), 'failed');
  assert.equal(upload.error.key, 'limit');
  assert.deepEqual(upload.error.limit, limit);
  assert.equal(cloud.calls.filter(([name]) => name === 'complete').length, 1, 'asked once');
  assert.equal(await uploader.cancel(upload), true, 'what reached the server can be removed');
  assert.ok(cloud.aborted);
});

test('empty files and files over 5 TiB are refused before a byte is sent', () => {
  const cloud = fakeCloud();
  const { uploader } = uploaderFor(cloud);
  const huge = { name: 'huge.mkv', size: 5 * TiB + 1, type: 'video/x-matroska', lastModified: 0, slice() { throw new Error('read'); } };
  assert.equal(uploader.add(huge).error.key, 'tooLarge');
  assert.equal(uploader.add(fileOf(0, 'empty.mp4')).error.key, 'empty');
  assert.deepEqual(cloud.calls, []);
});

test('a media type the API takes, for any file', () => {
  assert.equal(contentTypeOf({ name: 'a.MKV', type: '' }), 'video/x-matroska');
  assert.equal(contentTypeOf({ name: 'a.mp4', type: 'video/mp4' }), 'video/mp4');
  assert.equal(contentTypeOf({ name: 'notes.txt', type: 'text/plain' }), 'video/x-unknown');
});
