import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, backoffDelay, shouldRetry } from '../../assets/js/upload/retry.js';

const ALMOST_ONE = 1 - Number.EPSILON;

test('failures are classified by what sending again would take', () => {
  const table = [
    [{ network: true }, 'retry'],
    [{ network: true, status: 0 }, 'retry'],
    [{ status: 0, code: 'NetworkError' }, 'retry'],
    [{ status: 408 }, 'retry'],
    [{ status: 429, code: 'TooManyRequests' }, 'retry'],
    [{ status: 500 }, 'retry'],
    [{ status: 500, code: 'InternalError' }, 'retry'],
    [{ status: 502 }, 'retry'],
    [{ status: 503, code: 'SlowDown' }, 'retry'],
    [{ status: 504 }, 'retry'],
    [{ status: 400, code: 'RequestTimeout' }, 'retry'],
    [{ status: 403, code: 'AccessDenied', message: 'Request has expired' }, 'resign'],
    [{ status: 403, code: 'AccessDenied', message: 'Request has Expired' }, 'resign'],
    [{ status: 400, code: 'ExpiredToken' }, 'resign'],
    [{ status: 403, code: 'RequestExpired' }, 'resign'],
    [{ status: 400, code: 'BadDigest' }, 'resend'],
    [{ status: 400, code: 'XAmzContentSHA256Mismatch' }, 'resend'],
    [{ status: 400, code: 'IncompleteBody' }, 'resend'],
    [{ status: 401 }, 'auth'],
    [{ status: 401, code: 'Unauthorized' }, 'auth'],
    [{ status: 403, code: 'AccessDenied' }, 'fatal'],
    [{ status: 403, code: 'AccessDenied', message: 'Access Denied' }, 'fatal'],
    [{ status: 403, code: 'SignatureDoesNotMatch' }, 'fatal'],
    [{ status: 400, code: 'InvalidPart' }, 'fatal'],
    [{ status: 404, code: 'NoSuchUpload' }, 'fatal'],
    [{ status: 409, code: 'Conflict' }, 'fatal'],
    [{ status: 413, code: 'PayloadTooLarge' }, 'fatal'],
    [{ status: 403, code: 'LimitExceeded', message: 'This upload would exceed your storage limit.' }, 'fatal'],
    [{ status: 429, code: 'LimitExceeded' }, 'fatal'],
    [{ status: 400 }, 'fatal'],
    [{ status: 501 }, 'fatal'],
    [{}, 'fatal'],
  ];
  for (const [failure, kind] of table) assert.equal(classify(failure), kind, JSON.stringify(failure));
});

test('the delay is a random share of the window: 0 with random 0, just under the window with random near 1', () => {
  assert.equal(backoffDelay(0, { random: () => 0 }), 0);
  assert.equal(backoffDelay(5, { random: () => 0 }), 0);
  const top = backoffDelay(0, { random: () => ALMOST_ONE });
  assert.ok(top < 500 && top > 499.9, `${top}`);
  assert.equal(backoffDelay(0, { random: () => 0.5 }), 250);
});

test('the window doubles with each attempt until the cap', () => {
  const half = { random: () => 0.5 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => backoffDelay(attempt, half)),
    [250, 500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000]);
  assert.equal(backoffDelay(100, half), 15_000, 'a huge attempt count stays at the cap');
  assert.ok(backoffDelay(100, { random: () => ALMOST_ONE }) < 30_000);
  assert.equal(backoffDelay(3, { base: 100, cap: 500, random: () => 1 }), 500);
  assert.equal(backoffDelay(2, { base: 100, cap: 10_000, random: () => 1 }), 400);
});

test('Retry-After is the least the client waits', () => {
  assert.equal(backoffDelay(0, { random: () => 0, retryAfterSeconds: 3 }), 3000);
  assert.equal(backoffDelay(0, { random: () => ALMOST_ONE, retryAfterSeconds: 2 }), 2000);
  assert.equal(backoffDelay(8, { random: () => 0.5, retryAfterSeconds: 2 }), 15_000, 'a longer jittered wait still stands');
  assert.equal(backoffDelay(0, { random: () => 0, retryAfterSeconds: 120 }), 120_000, 'even beyond the cap');
  for (const ignored of [undefined, null, 0, -5, NaN, Infinity]) {
    assert.equal(backoffDelay(1, { random: () => 0.5, retryAfterSeconds: ignored }), 500, String(ignored));
  }
});

test('a request is tried at most maxAttempts times', () => {
  assert.equal(shouldRetry(1), true);
  assert.equal(shouldRetry(7), true);
  assert.equal(shouldRetry(8), false);
  assert.equal(shouldRetry(2, { maxAttempts: 3 }), true);
  assert.equal(shouldRetry(3, { maxAttempts: 3 }), false);
  assert.equal(shouldRetry(1, { maxAttempts: 1 }), false);
});
