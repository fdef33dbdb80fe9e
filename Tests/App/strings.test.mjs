// Every string a script shows exists in both languages: the error mapping covers every type, and
// every literal key passed to t('…') in assets/js is a `script.*` string of each i18n file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_TYPES, CognitoError, errorKey, errorField, normaliseType } from '../../assets/js/cognito/errors.js';
import { RULES } from '../../assets/js/cognito/password-policy.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const languages = ['pt-BR', 'en'];

function flatten(object, prefix = '', out = {}) {
  for (const [key, value] of Object.entries(object)) {
    if (typeof value === 'string') out[prefix + key] = value;
    else flatten(value, `${prefix}${key}.`, out);
  }
  return out;
}
const strings = Object.fromEntries(languages.map((language) => {
  const all = flatten(JSON.parse(readFileSync(join(root, 'site/i18n', `${language}.json`), 'utf8')));
  return [language, Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('script.')).map(([k, v]) => [k.slice(7), v]))];
}));

function files(folder) {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.js') ? [path] : [];
  });
}

test('every error type has a message in both languages, and they differ', () => {
  for (const type of ERROR_TYPES) {
    const key = errorKey(Object.assign(new CognitoError(type, ''), {}));
    for (const language of languages) {
      assert.ok(strings[language][key.slice(0)], `${key} is missing in ${language}`);
    }
    assert.notEqual(strings['pt-BR'][key], strings.en[key], `${key} is not translated`);
  }
});

test('NotAuthorized is told apart by its message: wrong password, lock-out, expired session', () => {
  assert.equal(errorKey(new CognitoError('NotAuthorizedException', 'Incorrect username or password.')), 'errors.NotAuthorizedException');
  assert.equal(errorKey(new CognitoError('NotAuthorizedException', 'Password attempts exceeded')), 'errors.PasswordAttemptsExceeded');
  assert.equal(errorKey(new CognitoError('NotAuthorizedException', 'Invalid session for the user, session is expired.')), 'errors.SessionExpired');
  assert.equal(errorKey(new CognitoError('NotAuthorizedException', 'Refresh Token has expired')), 'errors.SessionExpired');
});

test('network failure and throttling are not wrong input', () => {
  assert.equal(new CognitoError('NetworkError', 'Failed to fetch').kind, 'network');
  assert.equal(new CognitoError('TooManyRequestsException', '').kind, 'throttled');
  assert.equal(new CognitoError('LimitExceededException', '').kind, 'throttled');
  assert.equal(new CognitoError('NotAuthorizedException', '').kind, 'input');
  assert.equal(new CognitoError('SomethingNew', '', { status: 503 }).kind, 'service');
  assert.equal(errorKey(new CognitoError('SomethingNew', '', { status: 503 })), 'errors.Unknown');
  assert.equal(errorKey(new Error('boom')), 'errors.Unknown');
});

test('error types are read with or without a namespace or suffix', () => {
  assert.equal(normaliseType('com.amazonaws.cognito#CodeMismatchException'), 'CodeMismatchException');
  assert.equal(normaliseType('CodeMismatchException:http://internal.amazon.com/'), 'CodeMismatchException');
  assert.equal(normaliseType(undefined), 'Unknown');
});

test('errors about a field name it', () => {
  assert.equal(errorField(new CognitoError('InvalidPasswordException', '')), 'password');
  assert.equal(errorField(new CognitoError('CodeMismatchException', '')), 'code');
  assert.equal(errorField(new CognitoError('UsernameExistsException', '')), 'email');
  assert.equal(errorField(new CognitoError('NetworkError', '')), null);
});

test('every password rule has its hint in both languages', () => {
  for (const { id } of RULES) for (const language of languages) assert.ok(strings[language][`password.${id}`], `password.${id} in ${language}`);
});

test('every key a script passes to t() exists in both languages', () => {
  const used = new Set();
  for (const file of files(join(root, 'assets/js'))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\bt\(\s*'([A-Za-z0-9_.]+)'/g)) used.add(match[1]);
    for (const match of text.matchAll(/\bkey:\s*'([A-Za-z0-9_.]+)'/g)) used.add(match[1]);
  }
  assert.ok(used.size > 20, `found only ${used.size} keys; has the t() convention changed?`);
  for (const key of used) for (const language of languages) assert.ok(strings[language][key], `t('${key}') is missing in ${language}`);
});
