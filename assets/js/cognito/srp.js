// The client side of Amazon Cognito's USER_SRP_AUTH: SRP-6a over the 3072-bit group of RFC 5054
// (RFC 3526 group 15) with SHA-256, plus Cognito's own steps around it (the pool name in x, an
// HKDF-derived key, and an HMAC password claim over pool name, user id, secret block and timestamp).
// The password never leaves the browser: only A and the claim signature are sent.
// One file on purpose: the group, the big-integer arithmetic and Cognito's hashing steps are one
// protocol, checked together against the published vectors (Tests/App/srp.test.mjs).
//
// A pure module: no DOM, no imports. It uses only what node 20 and browsers both have globally:
// BigInt, TextEncoder and Web Crypto (crypto.getRandomValues, crypto.subtle).
//
// Hashes are taken over Cognito's "padded hex" form of a number (see padHex), exactly as the
// server in Sources/LocalCloud/SRP.swift and the amazon-cognito-identity-js client do.
//
// Speed: a sign-in costs two 3072-bit powers with ~1024-bit exponents (A = g^a and S) and one
// with a 256-bit exponent (g^x). Powers of a variable base use a sliding window (~1100 squarings
// and ~190 multiplications for S); powers of g use a fixed-base table of g^(2^(5i)) built once on
// first use (~1k squarings), after which g^e needs no squarings (~240 multiplications for A).
// Products are reduced with BigInt `%`: in node 20, Montgomery and Barrett reduction written on
// BigInt (two extra 3072-bit multiplications each) measured slower than V8's division.
// BigInt arithmetic is not constant-time; nor is any JavaScript Cognito client.

/** The RFC 3526 3072-bit safe prime. */
export const N = BigInt(
  '0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
    'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
    'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
    '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
    'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
    '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
    'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
    'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF'
);

/** The generator. */
export const g = 2n;

/** k = H(padHex(N) ‖ padHex(g)), a constant; computeK() derives it and the tests check both. */
export const k = 0x538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6n;

/** The HKDF info string Cognito uses. */
export const DERIVED_KEY_INFO = 'Caldera Derived Key';

const textEncoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Encodings

/**
 * Cognito's padded hex of a non-negative integer: lower-case hex, a leading '0' when the length
 * is odd, and a leading '00' when the first nibble is 8–f (so it reads as positive). 0 → '00'.
 */
export function padHex(value) {
  if (typeof value !== 'bigint') throw new TypeError('padHex: expected a BigInt');
  if (value < 0n) throw new RangeError('padHex: negative value');
  const hex = value.toString(16);
  if (hex.length % 2 === 1) return '0' + hex;
  return hex.charCodeAt(0) >= 0x38 /* '8' */ ? '00' + hex : hex;
}

const HEX_RE = /^[0-9a-fA-F]+$/;

/** A hex string (no prefix, any case, non-empty) as a non-negative BigInt. */
export function hexToBigInt(hex) {
  if (typeof hex !== 'string' || !HEX_RE.test(hex)) throw new TypeError('expected a hex string');
  return BigInt('0x' + hex);
}

/** Bytes of an even-length hex string. */
export function hexToBytes(hex) {
  if (typeof hex !== 'string' || (hex.length > 0 && !HEX_RE.test(hex)) || hex.length % 2 !== 0) {
    throw new TypeError('hexToBytes: expected an even-length hex string');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

/** Lower-case hex of bytes. */
export function bytesToHex(bytes) {
  let hex = '';
  for (let i = 0; i < bytes.length; i++) hex += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return hex;
}

/** Big-endian bytes as a non-negative BigInt. */
export function bytesToBigInt(bytes) {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytesToHex(bytes));
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** Standard (padded) base64 of bytes. */
export function bytesToBase64(bytes) {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  if (i + 1 === bytes.length) {
    const n = bytes[i] << 16;
    out += B64[n >> 18] + B64[(n >> 12) & 63] + '==';
  } else if (i + 2 === bytes.length) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + '=';
  }
  return out;
}

/** Bytes of standard base64 (padding optional); throws on any other character. */
export function base64ToBytes(text) {
  if (typeof text !== 'string') throw new TypeError('base64ToBytes: expected a string');
  const s = text.replace(/=+$/, '');
  if (s.length % 4 === 1 || text.length - s.length > 2) throw new TypeError('invalid base64');
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c] : -1;
    if (v < 0) throw new TypeError('invalid base64');
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

function concatBytes(...parts) {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new Error('Web Crypto (crypto.subtle) is not available; a secure context is required');
  return s;
}

async function sha256(bytes) {
  return new Uint8Array(await subtle().digest('SHA-256', bytes));
}

/** SHA-256 of the bytes of padded hex values, concatenated, as a BigInt. */
async function hashPadded(...values) {
  return bytesToBigInt(await sha256(hexToBytes(values.map(padHex).join(''))));
}

// ---------------------------------------------------------------------------------------------
// Modular arithmetic

function windowBits(exponentBits) {
  if (exponentBits > 768) return 6;
  if (exponentBits > 240) return 5;
  if (exponentBits > 80) return 4;
  if (exponentBits > 24) return 3;
  return 1;
}

/** base^exp mod m for 0 < base < m and exp > 0: left-to-right sliding window over odd powers. */
function slidingWindowPow(base, exp, m) {
  const bits = exp.toString(2);
  const n = bits.length;
  const w = windowBits(n);
  // odd[i] = base^(2i+1)
  const odd = [base];
  if (w > 1) {
    const base2 = (base * base) % m;
    for (let i = 1; i < 1 << (w - 1); i++) odd.push((odd[i - 1] * base2) % m);
  }
  let r = null;
  let i = 0;
  while (i < n) {
    if (bits.charCodeAt(i) === 48 /* '0' */) {
      r = (r * r) % m; // r is set: the first bit is 1
      i++;
      continue;
    }
    let j = Math.min(i + w, n) - 1;
    while (bits.charCodeAt(j) === 48) j--;
    const value = parseInt(bits.slice(i, j + 1), 2);
    if (r === null) {
      r = odd[value >> 1];
    } else {
      for (let s = i; s <= j; s++) r = (r * r) % m;
      r = (r * odd[value >> 1]) % m;
    }
    i = j + 1;
  }
  return r;
}

/** base^exp mod mod, for BigInts with exp ≥ 0 and mod ≥ 1; a negative base is taken mod `mod`. */
export function modPow(base, exp, mod) {
  if (typeof base !== 'bigint' || typeof exp !== 'bigint' || typeof mod !== 'bigint') {
    throw new TypeError('modPow: expected BigInt arguments');
  }
  if (mod < 1n) throw new RangeError('modPow: modulus must be positive');
  if (exp < 0n) throw new RangeError('modPow: negative exponent');
  if (mod === 1n) return 0n;
  base %= mod;
  if (base < 0n) base += mod;
  if (exp === 0n) return 1n;
  if (base === 0n) return 0n;
  return slidingWindowPow(base, exp, mod);
}

// Fixed-base powers of g mod N: gTable[i] = g^(2^(W·i)) mod N. g^e is then the
// product over e's base-2^W digits d_i of table[i]^d_i, collected by digit value
// (Brickell–Gordon–McCurley–Wilson): about e.bits/W + 2^W multiplications and no squarings.
const FIXED_W = 5;
const gTable = [];

function ensureGTable(entries) {
  if (gTable.length === 0) gTable.push(g);
  while (gTable.length < entries) {
    let t = gTable[gTable.length - 1];
    for (let s = 0; s < FIXED_W; s++) t = (t * t) % N;
    gTable.push(t);
  }
}

/** g^e mod N for e ≥ 0, by the fixed-base table (built on first use: ~1k squarings). */
export function powG(e) {
  if (typeof e !== 'bigint') throw new TypeError('powG: expected a BigInt');
  if (e < 0n) throw new RangeError('powG: negative exponent');
  if (e === 0n) return 1n;
  const bits = e.toString(2);
  const windows = Math.ceil(bits.length / FIXED_W);
  ensureGTable(Math.max(windows, Math.ceil(1024 / FIXED_W)));
  // buckets[d] = indices of the windows whose digit is d
  const buckets = Array.from({ length: 1 << FIXED_W }, () => []);
  for (let i = 0; i < windows; i++) {
    const end = bits.length - i * FIXED_W;
    const digit = parseInt(bits.slice(Math.max(0, end - FIXED_W), end), 2);
    if (digit !== 0) buckets[digit].push(i);
  }
  let acc = null; // product over d of (product of table entries with digit ≥ d)
  let run = null;
  for (let d = (1 << FIXED_W) - 1; d >= 1; d--) {
    for (const i of buckets[d]) run = run === null ? gTable[i] : (run * gTable[i]) % N;
    if (run !== null) acc = acc === null ? run : (acc * run) % N;
  }
  return acc;
}

// ---------------------------------------------------------------------------------------------
// The SRP steps

/** k = H(padHex(N) ‖ padHex(g)), computed (the exported `k` is this value). */
export function computeK() {
  return hashPadded(N, g);
}

/** The part of a user pool id after '_' ("us-east-1_AbC123" → "AbC123"), which Cognito hashes. */
export function poolNameOf(userPoolId) {
  const i = userPoolId.indexOf('_');
  return i < 0 ? userPoolId : userPoolId.slice(i + 1);
}

/** A = g^a mod N. */
export function computeA(a) {
  return powG(a);
}

/** u = H(padHex(A) ‖ padHex(B)). */
export function computeU(A, B) {
  return hashPadded(A, B);
}

/**
 * x = H(padHex(salt) ‖ H(poolName ‖ userId ‖ ":" ‖ password)). The salt is read as a number (so
 * leading zero bytes of saltHex are dropped), as amazon-cognito-identity-js and the server do.
 */
export async function computeX({ poolName, userId, password, saltHex }) {
  const inner = await sha256(textEncoder.encode(`${poolName}${userId}:${password}`));
  const salt = hexToBytes(padHex(hexToBigInt(saltHex)));
  return bytesToBigInt(await sha256(concatBytes(salt, inner)));
}

/** The verifier v = g^x mod N the server stores instead of the password. */
export function computeVerifier(x) {
  return powG(x);
}

/** S = (B − k·g^x)^(a + u·x) mod N. */
export function computeS({ a, B, u, x }) {
  if (B % N === 0n) throw new Error('SRP: B mod N is 0');
  if (u === 0n) throw new Error('SRP: u is 0');
  let base = (B - k * powG(x)) % N;
  if (base < 0n) base += N;
  return modPow(base, a + u * x, N);
}

/** The 16-byte key: HKDF-SHA256 with salt padHex(u), input padHex(S), info "Caldera Derived Key". */
export async function hkdfKey(S, u) {
  const ikm = await subtle().importKey('raw', hexToBytes(padHex(S)), 'HKDF', false, ['deriveBits']);
  const bits = await subtle().deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: hexToBytes(padHex(u)), info: textEncoder.encode(DERIVED_KEY_INFO) },
    ikm,
    128
  );
  return new Uint8Array(bits);
}

/** base64(HMAC-SHA256(key, poolName ‖ userId ‖ base64decode(secretBlock) ‖ timestamp)). */
export async function claimSignature({ key, poolName, userId, secretBlock, timestamp }) {
  const hmacKey = await subtle().importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const message = concatBytes(
    textEncoder.encode(poolName),
    textEncoder.encode(userId),
    base64ToBytes(secretBlock),
    textEncoder.encode(timestamp)
  );
  return bytesToBase64(new Uint8Array(await subtle().sign('HMAC', hmacKey, message)));
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n) => (n < 10 ? '0' : '') + n;

/** Cognito's TIMESTAMP, "EEE MMM d HH:mm:ss UTC yyyy" in UTC with the day not zero-padded. */
export function formatTimestamp(date = new Date()) {
  const d = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(d.getTime())) throw new RangeError('formatTimestamp: invalid date');
  return (
    `${WEEKDAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ` +
    String(d.getUTCFullYear()).padStart(4, '0')
  );
}

// ---------------------------------------------------------------------------------------------
// A sign-in

/**
 * The client's ephemeral pair, which may be made before the user submits: a = 128 random bytes,
 * A = g^a mod N (made again in the impossible case A ≡ 0). Use a session for one sign-in only.
 * `options.a` fixes the secret (tests and vectors only).
 */
export function startSession(options = {}) {
  for (;;) {
    let a = options.a;
    if (a === undefined) a = bytesToBigInt(globalThis.crypto.getRandomValues(new Uint8Array(128)));
    if (typeof a !== 'bigint' || a <= 0n) throw new RangeError('startSession: a must be a positive BigInt');
    const A = computeA(a);
    if (A % N !== 0n) return { a, A, AHex: A.toString(16) };
    if (options.a !== undefined) throw new Error('SRP: A mod N is 0');
  }
}

/**
 * The PASSWORD_VERIFIER answer: from the session, the user's password and the challenge's SALT,
 * SRP_B and SECRET_BLOCK, the PASSWORD_CLAIM_SIGNATURE and the TIMESTAMP it signs (for `date`,
 * now by default). Rejects B ≡ 0 mod N and u = 0.
 */
export async function passwordClaim({ session, poolName, userId, password, saltHex, BHex, secretBlock, date }) {
  if (!session || typeof session.a !== 'bigint' || typeof session.A !== 'bigint') {
    throw new TypeError('passwordClaim: session must come from startSession()');
  }
  base64ToBytes(secretBlock); // refuse a malformed SECRET_BLOCK before the costly steps
  const B = hexToBigInt(BHex);
  if (B % N === 0n) throw new Error('SRP: B mod N is 0');
  const [u, x] = await Promise.all([
    computeU(session.A, B),
    computeX({ poolName, userId, password, saltHex }),
  ]);
  if (u === 0n) throw new Error('SRP: u is 0');
  const S = computeS({ a: session.a, B, u, x });
  const key = await hkdfKey(S, u);
  const timestamp = formatTimestamp(date === undefined ? new Date() : date);
  const signature = await claimSignature({ key, poolName, userId, secretBlock, timestamp });
  return { signature, timestamp };
}
