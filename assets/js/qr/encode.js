// A QR code encoder (ISO/IEC 18004, model 2), byte mode only. Pure: no imports, no DOM.
//
//   encodeQR(text, { ecLevel = 'M', minVersion = 1 }) → { version, size, ecLevel, mask, modules }
//
// `modules` holds `size` rows of 0/1 (1 = dark), without the quiet zone.
// The steps follow the spec's order: pick the smallest version the text fits in, build the data
// codewords, split them into Reed–Solomon blocks and interleave, place the function patterns,
// lay the codewords in the zigzag, then try all eight masks and keep the one with the lowest penalty.
// One file on purpose: those steps share the spec's tables and one module grid, and each is short;
// split apart they would only pass the grid and tables between files.

// Error-correction codewords per block and number of blocks, by level, for versions 1–40
// (the spec's table of error correction characteristics). The data codeword count follows from
// these and the number of data modules, so it is not tabulated.
const EC_CODEWORDS_PER_BLOCK = {
  L: [7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
    28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  M: [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
    26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
  Q: [13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
    28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  H: [17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
    30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
};
const EC_BLOCKS = {
  L: [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
    8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
  M: [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
    17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
  Q: [1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
    23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
  H: [1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
    25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
};
// The two format-information bits that name the level (note: not in L, M, Q, H order).
const EC_FORMAT_BITS = { L: 1, M: 0, Q: 3, H: 2 };

const BYTE_MODE = 0b0100;
const PAD_BYTES = [0xec, 0x11];

export function encodeQR(text, { ecLevel = 'M', minVersion = 1 } = {}) {
  if (!(ecLevel in EC_BLOCKS)) throw new Error(`QR: unknown error correction level ${ecLevel}`);
  if (!Number.isInteger(minVersion) || minVersion < 1 || minVersion > 40) {
    throw new Error(`QR: minVersion must be an integer from 1 to 40, not ${minVersion}`);
  }
  const bytes = new TextEncoder().encode(String(text));
  const version = chooseVersion(bytes.length, ecLevel, minVersion);
  const size = 17 + 4 * version;

  const { modules, isFunction } = placeFunctionPatterns(version);
  const codewords = addErrorCorrection(dataCodewords(bytes, version, ecLevel), version, ecLevel);
  placeCodewords(modules, isFunction, codewords);

  let best = null;
  for (let mask = 0; mask < 8; mask++) {
    const candidate = modules.map((row) => row.slice());
    applyMask(candidate, isFunction, mask);
    placeFormatInfo(candidate, ecLevel, mask);
    const score = penalty(candidate);
    if (!best || score < best.score) best = { mask, score, modules: candidate };
  }
  return { version, size, ecLevel, mask: best.mask, modules: best.modules };
}

// ---- capacity -----------------------------------------------------------------------------

// The character count field is 8 bits long in versions 1–9 and 16 bits in 10–40 (byte mode).
function countBits(version) {
  return version <= 9 ? 8 : 16;
}

// All codewords of a version: the modules left over once the function patterns and format and
// version information are placed, in whole bytes (the leftover 0–7 are remainder bits).
function totalCodewords(version) {
  const { isFunction } = placeFunctionPatterns(version);
  let free = 0;
  for (const row of isFunction) for (const f of row) free += f ? 0 : 1;
  return Math.floor(free / 8);
}

function dataCodewordCount(version, ecLevel) {
  const i = version - 1;
  return totalCodewords(version) - EC_CODEWORDS_PER_BLOCK[ecLevel][i] * EC_BLOCKS[ecLevel][i];
}

function chooseVersion(byteCount, ecLevel, minVersion) {
  for (let version = minVersion; version <= 40; version++) {
    const bitsNeeded = 4 + countBits(version) + 8 * byteCount;
    if (bitsNeeded <= dataCodewordCount(version, ecLevel) * 8) return version;
  }
  throw new Error(
    `QR: ${byteCount} bytes do not fit in a version 40 symbol at error correction level ${ecLevel}`
  );
}

// ---- data and error correction ------------------------------------------------------------

// Mode indicator, character count, the bytes, a terminator of up to four zero bits, zero bits to
// the next byte boundary, then the alternating pad bytes to fill the data capacity.
function dataCodewords(bytes, version, ecLevel) {
  const bits = [];
  const push = (value, length) => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
  };
  const capacityBits = dataCodewordCount(version, ecLevel) * 8;
  push(BYTE_MODE, 4);
  push(bytes.length, countBits(version));
  for (const b of bytes) push(b, 8);
  push(0, Math.min(4, capacityBits - bits.length));
  push(0, (8 - (bits.length % 8)) % 8);

  const codewords = [];
  for (let i = 0; i < bits.length; i += 8) {
    codewords.push(bits.slice(i, i + 8).reduce((byte, bit) => (byte << 1) | bit, 0));
  }
  for (let i = 0; codewords.length < capacityBits / 8; i++) codewords.push(PAD_BYTES[i % 2]);
  return codewords;
}

// GF(256) with the QR field polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D), via log tables.
const GF_EXP = new Uint8Array(512);
const GF_LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++) {
  GF_EXP[i] = GF_EXP[i + 255] = x;
  GF_LOG[x] = i;
  x = (x << 1) ^ (x & 0x80 ? 0x11d : 0);
}
function gfMultiply(a, b) {
  return a === 0 || b === 0 ? 0 : GF_EXP[GF_LOG[a] + GF_LOG[b]];
}

// The generator polynomial (x − α^0)(x − α^1)…(x − α^(degree−1)), coefficients highest first
// with the leading 1 left out.
function reedSolomonGenerator(degree) {
  let poly = [1];
  for (let i = 0; i < degree; i++) {
    const next = new Array(poly.length + 1).fill(0);
    poly.forEach((c, j) => {
      next[j] ^= c;
      next[j + 1] ^= gfMultiply(c, GF_EXP[i]);
    });
    poly = next;
  }
  return poly.slice(1);
}

// The error-correction codewords of a block: the remainder of data·x^degree divided by the generator.
function reedSolomonRemainder(data, generator) {
  const remainder = new Array(generator.length).fill(0);
  for (const byte of data) {
    const factor = byte ^ remainder.shift();
    remainder.push(0);
    generator.forEach((g, i) => (remainder[i] ^= gfMultiply(g, factor)));
  }
  return remainder;
}

// Splits the data into blocks (the shorter ones first, the later ones one codeword longer when the
// data does not divide evenly), adds each block's error correction, and interleaves: the i-th data
// codeword of every block in turn, then the i-th EC codeword of every block in turn.
function addErrorCorrection(data, version, ecLevel) {
  const blockCount = EC_BLOCKS[ecLevel][version - 1];
  const ecLength = EC_CODEWORDS_PER_BLOCK[ecLevel][version - 1];
  const shortLength = Math.floor(data.length / blockCount);
  const shortBlocks = blockCount - (data.length % blockCount);
  const generator = reedSolomonGenerator(ecLength);

  const blocks = [];
  for (let b = 0, offset = 0; b < blockCount; b++) {
    const length = shortLength + (b < shortBlocks ? 0 : 1);
    const block = data.slice(offset, offset + length);
    offset += length;
    blocks.push({ data: block, ec: reedSolomonRemainder(block, generator) });
  }

  const result = [];
  for (let i = 0; i <= shortLength; i++) {
    for (const block of blocks) if (i < block.data.length) result.push(block.data[i]);
  }
  for (let i = 0; i < ecLength; i++) for (const block of blocks) result.push(block.ec[i]);
  return result;
}

// ---- the matrix -----------------------------------------------------------------------------

// Centres of the alignment patterns along one axis: 6, then evenly spaced (an even step) back from
// size − 7. This reproduces the spec's table; version 32 is the one whose step the rounding misses.
function alignmentPositions(version) {
  if (version === 1) return [];
  const size = 17 + 4 * version;
  const count = Math.floor(version / 7) + 2;
  const step = version === 32 ? 26 : Math.ceil((size - 13) / (2 * count - 2)) * 2;
  const positions = [6];
  for (let p = size - 7; positions.length < count; p -= step) positions.splice(1, 0, p);
  return positions;
}

// Places the finder, separator, timing and alignment patterns and the dark module, and reserves
// (as light) the format and version information areas so the data placement skips them.
function placeFunctionPatterns(version) {
  const size = 17 + 4 * version;
  const modules = Array.from({ length: size }, () => new Uint8Array(size));
  const isFunction = Array.from({ length: size }, () => new Uint8Array(size));
  const set = (row, col, dark) => {
    modules[row][col] = dark ? 1 : 0;
    isFunction[row][col] = 1;
  };

  // Timing patterns first; the finders and alignments drawn later overwrite their ends.
  for (let i = 0; i < size; i++) {
    set(6, i, i % 2 === 0);
    set(i, 6, i % 2 === 0);
  }
  // Finder patterns (7×7 rings with a 3×3 centre) with their light separators, clipped to the symbol.
  for (const [top, left] of [[0, 0], [0, size - 7], [size - 7, 0]]) {
    for (let dr = -1; dr <= 7; dr++) {
      for (let dc = -1; dc <= 7; dc++) {
        const row = top + dr, col = left + dc;
        if (row < 0 || row >= size || col < 0 || col >= size) continue;
        const ring = Math.max(Math.abs(dr - 3), Math.abs(dc - 3)); // 0 centre … 4 separator
        set(row, col, ring !== 2 && ring !== 4);
      }
    }
  }
  // Alignment patterns (5×5), everywhere on the grid except where a finder already is.
  const positions = alignmentPositions(version);
  const last = positions.length - 1;
  positions.forEach((row, i) => positions.forEach((col, j) => {
    if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return;
    for (let dr = -2; dr <= 2; dr++) {
      for (let dc = -2; dc <= 2; dc++) set(row + dr, col + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
    }
  }));
  // Format information areas (filled in per mask later) and the always-dark module beside them.
  for (let i = 0; i < 9; i++) {
    if (i !== 6) set(8, i, 0), set(i, 8, 0);
  }
  for (let i = 0; i < 8; i++) set(8, size - 1 - i, 0), set(size - 1 - i, 8, 0);
  set(size - 8, 8, 1);
  // Version information (versions 7 and up): two 6×3 blocks, beside the top-right and bottom-left finders.
  if (version >= 7) {
    const bits = bchCode(version, 0x1f25);
    for (let i = 0; i < 18; i++) {
      const dark = (bits >>> i) & 1;
      const a = size - 11 + (i % 3), b = Math.floor(i / 3);
      set(b, a, dark);
      set(a, b, dark);
    }
  }
  return { modules, isFunction };
}

// A BCH code word: the value followed by the remainder of value·x^k divided by the generator
// (k = the generator's degree). Used for the format (15,5) and version (18,6) information.
function bchCode(value, generator) {
  const degree = 31 - Math.clz32(generator);
  let remainder = value << degree;
  for (let bit = 31 - Math.clz32(remainder); bit >= degree; bit--) {
    if ((remainder >>> bit) & 1) remainder ^= generator << (bit - degree);
  }
  return (value << degree) | remainder;
}

// 15 format bits: level and mask, BCH(15,5), XORed with 101010000010010 so they are never all light.
// Bit 14 is the most significant. One copy wraps the top-left finder (bits 0–7 down column 8,
// 8–14 leftward along row 8); the other is split between the top-right (bits 0–7, leftward along
// row 8) and the bottom-left (bits 8–14, downward along column 8).
function placeFormatInfo(modules, ecLevel, mask) {
  const size = modules.length;
  const bits = bchCode((EC_FORMAT_BITS[ecLevel] << 3) | mask, 0x537) ^ 0x5412;
  const bit = (i) => (bits >>> i) & 1;
  for (let i = 0; i <= 5; i++) modules[i][8] = bit(i);
  modules[7][8] = bit(6);
  modules[8][8] = bit(7);
  modules[8][7] = bit(8);
  for (let i = 9; i < 15; i++) modules[8][14 - i] = bit(i);

  for (let i = 0; i < 8; i++) modules[8][size - 1 - i] = bit(i);
  for (let i = 8; i < 15; i++) modules[size - 15 + i][8] = bit(i);
}

// Lays the codewords' bits (most significant first) in two-module-wide columns from the bottom
// right, going up then down alternately, skipping function modules and the vertical timing column.
function placeCodewords(modules, isFunction, codewords) {
  const size = modules.length;
  const totalBits = codewords.length * 8;
  let i = 0;
  let upward = true;
  for (let right = size - 1; right >= 1; right -= 2, upward = !upward) {
    if (right === 6) right = 5;
    for (let step = 0; step < size; step++) {
      const row = upward ? size - 1 - step : step;
      for (const col of [right, right - 1]) {
        if (isFunction[row][col]) continue;
        // Modules past the last codeword are remainder bits, which stay light.
        if (i < totalBits) modules[row][col] = (codewords[i >> 3] >>> (7 - (i & 7))) & 1;
        i++;
      }
    }
  }
}

// ---- masking ------------------------------------------------------------------------------

const MASKS = [
  (r, c) => (r + c) % 2 === 0,
  (r) => r % 2 === 0,
  (r, c) => c % 3 === 0,
  (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
];

// Inverts the data modules (never the function patterns) where the mask's condition holds.
function applyMask(modules, isFunction, mask) {
  const condition = MASKS[mask];
  modules.forEach((row, r) => row.forEach((_, c) => {
    if (!isFunction[r][c] && condition(r, c)) row[c] ^= 1;
  }));
}

// The spec's four penalty rules, summed; lower is easier to read.
function penalty(modules) {
  const size = modules.length;
  const columns = modules.map((_, c) => Uint8Array.from(modules, (row) => row[c]));
  let score = 0;
  for (const line of [...modules, ...columns]) score += runPenalty(line) + finderLikePenalty(line);

  // Rule 2: 3 for every 2×2 block of one colour (overlapping blocks each count).
  for (let r = 0; r < size - 1; r++) {
    for (let c = 0; c < size - 1; c++) {
      const v = modules[r][c];
      if (v === modules[r][c + 1] && v === modules[r + 1][c] && v === modules[r + 1][c + 1]) score += 3;
    }
  }
  // Rule 4: 10 for every full 5% the dark share is away from 50%.
  let dark = 0;
  for (const row of modules) for (const v of row) dark += v;
  const total = size * size;
  score += Math.floor(Math.abs(dark * 20 - total * 10) / total) * 10;
  return score;
}

// Rule 1: a run of five or more modules of one colour costs 3, plus 1 per module beyond five.
function runPenalty(line) {
  let score = 0;
  let run = 1;
  for (let i = 1; i <= line.length; i++) {
    if (i < line.length && line[i] === line[i - 1]) {
      run++;
    } else {
      if (run >= 5) score += run - 2;
      run = 1;
    }
  }
  return score;
}

// Rule 3: 40 for each dark-light-dark×3-light-dark (1:1:3:1:1) run with four light modules on
// either side, as it looks like a finder pattern. Outside the symbol counts as light: the quiet zone.
const FINDER_CORE = [1, 0, 1, 1, 1, 0, 1];
function finderLikePenalty(line) {
  const at = (i) => (i < 0 || i >= line.length ? 0 : line[i]);
  const lightRun = (from) => [0, 1, 2, 3].every((k) => at(from + k) === 0);
  let score = 0;
  for (let i = 0; i + 7 <= line.length; i++) {
    if (!FINDER_CORE.every((v, k) => line[i + k] === v)) continue;
    if (lightRun(i - 4) || lightRun(i + 7)) score += 40;
  }
  return score;
}
