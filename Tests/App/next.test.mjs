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
    ['/a/..', '/'], ['/library/./../en/library/?q=%2F', '/en/library/?q=%2F'],
  ]) {
    assert.equal(safeNext(value, FALLBACK), resolved);
    assert.equal(safeNext(resolved, FALLBACK), resolved, `${resolved} is itself accepted unchanged`);
  }
});

test('the forms of the security review land on the fallback', () => {
  const hostile = [
    '/.//evil.example', '/a/..//evil.example', '/./\\evil.example', '/%2e%2e//evil.example', '/\t/evil.example',
    'https://evil.example', '//evil.example', '/\\evil.example', '/library/../..//evil.example',
    'javascript:alert(document.domain)', 'javascript://%0aalert(1)', '/library/..\\..\\/evil.example',
    '/library/%2e%2e/%2e%2e//evil.example', '/\u0000/evil.example',
  ];
  for (const value of hostile) assert.equal(safeNext(value, FALLBACK), FALLBACK, `accepted ${JSON.stringify(value)}`);
});

test('the pages of the site are still accepted', () => {
  for (const path of ['/library/', '/player/?v=abc#t=3', '/en/upload/', '/en/player/?v=a%2Fb', '/upload/#%2F']) {
    assert.equal(safeNext(path, FALLBACK), path);
  }
});

test('an encoded slash, backslash or control character in the path lands on the fallback', () => {
  // No page has one, and a server or proxy that decodes before routing reads `%2F%2F` as `//`.
  const hostile = [
    '/%2F%2Fevil.example', '/%2f%2fevil.example', '/%5C%5Cevil.example', '/%5c/evil.example', '/.%2f/evil',
    '/library/%2F/evil.example', '/%2e%2e%2f%2fevil.example', '/%00/library/', '/%0a/evil.example', '/%09/evil.example',
    '/%7F/library/', '/%1F/library/',
  ];
  for (const value of hostile) assert.equal(safeNext(value, FALLBACK), FALLBACK, `accepted ${JSON.stringify(value)}`);
});

test('what is accepted resolves to this origin from any page, and is accepted again unchanged', () => {
  // A random walk through the pieces of the tricks above: every path safeNext gives back must stay
  // on the site when the browser navigates to it from a sign-in page.
  const pieces = ['/', '.', '..', '\\', '%2e', '%2E', '%2f', '%5c', 'evil.example', '\t', ':', '?', '#', '@', 'a', '%252e', ' ', '%09'];
  let seed = 1;
  const random = (n) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  for (let i = 0; i < 20_000; i++) {
    let value = '/';
    for (let j = random(7); j >= 0; j--) value += pieces[random(pieces.length)];
    const next = safeNext(value, FALLBACK);
    for (const page of ['https://site.example/login/?next=x', 'https://site.example/en/mfa/']) {
      const url = new URL(next, page);
      assert.equal(url.origin, 'https://site.example', `${JSON.stringify(value)} → ${next}`);
      assert.ok(!url.pathname.startsWith('//'), `${JSON.stringify(value)} → ${next}`);
    }
    assert.equal(safeNext(next, FALLBACK), next, `${JSON.stringify(value)} → ${next} is itself accepted unchanged`);
  }
});

test('the sign-in URL carries the path encoded', () => {
  assert.equal(signInURL('/en/', '/en/library/?q=1'), '/en/login/?next=%2Fen%2Flibrary%2F%3Fq%3D1');
});
