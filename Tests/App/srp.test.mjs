// Tests of the browser's Cognito SRP-6a client math (assets/js/cognito/srp.js) against the shared
// vectors. Run: node --test Tests/App/srp.test.mjs
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import * as srp from '../../assets/js/cognito/srp.js';

const vectors = JSON.parse(
  readFileSync(new URL('../Vectors/srp/cognito-srp-vectors.json', import.meta.url), 'utf8')
);
const big = (hex) => BigInt('0x' + hex);

test('the vectors hold cases', () => {
  assert.ok(Array.isArray(vectors.cases) && vectors.cases.length >= 3);
});

test('N, g and k are the group of the vectors; k = H(padHex(N) ‖ padHex(g))', async () => {
  assert.equal(srp.N, big(vectors.N_hex));
  assert.equal(srp.g, BigInt(vectors.g));
  assert.equal(srp.k.toString(16), vectors.kHex);
  assert.equal(await srp.computeK(), srp.k);
});

for (const [index, c] of vectors.cases.entries()) {
  describe(`vector case ${index} (${c.userPoolId}, ${c.userIdForSrp})`, () => {
    const poolName = srp.poolNameOf(c.userPoolId);
    const a = big(c.smallAHex);
    const b = big(c.smallBHex);
    const A = big(c.srpAHex);
    const B = big(c.srpBHex);
    const u = big(c.uHex);
    const x = big(c.xHex);
    const S = big(c.sHex);

    test('pool name is the part after "_"', () => {
      assert.equal(poolName, c.userPoolId.split('_')[1]);
    });

    test('A = g^a mod N', () => {
      assert.equal(srp.computeA(a).toString(16), c.srpAHex);
      const session = srp.startSession({ a });
      assert.equal(session.a, a);
      assert.equal(session.A, A);
      assert.equal(session.AHex, c.srpAHex);
    });

    test('u = H(padHex(A) ‖ padHex(B))', async () => {
      assert.equal((await srp.computeU(A, B)).toString(16), c.uHex);
    });

    test('x = H(padHex(salt) ‖ H(poolName ‖ userId ‖ ":" ‖ password))', async () => {
      const got = await srp.computeX({ poolName, userId: c.userIdForSrp, password: c.password, saltHex: c.saltHex });
      assert.equal(got.toString(16), c.xHex);
    });

    test('verifier g^x mod N', () => {
      assert.equal(srp.computeVerifier(x).toString(16), c.verifierHex);
      assert.equal(srp.modPow(srp.g, x, srp.N).toString(16), c.verifierHex);
    });

    test('S = (B − k·g^x)^(a + u·x) mod N', () => {
      assert.equal(srp.computeS({ a, B, u, x }).toString(16), c.sHex);
    });

    test('the server side agrees: B = k·v + g^b and S = (A·v^u)^b', () => {
      const v = big(c.verifierHex);
      assert.equal(((srp.k * v + srp.modPow(srp.g, b, srp.N)) % srp.N).toString(16), c.srpBHex);
      assert.equal(srp.modPow(A * srp.modPow(v, u, srp.N), b, srp.N), S);
    });

    test('HKDF key', async () => {
      assert.equal(srp.bytesToHex(await srp.hkdfKey(S, u)), c.hkdfKeyHex);
    });

    test('claim signature', async () => {
      const signature = await srp.claimSignature({
        key: srp.hexToBytes(c.hkdfKeyHex),
        poolName,
        userId: c.userIdForSrp,
        secretBlock: c.secretBlock,
        timestamp: c.timestamp,
      });
      assert.equal(signature, c.passwordClaimSignature);
    });

    test('the whole sign-in: startSession + passwordClaim', async () => {
      const session = srp.startSession({ a });
      const result = await srp.passwordClaim({
        session,
        poolName,
        userId: c.userIdForSrp,
        password: c.password,
        saltHex: c.saltHex,
        BHex: c.srpBHex,
        secretBlock: c.secretBlock,
        date: parseTimestamp(c.timestamp),
      });
      assert.deepEqual(result, { signature: c.passwordClaimSignature, timestamp: c.timestamp });
    });

    test('a wrong password gives another signature', async () => {
      const result = await srp.passwordClaim({
        session: srp.startSession({ a }),
        poolName,
        userId: c.userIdForSrp,
        password: c.password + '!',
        saltHex: c.saltHex,
        BHex: c.srpBHex,
        secretBlock: c.secretBlock,
        date: parseTimestamp(c.timestamp),
      });
      assert.notEqual(result.signature, c.passwordClaimSignature);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// TIMESTAMP

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The instant a Cognito TIMESTAMP denotes (strict; checks the weekday). */
function parseTimestamp(text) {
  const m = /^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (\w{3}) ([1-9]|[12]\d|3[01]) (\d\d):(\d\d):(\d\d) UTC (\d{4})$/.exec(text);
  assert.ok(m, `not a TIMESTAMP: ${text}`);
  const month = MONTHS.indexOf(m[2]);
  assert.ok(month >= 0, `bad month in ${text}`);
  const date = new Date(Date.UTC(+m[7], month, +m[3], +m[4], +m[5], +m[6]));
  assert.equal(date.getUTCDate(), +m[3], `no such day: ${text}`);
  assert.equal(WEEKDAYS[date.getUTCDay()], m[1], `wrong weekday: ${text}`);
  return date;
}

describe('formatTimestamp', () => {
  test('examples', () => {
    assert.equal(srp.formatTimestamp(new Date('2026-11-03T09:05:07Z')), 'Tue Nov 3 09:05:07 UTC 2026');
    assert.equal(srp.formatTimestamp(new Date('2026-03-01T00:30:00Z')), 'Sun Mar 1 00:30:00 UTC 2026');
    assert.equal(srp.formatTimestamp(new Date('2025-12-31T23:59:59.999Z')), 'Wed Dec 31 23:59:59 UTC 2025');
    assert.equal(srp.formatTimestamp(Date.UTC(2024, 1, 29, 12, 0, 0)), 'Thu Feb 29 12:00:00 UTC 2024');
  });

  test('days 1–9 are not zero-padded, 10–31 as they are', () => {
    for (let day = 1; day <= 31; day++) {
      const text = srp.formatTimestamp(new Date(Date.UTC(2026, 0, day, 10, 20, 30)));
      assert.equal(text.split(' ')[2], String(day), text);
      assert.equal(text, `${WEEKDAYS[(day + 3) % 7]} Jan ${day} 10:20:30 UTC 2026`);
    }
  });

  test('every month name', () => {
    const got = MONTHS.map((_, month) => srp.formatTimestamp(new Date(Date.UTC(2026, month, 15))).split(' ')[1]);
    assert.deepEqual(got, MONTHS);
  });

  test('every weekday', () => {
    // 2026-02-01 is a Sunday.
    for (let i = 0; i < 7; i++) {
      const text = srp.formatTimestamp(new Date(Date.UTC(2026, 1, 1 + i, 8, 0, 0)));
      assert.equal(text, `${WEEKDAYS[i]} Feb ${1 + i} 08:00:00 UTC 2026`);
    }
  });

  test('hours, minutes and seconds are zero-padded', () => {
    assert.equal(srp.formatTimestamp(new Date(Date.UTC(2026, 6, 4, 0, 0, 0))), 'Sat Jul 4 00:00:00 UTC 2026');
    assert.equal(srp.formatTimestamp(new Date(Date.UTC(2026, 6, 4, 1, 2, 3))), 'Sat Jul 4 01:02:03 UTC 2026');
    assert.equal(srp.formatTimestamp(new Date(Date.UTC(2026, 6, 4, 9, 59, 9))), 'Sat Jul 4 09:59:09 UTC 2026');
    assert.equal(srp.formatTimestamp(new Date(Date.UTC(2026, 6, 4, 23, 10, 59))), 'Sat Jul 4 23:10:59 UTC 2026');
  });

  describe('in a non-UTC local time zone it still formats in UTC', () => {
    const saved = process.env.TZ;
    after(() => {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    });
    for (const zone of ['America/Los_Angeles', 'Pacific/Kiritimati', 'Asia/Kolkata']) {
      test(zone, () => {
        process.env.TZ = zone;
        const date = new Date('2026-03-01T00:30:00Z');
        assert.notEqual(date.getTimezoneOffset(), 0, `the zone ${zone} is not in effect`);
        assert.equal(srp.formatTimestamp(date), 'Sun Mar 1 00:30:00 UTC 2026');
        assert.equal(srp.formatTimestamp(new Date('2026-11-03T09:05:07Z')), 'Tue Nov 3 09:05:07 UTC 2026');
      });
    }
  });

  test("the vectors' timestamps round-trip with the date they denote", () => {
    for (const c of vectors.cases) {
      const date = parseTimestamp(c.timestamp);
      assert.equal(srp.formatTimestamp(date), c.timestamp);
      // and the date is what a JavaScript engine reads from the string
      assert.equal(new Date(c.timestamp).getTime(), date.getTime());
    }
  });

  test('an invalid date is refused', () => {
    assert.throws(() => srp.formatTimestamp(new Date(NaN)), RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// Encodings

describe('padHex', () => {
  const cases = [
    [0n, '00'],
    [1n, '01'],
    [0xfn, '0f'],
    [0x7fn, '7f'],
    [0x80n, '0080'],
    [0xffn, '00ff'],
    [0x100n, '0100'],
    [0xabcn, '0abc'], // odd length: one '0' only, whatever the first nibble
    [0x7abcn, '7abc'],
    [0x8abcn, '008abc'],
    [0x123456n, '123456'],
    [0xf23456n, '00f23456'],
  ];
  for (const [value, expected] of cases) {
    test(`${value.toString(16)} → ${expected}`, () => assert.equal(srp.padHex(value), expected));
  }
  test('N has its top bit set', () => assert.equal(srp.padHex(srp.N), '00' + vectors.N_hex));
  test('refuses negatives and non-BigInts', () => {
    assert.throws(() => srp.padHex(-1n), RangeError);
    assert.throws(() => srp.padHex(5), TypeError);
  });
  test('the padded bytes read back as the number, and never as negative', () => {
    for (let i = 0; i < 200; i++) {
      const value = randomBigInt(1 + (i % 70));
      const bytes = srp.hexToBytes(srp.padHex(value));
      assert.equal(srp.bytesToBigInt(bytes), value);
      assert.ok(bytes[0] < 0x80);
    }
  });
});

describe('hex and base64 helpers', () => {
  test('hex round trip', () => {
    const bytes = new Uint8Array([0, 1, 15, 16, 127, 128, 255]);
    assert.equal(srp.bytesToHex(bytes), '00010f107f80ff');
    assert.deepEqual(srp.hexToBytes('00010F107f80ff'), bytes);
    assert.throws(() => srp.hexToBytes('abc'), TypeError);
    assert.throws(() => srp.hexToBytes('zz'), TypeError);
    assert.throws(() => srp.hexToBigInt(''), TypeError);
  });
  test('base64 agrees with Buffer', () => {
    for (let length = 0; length < 70; length++) {
      const bytes = crypto.getRandomValues(new Uint8Array(length));
      const text = Buffer.from(bytes).toString('base64');
      assert.equal(srp.bytesToBase64(bytes), text);
      assert.deepEqual(srp.base64ToBytes(text), bytes);
    }
  });
  test('invalid base64 is refused', () => {
    for (const bad of ['a', 'ab!d', 'abc===', 'ab cd', 'é===']) {
      assert.throws(() => srp.base64ToBytes(bad), TypeError, bad);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// modPow

function randomBigInt(bits) {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(bits / 8)));
  return srp.bytesToBigInt(bytes) >> BigInt(bytes.length * 8 - bits);
}

function randomInt(n) {
  return Math.floor(Math.random() * n);
}

/** base^exp mod m by exp repeated multiplications. */
function bruteForcePow(base, exp, m) {
  let r = 1n % m;
  for (let i = 0n; i < exp; i++) r = (r * base) % m;
  return ((r % m) + m) % m;
}

/** Plain right-to-left square-and-multiply. */
function referencePow(base, exp, m) {
  let r = 1n % m;
  base = ((base % m) + m) % m;
  while (exp > 0n) {
    if (exp & 1n) r = (r * base) % m;
    base = (base * base) % m;
    exp >>= 1n;
  }
  return r;
}

describe('modPow', () => {
  test('small random inputs against brute force (odd and even moduli, negative bases)', () => {
    for (let i = 0; i < 3000; i++) {
      const m = BigInt(1 + randomInt(i % 2 ? 100 : 5000));
      const base = BigInt(randomInt(20000) - 5000);
      const exp = BigInt(randomInt(i % 3 ? 40 : 400));
      assert.equal(srp.modPow(base, exp, m), bruteForcePow(base, exp, m), `${base}^${exp} mod ${m}`);
    }
  });

  test('edge cases', () => {
    assert.equal(srp.modPow(5n, 0n, 7n), 1n);
    assert.equal(srp.modPow(0n, 0n, 7n), 1n);
    assert.equal(srp.modPow(0n, 5n, 7n), 0n);
    assert.equal(srp.modPow(7n, 5n, 7n), 0n);
    assert.equal(srp.modPow(5n, 3n, 1n), 0n);
    assert.equal(srp.modPow(-1n, 3n, 7n), 6n);
    assert.equal(srp.modPow(2n, 10n, 1024n), 0n);
    assert.equal(srp.modPow(3n, 1n, 1n << 64n), 3n);
    assert.equal(srp.modPow(srp.N - 1n, 2n, srp.N), 1n);
    assert.equal(srp.modPow(srp.N + 2n, 3n, srp.N), 8n);
    assert.throws(() => srp.modPow(2n, -1n, 7n), RangeError);
    assert.throws(() => srp.modPow(2n, 1n, 0n), RangeError);
    assert.throws(() => srp.modPow(2, 1n, 7n), TypeError);
  });

  test('random multi-word inputs against square-and-multiply', () => {
    for (let i = 0; i < 150; i++) {
      const bits = 2 + randomInt(700);
      let m = randomBigInt(bits) | 1n;
      if (i % 4 === 0) m ^= 1n; // some even moduli
      if (m < 2n) m = 3n;
      const base = randomBigInt(1 + randomInt(bits + 20));
      const exp = randomBigInt(1 + randomInt(400));
      assert.equal(srp.modPow(base, exp, m), referencePow(base, exp, m), `${base}^${exp} mod ${m}`);
    }
  });

  test('mod N with random 3072-bit bases and exponents up to 1100 bits', () => {
    for (let i = 0; i < 6; i++) {
      const base = randomBigInt(3072);
      const exp = randomBigInt([1, 64, 256, 1024, 1025, 1100][i]);
      assert.equal(srp.modPow(base, exp, srp.N), referencePow(base, exp, srp.N));
    }
  });

  test('powG (the fixed-base table) equals 2^e mod N', () => {
    for (const e of [0n, 1n, 2n, 31n, 32n, 33n, (1n << 1024n) - 1n, 1n << 1024n]) {
      assert.equal(srp.powG(e), referencePow(2n, e, srp.N), `2^${e}`);
    }
    for (const bits of [5, 17, 160, 256, 1023, 1024, 1200, 2000]) {
      const e = randomBigInt(bits);
      assert.equal(srp.powG(e), referencePow(2n, e, srp.N), `2^e, ${bits} bits`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Sessions and the checks of the protocol

describe('startSession', () => {
  test('1 < A < N, AHex is A, a has 1024 bits at most, and sessions differ', () => {
    const sessions = [srp.startSession(), srp.startSession(), srp.startSession()];
    for (const s of sessions) {
      assert.equal(typeof s.a, 'bigint');
      assert.ok(s.a > 0n && s.a < 1n << 1024n);
      assert.ok(s.A > 1n && s.A < srp.N);
      assert.equal(s.AHex, s.A.toString(16));
      assert.equal(s.A, srp.modPow(srp.g, s.a, srp.N));
    }
    assert.notEqual(sessions[0].a, sessions[1].a);
    assert.notEqual(sessions[1].A, sessions[2].A);
  });

  test('refuses a bad fixed secret', () => {
    assert.throws(() => srp.startSession({ a: 0n }), RangeError);
    assert.throws(() => srp.startSession({ a: 5 }), RangeError);
  });
});

describe('passwordClaim refuses a bad challenge', () => {
  const c = vectors.cases[0];
  const base = {
    session: srp.startSession({ a: big(c.smallAHex) }),
    poolName: srp.poolNameOf(c.userPoolId),
    userId: c.userIdForSrp,
    password: c.password,
    saltHex: c.saltHex,
    secretBlock: c.secretBlock,
  };
  for (const [name, BHex] of [
    ['B = 0', '0'],
    ['B = N', vectors.N_hex],
    ['B = 2N', (srp.N * 2n).toString(16)],
  ]) {
    test(name, async () => {
      await assert.rejects(srp.passwordClaim({ ...base, BHex }), /B mod N is 0/);
    });
  }
  test('B that is not hex', async () => {
    await assert.rejects(srp.passwordClaim({ ...base, BHex: 'xyz' }), TypeError);
  });
  test('a malformed SECRET_BLOCK or session', async () => {
    await assert.rejects(srp.passwordClaim({ ...base, BHex: c.srpBHex, secretBlock: 'not base64!' }), TypeError);
    await assert.rejects(srp.passwordClaim({ ...base, BHex: c.srpBHex, session: {} }), TypeError);
  });
  test('u = 0 and B ≡ 0 in computeS', () => {
    const a = big(c.smallAHex);
    const x = big(c.xHex);
    assert.throws(() => srp.computeS({ a, B: big(c.srpBHex), u: 0n, x }), /u is 0/);
    assert.throws(() => srp.computeS({ a, B: srp.N, u: 1n, x }), /B mod N is 0/);
  });
  test('the default timestamp is now', async () => {
    const before = Date.now();
    const result = await srp.passwordClaim({ ...base, BHex: c.srpBHex });
    const after = Date.now();
    const at = parseTimestamp(result.timestamp).getTime();
    assert.ok(at >= Math.floor(before / 1000) * 1000 && at <= after, result.timestamp);
  });
});
