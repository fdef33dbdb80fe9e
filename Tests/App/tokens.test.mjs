import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readClaims, expiresAt, refreshLead, refreshDelay, isExpired } from '../../assets/js/cognito/tokens.js';

function jwt(claims) {
  const part = (object) => Buffer.from(JSON.stringify(object)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'k' })}.${part(claims)}.c2ln`;
}

test('claims are read from the payload, base64url and UTF-8 included', () => {
  const claims = { sub: 'abc', email: 'zoë+ü?>@example.com', exp: 2_000_000_000, iat: 1_999_996_400 };
  assert.deepEqual(readClaims(jwt(claims)), claims);
  assert.throws(() => readClaims('nonsense'));
});

test('expiry is in milliseconds', () => {
  assert.equal(expiresAt({ exp: 1_700_000_000 }), 1_700_000_000_000);
});

test('refresh comes a minute before expiry for an hour-long token', () => {
  const issuedAt = 1_000_000, expiry = issuedAt + 3_600_000;
  assert.equal(refreshLead(issuedAt, expiry), 60_000);
  assert.equal(refreshDelay({ issuedAt, expiry, now: issuedAt }), 3_540_000);
  assert.equal(refreshDelay({ issuedAt, expiry, now: issuedAt + 3_000_000 }), 540_000);
});

test('short-lived tokens refresh a tenth of their life early, never less than a second', () => {
  assert.equal(refreshLead(0, 20_000), 2_000);
  assert.equal(refreshDelay({ issuedAt: 0, expiry: 20_000, now: 0 }), 18_000);
  assert.equal(refreshLead(0, 5_000), 1_000);
});

test('a due or overdue refresh is immediate', () => {
  assert.equal(refreshDelay({ issuedAt: 0, expiry: 3_600_000, now: 3_590_000 }), 0);
  assert.equal(refreshDelay({ issuedAt: 0, expiry: 3_600_000, now: 9_999_999 }), 0);
});

test('a token is treated as expired shortly before it is', () => {
  assert.equal(isExpired(100_000, 90_000), false);
  assert.equal(isExpired(100_000, 95_000), true);
  assert.equal(isExpired(100_000, 120_000), true);
  assert.equal(isExpired(100_000, 99_000, 0), false);
});
