// A minimal PNG writer for the QR tests: 8-bit grayscale, no filtering, one IDAT chunk.
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

// pixels: `height` rows of `width` gray values (0 black … 255 white).
export function grayscalePNG(width, height, pixelAt) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // colour type: grayscale
  // compression, filter and interlace methods stay 0
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter type: none
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = pixelAt(x, y);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// A QR symbol as a PNG: each module `scale` pixels square, with a light quiet zone `border` modules wide.
export function qrPNG(modules, { scale = 8, border = 4 } = {}) {
  const side = (modules.length + 2 * border) * scale;
  return grayscalePNG(side, side, (x, y) => {
    const row = Math.floor(y / scale) - border;
    const col = Math.floor(x / scale) - border;
    const dark = row >= 0 && row < modules.length && col >= 0 && col < modules.length && modules[row][col];
    return dark ? 0 : 255;
  });
}
