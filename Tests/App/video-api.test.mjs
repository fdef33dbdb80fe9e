// The video API client: calls go to the base URL with JSON bodies; only the media session calls
// let cookies through (their answer sets them), every other call sends and stores none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VideoApi, ApiError } from '../../assets/js/upload/api.js';

function recording(answers) {
  const calls = [];
  const fetchAPI = async (url, init) => {
    calls.push({ url, init });
    const [status, body] = answers.shift();
    return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  };
  return { calls, api: new VideoApi({ fetchAPI, baseUrl: '/api/' }) };
}

test('the media session calls ask for cookies; the others do not', async () => {
  const { calls, api } = recording([[200, { mediaPath: '/media/videos/s/', expiresAt: 'x', expiresIn: 60 }], [204], [200, { videos: [] }]]);
  assert.equal((await api.openMediaSession()).mediaPath, '/media/videos/s/');
  assert.equal(await api.closeMediaSession(), null);
  assert.deepEqual(await api.listVideos(), []);
  assert.deepEqual(calls.map((c) => [c.init.method, c.url, c.init.credentials]),
    [['POST', '/api/session', 'same-origin'], ['DELETE', '/api/session', 'same-origin'], ['GET', '/api/videos', undefined]]);
});

test('a refused session call is an ApiError with the contract code', async () => {
  const { api } = recording([[401, { error: { code: 'Unauthorized', message: 'Please sign in.' } }]]);
  await assert.rejects(api.openMediaSession(), (error) => error instanceof ApiError && error.status === 401 && error.code === 'Unauthorized');
});
