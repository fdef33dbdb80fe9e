// Part checksums: base64 SHA-256 equal to node's, from reused buffers, never more parts in memory than
// asked; computed by the worker, which the page talks to by messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PartHasher, sha256Base64, serve } from '../../assets/js/upload/hash-worker.js';
import { WorkerHasher, importMapIntegrity } from '../../assets/js/upload/hash.js';

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

/** A worker in this thread: what the page posts reaches `serve`'s scope, and what it posts back reaches the page. */
function inThreadWorker(hasher) {
  const page = new EventTarget();
  const scope = new EventTarget();
  page.postMessage = (data) => queueMicrotask(() => scope.dispatchEvent(new MessageEvent('message', { data })));
  scope.postMessage = (data) => queueMicrotask(() => page.dispatchEvent(new MessageEvent('message', { data })));
  page.terminated = false;
  page.terminate = () => { page.terminated = true; };
  serve(scope, hasher);
  return page;
}

test('the page hands blobs to the worker and gets each checksum back, whatever order they finish in', async () => {
  const started = [];
  const hasher = new WorkerHasher({ url: '/assets/js/upload/hash-worker.0123abcd.js', start: (url) => { started.push(url); return inThreadWorker(new PartHasher({ buffers: 2 })); } });
  const blobs = Array.from({ length: 5 }, (_, i) => blobOf(40_000 * (5 - i), i));
  assert.deepEqual(await Promise.all(blobs.map((b) => hasher.hash(b))), await Promise.all(blobs.map(expected)));
  assert.deepEqual(started, ['/assets/js/upload/hash-worker.0123abcd.js'], 'one worker for every call');
  assert.equal(hasher.calls.size, 0);
});

test('a blob the worker cannot read fails that call only', async () => {
  const hasher = new WorkerHasher({ url: 'w.js', start: () => inThreadWorker(new PartHasher({ buffers: 1 })) });
  const unreadable = { size: 10, stream: () => new ReadableStream({ pull: (c) => c.error(new Error('NotReadableError: the file changed')) }) };
  const good = blobOf(1000, 9);
  const [bad, ok] = await Promise.allSettled([hasher.hash(unreadable), hasher.hash(good)]);
  assert.match(bad.reason.message, /hashing failed: .*the file changed/);
  assert.equal(ok.value, await expected(good), 'the one buffer came back after the failure');
});

test('a worker that dies fails what it held, and the next call starts a new one', async () => {
  const workers = [];
  const hasher = new WorkerHasher({ url: 'w.js', start: () => {
    const silent = new EventTarget(); // takes messages and never answers
    silent.postMessage = () => {};
    silent.terminate = () => { silent.terminated = true; };
    workers.push(silent);
    return workers.length === 1 ? silent : inThreadWorker(new PartHasher());
  } });
  const held = hasher.hash(blobOf(10, 1));
  await new Promise((resolve) => setTimeout(resolve, 1)); // started and holding the call
  workers[0].dispatchEvent(Object.assign(new Event('error'), { message: 'SyntaxError' }));
  await assert.rejects(held, /worker failed: SyntaxError/);
  assert.equal(workers[0].terminated, true);
  assert.equal(await hasher.hash(blobOf(10, 1)), await expected(blobOf(10, 1)));
  assert.equal(workers.length, 2);
});

test('the worker starts only once its script matched the import map\'s integrity', async () => {
  const checked = [];
  let started = 0;
  let good = false;
  const hasher = new WorkerHasher({
    url: '/assets/js/upload/hash-worker.1.js', integrity: 'sha384-abc',
    check: async (url, integrity) => { checked.push([url, integrity]); if (!good) throw new TypeError('Failed to fetch'); },
    start: () => { started += 1; return inThreadWorker(new PartHasher()); },
  });
  await assert.rejects(hasher.hash(blobOf(10, 2)), /does not match its integrity sha384-abc, so it was not started/);
  assert.equal(started, 0);
  good = true;
  assert.equal(await hasher.hash(blobOf(10, 2)), await expected(blobOf(10, 2)), 'the next call checks again');
  await hasher.hash(blobOf(20, 2));
  assert.deepEqual(checked, [['/assets/js/upload/hash-worker.1.js', 'sha384-abc'], ['/assets/js/upload/hash-worker.1.js', 'sha384-abc']]);
  assert.equal(started, 1, 'one check per worker started');
});

test('the integrity comes from the page\'s import map, keyed by the fingerprinted path', () => {
  const map = { textContent: JSON.stringify({ imports: {}, integrity: { '/assets/js/upload/hash-worker.1.js': 'sha384-xyz' } }) };
  const doc = { baseURI: 'https://video.example/upload/', querySelector: () => map };
  assert.equal(importMapIntegrity('https://video.example/assets/js/upload/hash-worker.1.js', doc), 'sha384-xyz');
  assert.equal(importMapIntegrity('https://video.example/assets/js/other.js', doc), null);
  assert.equal(importMapIntegrity('/x.js', { baseURI: 'https://v.example/', querySelector: () => null }), null);
  assert.equal(importMapIntegrity('/x.js', undefined), null);
});

test('a worker that answers nothing is stopped after the timeout; its calls fail and the next call starts a new one', async () => {
  const workers = [];
  const hasher = new WorkerHasher({ url: 'w.js', timeoutMs: 20, start: () => {
    const stuck = new EventTarget(); // a read that never ends: no answer, no error
    stuck.postMessage = () => {};
    stuck.terminate = () => { stuck.terminated = true; };
    workers.push(stuck);
    return workers.length === 1 ? stuck : inThreadWorker(new PartHasher());
  } });
  await assert.rejects(hasher.hash(blobOf(10, 3)), /answered nothing for 0.02 s/);
  assert.equal(workers[0].terminated, true);
  assert.equal(await hasher.hash(blobOf(10, 3)), await expected(blobOf(10, 3)));
});

test('under Trusted Types the worker URL passes a policy that takes that URL only', async () => {
  const { scriptURLFor } = await import('../../assets/js/upload/hash.js');
  const made = [];
  const types = { createPolicy: (name, rules) => { made.push(name); return { createScriptURL: (v) => ({ trusted: rules.createScriptURL(v) }) }; } };
  assert.deepEqual(scriptURLFor('/assets/js/upload/hash-worker.1.js', types), { trusted: '/assets/js/upload/hash-worker.1.js' });
  assert.throws(() => scriptURLFor('https://evil.example/w.js', types), /not the upload hashing worker/);
  assert.deepEqual(made, ['upload-worker'], 'one policy, made once');
  assert.equal(scriptURLFor('/w.js', undefined), '/w.js', 'without Trusted Types, the URL as it is');
});
