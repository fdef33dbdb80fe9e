import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeNext, signInURL } from '../../assets/js/nav/next.js';

const FALLBACK = '/library/';

test('same-origin paths are kept, with their query and fragment', () => {
  for (const path of ['/library/', '/en/player/?id=abc', '/upload/#drop', '/', '/a/b/c/?x=1&y=%2F']) {
    assert.equal(safeNext(path, FALLBACK), path);
  }
});

test('other origins, schemes and tricks land on the fallback', () => {
  const hostile = [
    '//evil.example', '//evil.example/library/', 'https://evil.example/', 'http://127.0.0.1:1/',
    '/\\evil.example', '/\\/evil.example', '\\\\evil.example', 'javascript:alert(1)', 'JavaScript:alert(1)',
    ' javascript:alert(1)', 'data:text/html,hi', 'library/', '', '/\t/evil.example', '/\n/evil.example',
    '/%0a/evil.example'.replace('%0a', '\n'), '///evil.example', 'mailto:a@b.c', null, undefined, 42, '/'.repeat(3000),
  ];
  for (const value of hostile) assert.equal(safeNext(value, FALLBACK), FALLBACK, `accepted ${JSON.stringify(value)}`);
});

test('paths that become another origin once dot segments are removed land on the fallback', () => {
  const hostile = [
    '/.//evil.example', '/a/..//evil.example', '/..//evil.example/x?y#z', '/%2e//evil.example',
    '/%2E%2E//evil.example', '/x/%2e%2e//evil.example', '/a/b/../..//evil.example', '/././/evil.example',
    '/a/./.././/evil.example', '/%2e/%2e%2e//evil.example/library/', '/.//evil.example:8443/',
  ];
  for (const value of hostile) assert.equal(safeNext(value, FALLBACK), FALLBACK, `accepted ${JSON.stringify(value)}`);
});

test('dot segments that stay on this site are resolved, and the result goes back in safely', () => {
  for (const [value, resolved] of [
    ['/a/../library/', '/library/'], ['/./upload/?x=1', '/upload/?x=1'], ['/en/./player/#t', '/en/player/#t'],
    ['/a/..', '/'], ['/.%2f/evil', '/.%2f/evil'],
  ]) {
    assert.equal(safeNext(value, FALLBACK), resolved);
    assert.equal(safeNext(resolved, FALLBACK), resolved, `${resolved} is itself accepted unchanged`);
  }
});

test('encoded slashes stay part of the path, not an origin', () => {
  assert.equal(safeNext('/%2F%2Fevil.example', FALLBACK), '/%2F%2Fevil.example');
});

test('the sign-in URL carries the path encoded', () => {
  assert.equal(signInURL('/en/', '/en/library/?q=1'), '/en/login/?next=%2Fen%2Flibrary%2F%3Fq%3D1');
});
