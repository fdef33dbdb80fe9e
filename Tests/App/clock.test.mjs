import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Clock, offsetFromDate, judgeOffset } from '../../assets/js/cognito/clock.js';

test('the offset is the server time minus the device time at the middle of the trip', () => {
  const server = Date.parse('Sat, 28 Nov 2026 12:00:00 GMT');
  // The device thinks it is five minutes earlier; the request took 200 ms.
  const sent = server - 300_000 - 100, received = server - 300_000 + 100;
  const offset = offsetFromDate(new Date(server).toUTCString(), sent, received);
  assert.ok(Math.abs(offset - 300_000) <= 1_000, `offset ${offset}`);
});

test('a missing or unreadable Date gives no offset', () => {
  assert.equal(offsetFromDate(null, 0, 0), null);
  assert.equal(offsetFromDate('yesterday-ish', 0, 0), null);
});

test('offsets are judged: noise ignored, minutes corrected with a notice, days refused', () => {
  assert.equal(judgeOffset(900), 'none');
  assert.equal(judgeOffset(-30_000), 'corrected');
  assert.equal(judgeOffset(7 * 60_000), 'notice');
  assert.equal(judgeOffset(-3 * 3600_000), 'notice');
  assert.equal(judgeOffset(3 * 86400_000), 'too-large');
});

test('the clock corrects by what it learned, and refuses to correct by days', () => {
  let device = Date.parse('2026-11-28T12:00:00Z');
  const clock = new Clock(() => device);
  assert.equal(clock.observe(new Date(device + 600_000).toUTCString(), device, device), 'notice');
  assert.ok(Math.abs(clock.now() - (device + 600_000)) <= 1_000);
  assert.equal(clock.observe(new Date(device + 5 * 86400_000).toUTCString(), device, device), 'too-large');
  assert.equal(clock.offset, 0);
  assert.ok(clock.tooLarge > 4 * 86400_000);
  device += 1000;
  assert.equal(clock.observe('Sat, 28 Nov 2026 12:00:01 GMT', device, device), 'none');
  assert.equal(clock.tooLarge, 0);
});
