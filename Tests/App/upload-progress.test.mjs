import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpeedMeter, eta, summarize, titleProgress } from '../../assets/js/upload/progress.js';

/** Feeds `meter` a steady `rate` (bytes per second) from `from` to `to` ms, a sample every `step` ms, starting at `bytes`. */
function steady(meter, { rate, from, to, step = 100, bytes = 0 }) {
  let total = bytes;
  for (let now = from; now <= to; now += step) {
    meter.record(total, now);
    total += (rate * step) / 1000;
  }
  return total - (rate * step) / 1000;
}

test('a steady upload measures its own speed', () => {
  const meter = new SpeedMeter({ windowMs: 5000 });
  steady(meter, { rate: 2_000_000, from: 0, to: 10_000 });
  assert.equal(meter.bytesPerSecond(10_000), 2_000_000);
});

test('speed is not measurable before a second has been watched', () => {
  const meter = new SpeedMeter();
  assert.equal(meter.bytesPerSecond(0), null);
  meter.record(0, 1000);
  assert.equal(meter.bytesPerSecond(1000), null);
  meter.record(500_000, 1500);
  assert.equal(meter.bytesPerSecond(1500), null);
  meter.record(1_000_000, 2000);
  assert.equal(meter.bytesPerSecond(2000), 1_000_000);
});

test('only the last five seconds count', () => {
  const meter = new SpeedMeter({ windowMs: 5000 });
  const done = steady(meter, { rate: 10_000_000, from: 0, to: 20_000 });
  steady(meter, { rate: 1_000_000, from: 20_100, to: 30_000, bytes: done + 100_000 });
  assert.equal(Math.round(meter.bytesPerSecond(30_000)), 1_000_000);
  assert.ok(meter.samples.length <= 52, `${meter.samples.length} samples kept`);
});

test('a stalled upload slows to 0 over the window', () => {
  const meter = new SpeedMeter({ windowMs: 5000 });
  steady(meter, { rate: 1_000_000, from: 0, to: 5000 });
  assert.equal(meter.bytesPerSecond(5000), 1_000_000);
  assert.equal(meter.bytesPerSecond(7500), 500_000);
  assert.equal(meter.bytesPerSecond(10_000), 0);
  assert.equal(meter.bytesPerSecond(60_000), 0);
});

test('bytes rolled back start the measure again instead of giving a negative speed', () => {
  const meter = new SpeedMeter({ windowMs: 5000 });
  const done = steady(meter, { rate: 1_000_000, from: 0, to: 5000 });
  meter.record(done - 3_000_000, 5100);
  assert.equal(meter.bytesPerSecond(5100), null);
  meter.record(done - 2_000_000, 6100);
  assert.equal(meter.bytesPerSecond(6100), 1_000_000);
  assert.ok(meter.bytesPerSecond(6100) >= 0);
});

test('reset forgets the samples', () => {
  const meter = new SpeedMeter();
  steady(meter, { rate: 1_000_000, from: 0, to: 3000 });
  meter.reset();
  assert.equal(meter.bytesPerSecond(3000), null);
});

test('time left is the remaining bytes over the speed; unknown when nothing moves', () => {
  assert.equal(eta(10_000_000, 2_000_000), 5);
  assert.equal(eta(0, 0), 0);
  assert.equal(eta(-5, null), 0);
  assert.equal(eta(100, 0), null);
  assert.equal(eta(100, null), null);
  assert.equal(eta(100, NaN), null);
});

test('the summary adds up every file not cancelled', () => {
  const files = [
    { size: 1000, done: 250, bytesPerSecond: 100, state: 'uploading' },
    { size: 3000, done: 0, bytesPerSecond: null, state: 'queued' },
    { size: 500, done: 123, bytesPerSecond: 50, state: 'done' },
    { size: 9999, done: 5000, bytesPerSecond: 400, state: 'cancelled' },
    { size: 500, done: 100, bytesPerSecond: 70, state: 'paused' },
  ];
  assert.deepEqual(summarize(files), {
    size: 5000, done: 850, fraction: 0.17, bytesPerSecond: 100, etaSeconds: 41.5, active: 2,
  });
});

test('a summary of nothing is 0 done, nothing active', () => {
  assert.deepEqual(summarize([]), { size: 0, done: 0, fraction: 0, bytesPerSecond: 0, etaSeconds: 0, active: 0 });
  assert.deepEqual(summarize([{ size: 10, done: 0, bytesPerSecond: 5, state: 'cancelled' }]),
    { size: 0, done: 0, fraction: 0, bytesPerSecond: 0, etaSeconds: 0, active: 0 });
});

test('a summary with nothing moving has no time left to show', () => {
  const summary = summarize([{ size: 100, done: 40, bytesPerSecond: 0, state: 'uploading' }]);
  assert.equal(summary.etaSeconds, null);
  assert.equal(summary.active, 1);
});

test('the title shows whole percent, rounded down, 100 only when done', () => {
  assert.equal(titleProgress(0), 0);
  assert.equal(titleProgress(0.004), 0);
  assert.equal(titleProgress(0.29), 29);
  assert.equal(titleProgress(0.575), 57);
  assert.equal(titleProgress(0.999), 99);
  assert.equal(titleProgress(0.999_999_999_99), 99);
  assert.equal(titleProgress(1), 100);
  assert.equal(titleProgress(1.2), 100);
  assert.equal(titleProgress(-1), 0);
  assert.equal(titleProgress(NaN), 0);
});
