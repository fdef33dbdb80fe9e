// Tests of the QR encoder (assets/js/qr/encode.js) and its SVG drawing (assets/js/qr/svg.js).
// Symbols are rendered to PNG and read back with zbarimg (zbar-tools), an independent decoder.
// Run: node --test Tests/App/qr.test.mjs   (scripts/install-deps test installs zbar-tools)
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { encodeQR } from '../../assets/js/qr/encode.js';
import { qrSVG } from '../../assets/js/qr/svg.js';
import { qrPNG } from './png.mjs';

const folder = mkdtempSync(join(tmpdir(), 'qr-test-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const zbarFound = !spawnSync('zbarimg', ['--version'], { stdio: 'ignore' }).error;
const ZBAR_MISSING = 'zbarimg is not on PATH: `scripts/install-deps test` installs zbar-tools';

// Decodes the PNG and returns the symbol's bytes. -Sbinary makes zbar print the raw bytes:
// without it zbar guesses a charset for byte-mode data and turns UTF-8 into mojibake.
function zbarDecode(file) {
  assert.ok(zbarFound, ZBAR_MISSING);
  const result = spawnSync('zbarimg', ['--raw', '-q', '-Sbinary', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(result.status, 0, `zbarimg found no QR code in ${file} (exit ${result.status}): ${result.stderr}`);
  return result.stdout;
}

let imageCount = 0;
function roundTrip(text, options) {
  const qr = encodeQR(text, options);
  const file = join(folder, `qr-${++imageCount}-v${qr.version}-${qr.ecLevel}.png`);
  writeFileSync(file, qrPNG(qr.modules, { scale: 8, border: 4 }));
  const decoded = zbarDecode(file);
  assert.equal(decoded.toString('utf8'), text);
  assert.deepEqual(decoded, Buffer.from(text, 'utf8'));
  return qr;
}

// Deterministic printable text of the given length, varied so the masks have something to do.
function sampleText(length, seed = 1) {
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(32 + ((i * 7919 + seed * 104729) % 95));
  return s;
}

test('zbarimg (zbar-tools) is installed', () => {
  assert.ok(zbarFound, ZBAR_MISSING);
  execFileSync('zbarimg', ['--version'], { stdio: 'ignore' });
});

describe('zbarimg reads back what was encoded', () => {
  const cases = [
    { name: 'one character', text: 'A', ecLevel: 'M', version: 1 },
    { name: '17 characters (more than v1-M holds)', text: 'ABCDEFGHIJKLMNOPQ', ecLevel: 'M', version: 2 },
    { name: '100 bytes at Q', text: sampleText(100, 2), ecLevel: 'Q' },
    { name: '300 bytes at H', text: sampleText(300, 3), ecLevel: 'H' },
    { name: '1000 bytes at L', text: sampleText(1000, 4), ecLevel: 'L' },
    { name: '1500 bytes at M (version 27 or later)', text: sampleText(1500, 5), ecLevel: 'M', atLeast: 27 },
    { name: 'version 7, the first with version information', text: 'version seven', ecLevel: 'L', minVersion: 7, version: 7 },
    { name: 'version 10, the first with a 16-bit count', text: sampleText(140, 6), ecLevel: 'Q', minVersion: 10, version: 10 },
    { name: 'UTF-8 text', text: 'vídeo ção 日本', ecLevel: 'M' },
    { name: 'UTF-8 text at H', text: 'Ação rápida — 日本語のテキスト ✓ 🙂', ecLevel: 'H' },
    {
      name: 'a TOTP URI',
      text: 'otpauth://totp/SStech:a%2Bb%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=SStech',
      ecLevel: 'M',
    },
    { name: 'a full version 40 at L', text: sampleText(2953, 7), ecLevel: 'L', version: 40 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const qr = roundTrip(c.text, { ecLevel: c.ecLevel, minVersion: c.minVersion ?? 1 });
      assert.equal(qr.ecLevel, c.ecLevel);
      if (c.version) assert.equal(qr.version, c.version);
      if (c.atLeast) assert.ok(qr.version >= c.atLeast, `version ${qr.version}`);
    });
  }

  test('every level and every mask pattern decodes', () => {
    const levels = new Set();
    const masks = new Set();
    for (let seed = 0; masks.size < 8 && seed < 200; seed++) {
      const ecLevel = 'LMQH'[seed % 4];
      const qr = roundTrip(sampleText(20 + seed * 3, seed), { ecLevel });
      levels.add(qr.ecLevel);
      masks.add(qr.mask);
    }
    assert.equal(levels.size, 4);
    assert.equal(masks.size, 8, `masks chosen: ${[...masks]}`);
  });
});

describe('capacity and version choice', () => {
  // Byte-mode capacities from the spec's capacity table: [version, L, M, Q, H].
  const capacities = [
    [1, 17, 14, 11, 7],
    [2, 32, 26, 20, 14],
    [7, 154, 122, 86, 64],
    [10, 271, 213, 151, 119],
    [27, 1465, 1125, 805, 625],
    [40, 2953, 2331, 1663, 1273],
  ];
  for (const [version, ...byLevel] of capacities) {
    ['L', 'M', 'Q', 'H'].forEach((ecLevel, i) => {
      test(`v${version}-${ecLevel} holds ${byLevel[i]} bytes and no more`, () => {
        assert.equal(encodeQR('a'.repeat(byLevel[i]), { ecLevel }).version, version);
        const over = () => encodeQR('a'.repeat(byLevel[i] + 1), { ecLevel, minVersion: version });
        if (version === 40) assert.throws(over, /do not fit in a version 40/);
        else assert.equal(over().version, version + 1);
      });
    });
  }

  test('v1-M: 14 bytes fit, 15 need v2; UTF-8 bytes are what count', () => {
    assert.equal(encodeQR('a'.repeat(14)).version, 1);
    assert.equal(encodeQR('a'.repeat(15)).version, 2);
    assert.equal(encodeQR('é'.repeat(7)).version, 1); // 14 bytes
    assert.equal(encodeQR('é'.repeat(8)).version, 2); // 16 bytes
  });

  test('2954 bytes at L do not fit, with a clear error', () => {
    assert.throws(() => encodeQR('a'.repeat(2954), { ecLevel: 'L' }), {
      message: /2954 bytes do not fit in a version 40 symbol at error correction level L/,
    });
  });

  test('minVersion is honoured, and bad options are refused', () => {
    assert.equal(encodeQR('a', { minVersion: 5 }).version, 5);
    assert.throws(() => encodeQR('a', { ecLevel: 'X' }), /error correction level/);
    assert.throws(() => encodeQR('a', { minVersion: 41 }), /minVersion/);
  });

  test('size is 17 + 4·version and the matrix is square 0/1', () => {
    for (const minVersion of [1, 2, 6, 7, 13, 21, 32, 40]) {
      const qr = encodeQR('size', { minVersion, ecLevel: 'H' });
      assert.equal(qr.version, minVersion);
      assert.equal(qr.size, 17 + 4 * qr.version);
      assert.equal(qr.modules.length, qr.size);
      for (const row of qr.modules) {
        assert.equal(row.length, qr.size);
        assert.ok(Array.from(row).every((v) => v === 0 || v === 1));
      }
    }
  });
});

describe('fixed patterns', () => {
  const FINDER = [
    '1111111',
    '1000001',
    '1011101',
    '1011101',
    '1011101',
    '1000001',
    '1111111',
  ];
  const block = (m, top, left, h, w) =>
    Array.from({ length: h }, (_, r) => Array.from({ length: w }, (_, c) => m[top + r][left + c]).join(''));

  for (const version of [1, 7, 25]) {
    test(`version ${version}: finders, separators, timing and dark module`, () => {
      const { modules: m, size } = encodeQR('fixed patterns', { minVersion: version });
      assert.deepEqual(block(m, 0, 0, 7, 7), FINDER);
      assert.deepEqual(block(m, 0, size - 7, 7, 7), FINDER);
      assert.deepEqual(block(m, size - 7, 0, 7, 7), FINDER);
      assert.notDeepEqual(block(m, size - 7, size - 7, 7, 7), FINDER);
      // Light separators around each finder.
      for (let i = 0; i < 8; i++) {
        assert.equal(m[7][i] + m[i][7], 0);
        assert.equal(m[7][size - 1 - i] + m[i][size - 8], 0);
        assert.equal(m[size - 8][i] + m[size - 1 - i][7], 0);
      }
      // Timing patterns: alternate, dark on even indices, between the separators.
      for (let i = 8; i < size - 8; i++) {
        assert.equal(m[6][i], i % 2 === 0 ? 1 : 0, `row 6, column ${i}`);
        assert.equal(m[i][6], i % 2 === 0 ? 1 : 0, `column 6, row ${i}`);
      }
      assert.equal(m[size - 8][8], 1, 'the dark module');
    });
  }

  test('the two format information copies agree and name the level and mask', () => {
    for (const ecLevel of ['L', 'M', 'Q', 'H']) {
      const { modules: m, size, mask } = encodeQR(`format ${ecLevel}`, { ecLevel });
      const first = [...[0, 1, 2, 3, 4, 5, 7, 8].map((r) => m[r][8]), ...[7, 5, 4, 3, 2, 1, 0].map((c) => m[8][c])];
      const second = [
        ...Array.from({ length: 8 }, (_, i) => m[8][size - 1 - i]),
        ...Array.from({ length: 7 }, (_, i) => m[size - 7 + i][8]),
      ];
      assert.deepEqual(first, second);
      const bits = first.reduce((value, bit, i) => value | (bit << i), 0) ^ 0x5412;
      assert.equal(bits >> 13, { L: 1, M: 0, Q: 3, H: 2 }[ecLevel]);
      assert.equal((bits >> 10) & 7, mask);
    }
  });

  // Known version information words from the spec's table (6-bit version, 12-bit BCH).
  for (const [version, word] of [[7, 0x07c94], [8, 0x085bc], [10, 0x0a4d3], [40, 0x28c69]]) {
    test(`version ${version} information is 0x${word.toString(16)} in both blocks`, () => {
      const { modules: m, size } = encodeQR('v', { minVersion: version });
      let topRight = 0, bottomLeft = 0;
      for (let i = 0; i < 18; i++) {
        topRight |= m[Math.floor(i / 3)][size - 11 + (i % 3)] << i;
        bottomLeft |= m[size - 11 + (i % 3)][Math.floor(i / 3)] << i;
      }
      assert.equal(topRight, word);
      assert.equal(bottomLeft, word);
    });
  }
});

describe('qrSVG', () => {
  // A stand-in for the DOM: just createElementNS, setAttribute and appendChild.
  const fakeDocument = {
    createElementNS(ns, name) {
      return {
        ns, name, attributes: {}, children: [],
        setAttribute(key, value) { this.attributes[key] = String(value); },
        appendChild(child) { this.children.push(child); return child; },
      };
    },
  };
  const SVG = 'http://www.w3.org/2000/svg';

  test('one background rect and one path that covers exactly the dark modules', () => {
    const qr = encodeQR('otpauth://totp/x?secret=JBSWY3DPEHPK3PXP');
    const svg = qrSVG(fakeDocument, qr, { border: 4, label: 'QR code' });
    const extent = qr.size + 8;
    assert.equal(svg.ns, SVG);
    assert.equal(svg.name, 'svg');
    assert.equal(svg.attributes.viewBox, `0 0 ${extent} ${extent}`);
    assert.equal(svg.attributes.role, 'img');
    assert.equal(svg.attributes['aria-label'], 'QR code');
    assert.deepEqual(svg.children.map((c) => [c.ns, c.name]), [[SVG, 'rect'], [SVG, 'path']]);
    const [rect, path] = svg.children;
    assert.equal(rect.attributes.fill, '#fff');
    assert.equal(rect.attributes.width, String(extent));
    assert.equal(rect.attributes.height, String(extent));
    assert.equal(path.attributes.fill, '#000');
    assert.equal(path.attributes['shape-rendering'], 'crispEdges');
    for (const element of [svg, rect, path]) assert.ok(!('style' in element.attributes));

    const drawn = new Set();
    for (const [, x, y] of path.attributes.d.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) drawn.add(`${x - 4},${y - 4}`);
    assert.equal(path.attributes.d.replace(/M(\d+) (\d+)h1v1h-1z/g, ''), '');
    const dark = new Set();
    qr.modules.forEach((row, y) => row.forEach((v, x) => v && dark.add(`${x},${y}`)));
    assert.deepEqual(drawn, dark);
  });

  test('the border defaults to 4 and the label is optional', () => {
    const qr = encodeQR('a');
    const svg = qrSVG(fakeDocument, qr);
    assert.equal(svg.attributes.viewBox, '0 0 29 29');
    assert.ok(!('aria-label' in svg.attributes));
  });
});
