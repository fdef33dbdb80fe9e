// transport.put's watchdog: a PUT that hangs without failing is given up and reported as a network
// failure (which the retry policy sends again), while one that keeps moving bytes is left alone.
// A hung connection cannot be provoked on demand in a browser, so a minimal XMLHttpRequest stands in.
import test from 'node:test';
import assert from 'node:assert/strict';
import { put } from '../../assets/js/upload/transport.js';
import { classify } from '../../assets/js/upload/retry.js';

class HangingRequest {
  static last = null;
  constructor() { this.upload = {}; this.status = 0; HangingRequest.last = this; }
  open() {}
  setRequestHeader() {}
  getResponseHeader() { return null; }
  send() {}
  abort() { this.onabort?.(); this.onloadend?.(); }
  finish(status = 200) { this.status = status; this.onload?.(); this.onloadend?.(); }
}

test.beforeEach(() => { globalThis.XMLHttpRequest = HangingRequest; });
test.afterEach(() => { delete globalThis.XMLHttpRequest; });

const wait = (ms) => new Promise((done) => setTimeout(done, ms));

test('a PUT with no progress for the stall time resolves as a network failure to retry', async () => {
  const result = await put({ url: '/part', body: 'x', stallMs: 30 });
  assert.deepEqual(result, { network: true, status: 0, stalled: true });
  assert.equal(classify(result), 'retry');
});

test('progress events keep a slow PUT alive past the stall time', async () => {
  const sending = put({ url: '/part', body: 'x', stallMs: 40 });
  const request = HangingRequest.last;
  for (let i = 0; i < 5; i += 1) {
    await wait(20);
    request.upload.onprogress({ loaded: i });
  }
  request.finish(200);
  assert.equal((await sending).status, 200);
});

test('an abort by the user still rejects, and a finished PUT leaves no timer behind', async () => {
  const controller = new AbortController();
  const sending = put({ url: '/part', body: 'x', signal: controller.signal, stallMs: 10_000 });
  controller.abort();
  await assert.rejects(sending, { name: 'AbortError' });
  const done = put({ url: '/part', body: 'x', stallMs: 10_000 });
  HangingRequest.last.finish(200);
  assert.equal((await done).status, 200); // node would keep running for 10 s if the timer were left
});
