// The pace: how many parts go on the wire at once, learnt from the throughput each count gives, and
// the slots that follow it while parts are out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pace } from '../../assets/js/upload/pace.js';
import { Slots } from '../../assets/js/upload/slots.js';

const MiB = 1024 * 1024;

/**
 * Drives `pace` with a link whose throughput (MiB/s) at each in-flight count is `rateAt(limit)`:
 * parts of 8 MiB arrive as that rate allows, for `seconds`. Returns the limits it passed through.
 */
function drive(pace, rateAt, seconds, start = 0) {
  const seen = [pace.limit];
  let now = start;
  pace.sent(8 * MiB, now);
  while (now < start + seconds * 1000) {
    now += (8 / rateAt(pace.limit)) * 1000;
    pace.sent(8 * MiB, now);
    if (seen.at(-1) !== pace.limit) seen.push(pace.limit);
  }
  return { seen, now };
}

test('the count climbs while another part in flight buys throughput, up to the browser\'s six', () => {
  const pace = new Pace({ start: 2 });
  const { seen } = drive(pace, (n) => 40 * n, 60);
  assert.deepEqual(seen, [2, 3, 4, 5, 6]);
  assert.equal(pace.limit, 6);
});

test('a probe that buys nothing is undone, and the count holds there', () => {
  const pace = new Pace({ start: 4 });
  const { seen } = drive(pace, (n) => Math.min(n, 4) * 50, 60); // the link is full at four
  assert.deepEqual(seen.slice(0, 3), [4, 5, 4], 'tried five, went back');
  assert.ok(seen.every((n, i) => n === (i % 2 ? 5 : 4)), `only ever probes five from four: ${seen}`);
  // A probe lasts one window (2 s) and is followed by five held ones: 60 s holds about 5 probes.
  assert.ok(seen.length <= 12, `it holds between probes: ${seen}`);
});

test('a link that gets worse with more parts (a congested uplink) settles below where it started', () => {
  const pace = new Pace({ start: 4 });
  drive(pace, (n) => (n <= 2 ? 100 : 100 - (n - 2) * 20), 30);
  pace.trouble();
  assert.equal(pace.limit, 2, 'trouble halves it');
  const { seen } = drive(pace, (n) => (n <= 2 ? 100 : 100 - (n - 2) * 20), 60, 10_000_000);
  assert.equal(pace.limit, 2);
  assert.ok(seen.every((n) => n <= 3), `never more than one above: ${seen}`);
});

test('a fixed count never moves, and every change is announced', () => {
  const fixed = new Pace({ start: 3, min: 3, max: 3 });
  drive(fixed, (n) => 10 * n, 30);
  fixed.trouble();
  assert.equal(fixed.limit, 3);
  const pace = new Pace({ start: 2 });
  const heard = [];
  pace.onChange((limit) => heard.push(limit));
  drive(pace, (n) => 40 * n, 20);
  assert.deepEqual(heard, [3, 4, 5, 6].slice(0, heard.length));
  assert.ok(heard.length >= 2);
});

test('slots follow a new bound: more wake waiters at once, fewer as parts come back', async () => {
  const slots = new Slots(1);
  await slots.acquire();
  const order = [];
  const a = slots.acquire().then(() => order.push('a'));
  const b = slots.acquire().then(() => order.push('b'));
  slots.resize(3);
  await Promise.all([a, b]);
  assert.deepEqual(order, ['a', 'b']);
  assert.equal(slots.used, 3);
  slots.resize(1);
  slots.release();
  let c = false;
  const waiting = slots.acquire().then(() => { c = true; });
  slots.release();
  await new Promise((resolve) => setTimeout(resolve, 1));
  assert.equal(c, false, 'still one out, the bound is one');
  slots.release();
  await waiting;
  assert.equal(c, true);
  const controller = new AbortController();
  const cut = slots.acquire(controller.signal);
  controller.abort();
  await assert.rejects(cut, { name: 'AbortError' });
});
