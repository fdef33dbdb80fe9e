// Part planning for S3 uploads: which method a file takes, and how its bytes split into parts. Pure.
// S3's limits: parts of 5 MiB to 5 GiB (the last may be smaller), at most 10,000 parts, objects up to 5 TiB.

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** The smallest part S3 accepts, except for the last one. */
export const MIN_PART = 5 * MiB;
/** The largest part S3 accepts. */
export const MAX_PART = 5 * GiB;
/** The most parts one multipart upload may have. */
export const MAX_PARTS = 10_000;
/** The largest file the app uploads (S3's largest object): 5 TiB. */
export const MAX_FILE = 5 * TiB;
/** Files smaller than this go in one presigned PUT; from this size on, as multipart. */
export const SINGLE_PUT_BELOW = 5 * MiB;

/** Why a file cannot be uploaded at all, before any byte is sent: `'empty'`, `'tooLarge'`, or null. */
export function sizeProblem(size) {
  if (size === 0) return 'empty';
  if (size > MAX_FILE) return 'tooLarge';
  return null;
}

/** `'single'` (one presigned PUT) for files under 5 MiB, `'multipart'` from 5 MiB on. */
export function uploadMethod(size) {
  return size < SINGLE_PUT_BELOW ? 'single' : 'multipart';
}

/**
 * The part size the server hands out for a file of `size` bytes: the smallest of 16, 32 and 64 MiB
 * that keeps it within 100 parts, 64 MiB above that, and from 625 GiB on the whole MiB that fits it in
 * 10,000 parts (525 MiB for 5 TiB). Kept in step with the API (VideoRules.partSize).
 */
export function defaultPartSize(size) {
  const fewest = Math.ceil(Math.ceil(size / MAX_PARTS) / MiB) * MiB;
  const chosen = [16, 32, 64].map((n) => n * MiB).find((part) => Math.ceil(size / part) <= 100) ?? 64 * MiB;
  return Math.max(chosen, fewest);
}

/**
 * How `size` bytes split into parts of `partSize`: `{ size, partSize, count, lastSize }`.
 * Throws a RangeError when S3 would refuse the plan: a part under 5 MiB in a plan of several parts,
 * a part over 5 GiB, more than 10,000 parts, or a file that is empty or over 5 TiB.
 */
export function planParts(size, partSize) {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`A file of ${size} bytes has nothing to upload.`);
  if (size > MAX_FILE) throw new RangeError(`A file of ${size} bytes is larger than the 5 TiB (${MAX_FILE} bytes) S3 stores.`);
  if (!Number.isSafeInteger(partSize) || partSize <= 0) throw new RangeError(`Part size ${partSize} is not a positive whole number of bytes.`);
  if (partSize > MAX_PART) throw new RangeError(`Part size ${partSize} bytes is larger than S3's maximum of 5 GiB (${MAX_PART} bytes).`);
  const count = Math.ceil(size / partSize);
  if (count > 1 && partSize < MIN_PART) {
    throw new RangeError(`Part size ${partSize} bytes is smaller than S3's minimum of 5 MiB (${MIN_PART} bytes) for all but the last part.`);
  }
  if (count > MAX_PARTS) {
    throw new RangeError(`Parts of ${partSize} bytes would split ${size} bytes into ${count} parts; S3 takes at most ${MAX_PARTS}.`);
  }
  return { size, partSize, count, lastSize: size - (count - 1) * partSize };
}

/** The bytes of part `number` (from 1): `{ number, start, end, size }`, `end` exclusive. RangeError outside 1…count. */
export function partRange(plan, number) {
  if (!Number.isInteger(number) || number < 1 || number > plan.count) {
    throw new RangeError(`Part ${number} is not in this plan, whose parts are numbered 1 to ${plan.count}.`);
  }
  const start = (number - 1) * plan.partSize;
  const size = number === plan.count ? plan.lastSize : plan.partSize;
  return { number, start, end: start + size, size };
}

/** The plan's part numbers, 1 to count, in order. */
export function* partNumbers(plan) {
  for (let number = 1; number <= plan.count; number += 1) yield number;
}
