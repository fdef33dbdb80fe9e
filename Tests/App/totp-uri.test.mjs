import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totpURI, groupSecret, normaliseCode } from '../../assets/js/cognito/totp-uri.js';

test('the URI names the issuer, the account and the secret', () => {
  assert.equal(totpURI({ account: 'ana@example.com', secret: 'JBSWY3DPEHPK3PXP' }),
    'otpauth://totp/SStech:ana%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=SStech');
});

test('special characters in the e-mail are escaped so they cannot change the URI', () => {
  const uri = totpURI({ account: 'a+b&c=d?e#f:g/h %"<x>"@example.com', secret: 'abcd efgh' });
  assert.equal(uri, 'otpauth://totp/SStech:a%2Bb%26c%3Dd%3Fe%23f%3Ag%2Fh%20%25%22%3Cx%3E%22%40example.com?secret=ABCDEFGH&issuer=SStech');
  const parsed = new URL(uri);
  assert.equal(parsed.searchParams.get('issuer'), 'SStech');
  assert.equal(parsed.searchParams.get('secret'), 'ABCDEFGH');
  assert.equal(parsed.hash, '');
  assert.equal(decodeURIComponent(parsed.pathname.split(':').slice(1).join(':')), 'a+b&c=d?e#f:g/h %"<x>"@example.com');
});

test('the secret reads in groups of four', () => {
  assert.equal(groupSecret('jbswy3dpehpk3pxpjbswy3dpehpk3pxp'), 'JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP');
  assert.equal(groupSecret('ABCDEF'), 'ABCD EF');
  assert.equal(groupSecret(''), '');
});

test('a code may be pasted with spaces or a dash', () => {
  assert.equal(normaliseCode('123456'), '123456');
  assert.equal(normaliseCode(' 123 456 '), '123456');
  assert.equal(normaliseCode('123-456'), '123456');
  for (const bad of ['12345', '1234567', '12a456', '', '１２３４５６']) assert.equal(normaliseCode(bad), null, bad);
});
