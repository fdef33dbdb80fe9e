import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MiB, GiB, TiB, MIN_PART, MAX_PART, MAX_PARTS, MAX_FILE, SINGLE_PUT_BELOW,
  sizeProblem, uploadMethod, defaultPartSize, planParts, partRange, partNumbers,
} from '../../assets/js/upload/plan.js';

/** Checks that the plan's parts cover 0…size exactly, in order, with no gap or overlap. */
function assertTiles(plan) {
  let next = 0;
  for (const number of partNumbers(plan)) {
    const range = partRange(plan, number);
    assert.equal(range.start, next, `part ${number} starts where part ${number - 1} ended`);
    assert.equal(range.end - range.start, range.size);
    assert.ok(range.size > 0 && range.size <= plan.partSize);
    if (number < plan.count) assert.equal(range.size, plan.partSize);
    next = range.end;
  }
  assert.equal(next, plan.size);
}

test('the limits are the binary units S3 documents', () => {
  assert.equal(MiB, 1_048_576);
  assert.equal(GiB, 1_073_741_824);
  assert.equal(TiB, 1_099_511_627_776);
  assert.equal(MIN_PART, 5_242_880);
  assert.equal(MAX_PART, 5_368_709_120);
  assert.equal(MAX_PARTS, 10_000);
  assert.equal(MAX_FILE, 5_497_558_138_880);
  assert.equal(SINGLE_PUT_BELOW, 5 * MiB);
});

test('an empty file and one over 5 TiB are refused before anything is sent', () => {
  assert.equal(sizeProblem(0), 'empty');
  assert.equal(sizeProblem(1), null);
  assert.equal(sizeProblem(MAX_FILE), null);
  assert.equal(sizeProblem(MAX_FILE + 1), 'tooLarge');
});

test('files under 5 MiB go in one PUT, 5 MiB and over as multipart', () => {
  assert.equal(uploadMethod(1), 'single');
  assert.equal(uploadMethod(5 * MiB - 1), 'single');
  assert.equal(uploadMethod(5 * MiB), 'multipart');
  assert.equal(uploadMethod(100 * MiB), 'multipart');
  assert.equal(uploadMethod(MAX_FILE), 'multipart');
});

test('the default part size grows with the file: 16, 32, 64 MiB, then whatever fits 10,000 parts', () => {
  assert.equal(defaultPartSize(1), 16 * MiB);
  assert.equal(defaultPartSize(300 * MiB), 16 * MiB);
  assert.equal(defaultPartSize(1600 * MiB), 16 * MiB, '100 parts of 16 MiB');
  assert.equal(defaultPartSize(1600 * MiB + 1), 32 * MiB);
  assert.equal(defaultPartSize(2 * GiB), 32 * MiB);
  assert.equal(defaultPartSize(5 * GiB), 64 * MiB);
  assert.equal(defaultPartSize(100 * GiB), 64 * MiB);
  assert.equal(defaultPartSize(10_000 * 64 * MiB), 64 * MiB);
  assert.equal(defaultPartSize(10_000 * 64 * MiB + 1), 65 * MiB);
  assert.equal(defaultPartSize(MAX_FILE), 525 * MiB);
});

test('1 byte: one part of 1 byte', () => {
  const plan = planParts(1, defaultPartSize(1));
  assert.deepEqual(plan, { size: 1, partSize: 16 * MiB, count: 1, lastSize: 1 });
  assert.deepEqual(partRange(plan, 1), { number: 1, start: 0, end: 1, size: 1 });
  assert.deepEqual(planParts(1, 1), { size: 1, partSize: 1, count: 1, lastSize: 1 });
  assertTiles(plan);
});

test('5 MiB − 1: a single PUT whose one part is the whole file', () => {
  const size = 5 * MiB - 1;
  assert.equal(uploadMethod(size), 'single');
  const plan = planParts(size, size);
  assert.deepEqual(plan, { size, partSize: size, count: 1, lastSize: size });
  assert.deepEqual(partRange(plan, 1), { number: 1, start: 0, end: size, size });
  assertTiles(plan);
});

test('5 MiB: multipart with one 5 MiB part', () => {
  const size = 5 * MiB;
  const plan = planParts(size, defaultPartSize(size));
  assert.deepEqual(plan, { size, partSize: 16 * MiB, count: 1, lastSize: size });
  assert.deepEqual(partRange(plan, 1), { number: 1, start: 0, end: size, size });
  assertTiles(plan);
});

test('100 MiB: six 16 MiB parts and a last one of 4 MiB', () => {
  const size = 100 * MiB;
  const plan = planParts(size, defaultPartSize(size));
  assert.deepEqual(plan, { size, partSize: 16 * MiB, count: 7, lastSize: 4 * MiB });
  assert.deepEqual(partRange(plan, 1), { number: 1, start: 0, end: 16 * MiB, size: 16 * MiB });
  assert.deepEqual(partRange(plan, 7), { number: 7, start: 96 * MiB, end: size, size: 4 * MiB });
  assertTiles(plan);
});

test('5 GiB: 80 parts of 64 MiB', () => {
  const size = 5 * GiB;
  const plan = planParts(size, defaultPartSize(size));
  assert.deepEqual(plan, { size, partSize: 64 * MiB, count: 80, lastSize: 64 * MiB });
  assert.deepEqual(partRange(plan, 1), { number: 1, start: 0, end: 64 * MiB, size: 64 * MiB });
  assert.deepEqual(partRange(plan, 80), { number: 80, start: size - 64 * MiB, end: size, size: 64 * MiB });
  assertTiles(plan);
});

test('5 TiB: 9,987 parts of 525 MiB, the last one ending at the last byte', () => {
  const size = MAX_FILE;
  const plan = planParts(size, defaultPartSize(size));
  assert.equal(plan.partSize, 525 * MiB);
  assert.equal(plan.count, 9_987);
  assert.ok(plan.count <= MAX_PARTS);
  assert.equal(plan.lastSize, size - 9_986 * 525 * MiB);
  assert.ok(plan.lastSize > 0 && plan.lastSize <= plan.partSize);
  assert.deepEqual(partRange(plan, 1), { number: 1, start: 0, end: 525 * MiB, size: 525 * MiB });
  const last = partRange(plan, plan.count);
  assert.equal(last.end, size);
  assert.equal(last.start, partRange(plan, plan.count - 1).end);
  assert.equal(last.size, plan.lastSize);
  assert.equal([...partNumbers(plan)].length, plan.count);
});

test('5 TiB + 1 byte: refused, and no plan can be made for it', () => {
  const size = MAX_FILE + 1;
  assert.equal(sizeProblem(size), 'tooLarge');
  assert.equal(uploadMethod(size), 'multipart');
  assert.throws(() => planParts(size, defaultPartSize(size)), { name: 'RangeError', message: /5 TiB/ });
  assert.throws(() => planParts(size, MAX_PART), RangeError);
});

test('every default plan up to 5 TiB stays within 10,000 parts of at least 5 MiB', () => {
  for (const size of [1, 5 * MiB - 1, 5 * MiB, 100 * MiB, 5 * GiB, 160 * GiB, TiB, 3 * TiB + 7, MAX_FILE]) {
    const plan = planParts(size, defaultPartSize(size));
    assert.ok(plan.count <= MAX_PARTS, `${size}`);
    assert.ok(plan.partSize >= MIN_PART && plan.partSize <= MAX_PART, `${size}`);
    assert.equal((plan.count - 1) * plan.partSize + plan.lastSize, size);
  }
});

test('a plan S3 would refuse throws a RangeError saying why', () => {
  assert.throws(() => planParts(20 * MiB, 5 * MiB - 1), { name: 'RangeError', message: /smaller than S3's minimum of 5 MiB/ });
  assert.throws(() => planParts(10 * GiB, MAX_PART + 1), { name: 'RangeError', message: /larger than S3's maximum of 5 GiB/ });
  assert.throws(() => planParts(10_001 * 5 * MiB, 5 * MiB), { name: 'RangeError', message: /10001 parts; S3 takes at most 10000/ });
  assert.throws(() => planParts(0, 16 * MiB), { name: 'RangeError', message: /nothing to upload/ });
  assert.throws(() => planParts(100, 0), RangeError);
  assert.throws(() => planParts(100, 1.5), RangeError);
  assert.equal(planParts(10_000 * 5 * MiB, 5 * MiB).count, 10_000);
  assert.equal(planParts(5 * MiB - 1, 5 * MiB - 1).count, 1, 'one small part is allowed: it is also the last');
});

test('part numbers outside the plan are refused', () => {
  const plan = planParts(100 * MiB, 16 * MiB);
  for (const number of [0, 8, -1, 1.5, NaN]) {
    assert.throws(() => partRange(plan, number), { name: 'RangeError', message: /numbered 1 to 7/ });
  }
  assert.deepEqual([...partNumbers(plan)], [1, 2, 3, 4, 5, 6, 7]);
});
