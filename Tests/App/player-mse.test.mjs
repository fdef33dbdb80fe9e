// The MSE player's edges that need no browser: which MediaSource class, the SourceBuffer types a
// variant needs, which variants this window can play, downloads (Range, cookies, status) and retries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mediaSourceClass, mimeTypes, playableVariants } from '../../assets/js/player/support.js';
import { download, retrying, StreamError, MAX_TRIES } from '../../assets/js/player/download.js';

const variant = (height, codecs, audioGroup = 'audio') => ({ uri: `https://x/${height}.m3u8`, bandwidth: height * 1000, height, codecs, audioGroup });
const master = {
  variants: [variant(360, ['avc1.4d401f', 'mp4a.40.2']), variant(1080, ['avc1.640028', 'mp4a.40.2']), { ...variant(0, ['mp4a.40.2']), height: null }],
  audio: [{ groupId: 'audio', name: 'Audio', uri: 'https://x/index_audio.m3u8', isDefault: true, language: null }],
};

test('MediaSource first, ManagedMediaSource where it is all there is (iOS), null without either', () => {
  class MS {}
  class MMS {}
  assert.equal(mediaSourceClass({ MediaSource: MS, ManagedMediaSource: MMS }), MS);
  assert.equal(mediaSourceClass({ ManagedMediaSource: MMS }), MMS);
  assert.equal(mediaSourceClass({}), null);
});

test('SourceBuffer types: video alone and audio apart with an audio group; muxed without', () => {
  assert.deepEqual(mimeTypes(master.variants[0], true), { video: 'video/mp4; codecs="avc1.4d401f"', audio: 'audio/mp4; codecs="mp4a.40.2"' });
  assert.deepEqual(mimeTypes(master.variants[0], false), { video: 'video/mp4; codecs="avc1.4d401f,mp4a.40.2"', audio: null });
  assert.deepEqual(mimeTypes(variant(360, ['avc1.4d401f'], null), false), { video: 'video/mp4; codecs="avc1.4d401f"', audio: null });
});

test('playable variants: those with a picture whose codecs the MediaSource takes', () => {
  const asked = [];
  const win = { MediaSource: { isTypeSupported: (type) => { asked.push(type); return !type.includes('640028'); } } };
  assert.deepEqual(playableVariants(master, win).map((v) => v.height), [360]);
  assert.ok(asked.includes('audio/mp4; codecs="mp4a.40.2"'));
  assert.deepEqual(playableVariants(master, {}), [], 'no MediaSource: nothing');
});

function fakeFetch(status, body, seen) {
  return async (url, init) => {
    seen.push({ url, init });
    return { ok: status >= 200 && status < 300, status, arrayBuffer: async () => body.buffer };
  };
}

test('a byte range is asked for with Range and the page\'s cookies, and timed', async () => {
  const seen = [];
  let clock = 1000;
  const now = () => { clock += 250; return clock; };
  const { bytes, seconds } = await download(fakeFetch(206, new Uint8Array(10), seen), 'https://x/v.cmfv', { offset: 846, length: 10 }, undefined, now);
  assert.equal(bytes.length, 10);
  assert.equal(seconds, 0.25);
  assert.deepEqual(seen[0].init.headers, { Range: 'bytes=846-855' });
  assert.equal(seen[0].init.credentials, 'same-origin');
});

test('a server that ignores Range: the asked-for part is cut from the whole file', async () => {
  const whole = Uint8Array.from({ length: 100 }, (_, i) => i);
  const { bytes } = await download(fakeFetch(200, whole, []), 'https://x/v', { offset: 20, length: 5 }, undefined, () => 0);
  assert.deepEqual([...bytes], [20, 21, 22, 23, 24]);
});

test('refusals carry their status (403: the cookies ran out); no answer is status 0', async () => {
  await assert.rejects(download(fakeFetch(403, new Uint8Array(), []), 'https://x/v', null, undefined, () => 0),
    (error) => error instanceof StreamError && error.status === 403 && /answered 403/.test(error.message));
  const offline = async () => { throw new TypeError('Failed to fetch'); };
  await assert.rejects(download(offline, 'https://x/v', null, undefined, () => 0), (error) => error instanceof StreamError && error.status === 0);
  const aborted = async () => { throw new DOMException('stop', 'AbortError'); };
  await assert.rejects(download(aborted, 'https://x/v', null, undefined, () => 0), { name: 'AbortError' });
});

test('retries: a 404 renews the media session once (a distribution mapping 403 to its 404 page answers an expired cookie so), then is final', async () => {
  let renewals = 0;
  let calls = 0;
  const renew = async () => { renewals += 1; return true; };
  const result = await retrying(async () => {
    calls += 1;
    if (calls === 1) throw new StreamError('not found page', { status: 404 });
    return 'bytes';
  }, { renew });
  assert.deepEqual([result, calls, renewals], ['bytes', 2, 1]);
  calls = 0;
  renewals = 0;
  await assert.rejects(retrying(async () => { calls += 1; throw new StreamError('gone', { status: 404 }); }, { renew }), { status: 404 });
  assert.deepEqual([calls, renewals], [2, 1], 'missing after a renewal: missing');
  calls = 0;
  await assert.rejects(retrying(async () => { calls += 1; throw new StreamError('gone', { status: 404 }); }), { status: 404 });
  assert.equal(calls, 1, 'no session to renew: at once');
  calls = 0;
  await assert.rejects(retrying(async () => { calls += 1; throw new StreamError('gone', { status: 410 }); }, { renew }), { status: 410 });
  assert.equal(calls, 1);
});

test('retries: a 403 renews the media session before trying again', async () => {
  let renewals = 0;
  let calls = 0;
  const result = await retrying(async () => {
    calls += 1;
    if (calls === 1) throw new StreamError('refused', { status: 403 });
    return 'bytes';
  }, { renew: async () => { renewals += 1; return true; } });
  assert.deepEqual([result, calls, renewals], ['bytes', 2, 1]);
});

test('retries: at most MAX_TRIES; an abort or a stopped player ends them at once', async () => {
  let calls = 0;
  await assert.rejects(retrying(async () => { calls += 1; throw new StreamError('refused', { status: 403 }); }), { status: 403 });
  assert.equal(calls, MAX_TRIES);
  calls = 0;
  await assert.rejects(retrying(async () => { calls += 1; throw new DOMException('seek', 'AbortError'); }), { name: 'AbortError' });
  await assert.rejects(retrying(async () => { calls += 1; throw new StreamError('x', { status: 503 }); }, { stopped: () => true }), { status: 503 });
  assert.equal(calls, 2);
});
