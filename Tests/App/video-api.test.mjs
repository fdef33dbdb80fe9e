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

test('a refusal over a limit carries which limit and by how much, in either body shape', async () => {
  const details = { limit: 'videos', allowed: 1000, used: 1000, requested: 1 };
  const { calls, api } = recording([
    [403, { error: 'This upload would exceed your limit of 1000 videos.', code: 'LimitExceeded', ...details }],
    [403, { error: { code: 'LimitExceeded', message: 'Over the limit.', ...details } }],
    [403, { error: { code: 'Forbidden', message: 'No.' } }],
  ]);
  await assert.rejects(api.createMultipart({ fileName: 'a.mov', contentType: 'video/quicktime', size: 1 }), (error) =>
    error instanceof ApiError && error.status === 403 && error.code === 'LimitExceeded'
    && error.message === 'This upload would exceed your limit of 1000 videos.' && assert.deepEqual(error.limit, details) === undefined);
  await assert.rejects(api.createUploadUrl({ fileName: 'a.mov', contentType: 'video/quicktime', size: 1, checksumSHA256: 'x' }), (error) =>
    error.code === 'LimitExceeded' && error.message === 'Over the limit.' && assert.deepEqual(error.limit, details) === undefined);
  await assert.rejects(api.complete({ key: 'k', uploadId: 'u', parts: [] }), (error) => error.code === 'Forbidden' && error.limit === null);
  assert.deepEqual(calls.map((c) => [c.init.method, c.url]), [['POST', '/api/videos/multipart'], ['POST', '/api/videos/upload-url'], ['POST', '/api/videos/multipart/complete']]);
});

test('the usage is the caller\'s own, from GET /videos/usage', async () => {
  const body = { usage: { storedBytes: 1, videos: 1, convertedMinutes: 0, month: '2026-12' }, limits: { storedBytes: 2, videos: 2, fileBytes: 2, convertedMinutesPerMonth: 2 } };
  const { calls, api } = recording([[200, body]]);
  assert.deepEqual(await api.usage(), body);
  assert.deepEqual(calls.map((c) => [c.init.method, c.url, c.init.credentials]), [['GET', '/api/videos/usage', undefined]]);
});

test('an error whose body is not JSON (the site\'s 404 page, as CloudFront answers a 404 under /api) is no message to show', async () => {
  const page = '<!DOCTYPE html><html lang="en"><head><title>Page not found</title></head><body><h1>Not found</h1></body></html>';
  const fetchAPI = async () => new Response(page, { status: 404, headers: { 'Content-Type': 'text/html' } });
  const api = new VideoApi({ fetchAPI, baseUrl: '/api/' });
  await assert.rejects(api.listParts({ key: 'k', uploadId: 'u' }), (error) =>
    error instanceof ApiError && error.status === 404 && error.code === 'HTTP404' && error.message === 'HTTP 404');
});
