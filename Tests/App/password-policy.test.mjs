import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPassword, passwordAccepted } from '../../assets/js/cognito/password-policy.js';

const met = (password) => Object.fromEntries(checkPassword(password).map(({ id, met }) => [id, met]));

test('each rule ticks on its own', () => {
  assert.deepEqual(met(''), { length: false, lowercase: false, uppercase: false, number: false, symbol: false, spaces: true });
  assert.equal(met('abcdefgh').length, true);
  assert.equal(met('a').lowercase, true);
  assert.equal(met('A').uppercase, true);
  assert.equal(met('7').number, true);
  assert.equal(met('^').symbol, true);
  assert.equal(met('a b').symbol, true, 'an inner space counts as a symbol, as Cognito counts it');
  assert.equal(met(' ab').spaces, false);
});

test('what Cognito accepts, and what it refuses', () => {
  assert.equal(passwordAccepted('Correct-Horse-9'), true);
  assert.equal(passwordAccepted('correct-horse-9'), false);
  assert.equal(passwordAccepted('Correct-Horse'), false);
  assert.equal(passwordAccepted('CorrectHorse9'), false);
  assert.equal(passwordAccepted('Cor-9'), false);
  assert.equal(passwordAccepted(' Correct-Horse-9'), false);
  assert.equal(passwordAccepted('Aa1!' + 'x'.repeat(253)), false, 'over 256 characters');
});
