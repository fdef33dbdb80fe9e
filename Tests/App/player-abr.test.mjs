// Adaptive bitrate: the throughput estimate (fast and slow averages, the lower taken) and the
// decision table — throughput and buffer to rendition, hysteresis, no oscillation, never above what
// the picture's size needs, a pinned rendition kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Throughput, chooseRendition, capForSize, MIN_SAMPLE_BYTES } from '../../assets/js/player/abr.js';

// The contract's ladder (video + audio bandwidth), lowest first.
const LADDER = [
  { height: 360, bandwidth: 1_000_000 },
  { height: 480, bandwidth: 1_600_000 },
  { height: 720, bandwidth: 3_000_000 },
  { height: 1080, bandwidth: 5_500_000 },
];
const MBPS = 1_000_000;
const choose = (state) => chooseRendition({ renditions: LADDER, neededHeight: 2160, ...state });

test('the estimate: a steady link reads as itself; tiny downloads are not counted', () => {
  const meter = new Throughput();
  assert.equal(meter.estimate(), null);
  meter.add(1000, 0.01);
  assert.equal(meter.estimate(), null, 'a 1 kB download says nothing about the link');
  for (let i = 0; i < 5; i += 1) meter.add(500_000, 1); // 4 Mbit/s
  assert.ok(Math.abs(meter.estimate() - 4 * MBPS) < 1, meter.estimate());
  assert.ok(MIN_SAMPLE_BYTES <= 64 * 1024);
});

test('the estimate falls at once when the link slows and climbs back with care', () => {
  const meter = new Throughput();
  for (let i = 0; i < 10; i += 1) meter.add(1_000_000, 1); // 8 Mbit/s
  meter.add(125_000, 1); // one second at 1 Mbit/s
  const afterDrop = meter.estimate();
  assert.ok(afterDrop < 6.5 * MBPS, `one slow segment pulls the fast average down: ${afterDrop}`);
  const slow = new Throughput();
  for (let i = 0; i < 10; i += 1) slow.add(125_000, 1); // 1 Mbit/s
  slow.add(1_000_000, 1); // one fast second
  assert.ok(slow.estimate() < 2 * MBPS, `one fast segment does not make a fast link: ${slow.estimate()}`);
});

test('nothing measured: start on the lowest rendition', () => {
  assert.equal(choose({ current: null, throughput: null, buffer: 0 }), 0);
});

test('decision table: throughput and buffer to rendition', () => {
  const rows = [
    // current, Mbit/s, buffer s → index
    [0, 100, 10, 3, 'a fast link with buffer: straight to the top'],
    [0, 100, 2, 0, 'a very fast link but 2 s buffered: no move up yet'],
    [0, 1.5, 10, 0, '1.5 Mbit/s: 480p needs more than 70 %'],
    [0, 2.4, 10, 1, '2.4 Mbit/s: 480p fits in 70 %'],
    [1, 4.4, 2, 1, 'enough throughput for 720p but only 2 s buffered: no move up'],
    [1, 4.4, 6, 2, 'the same with 6 s buffered: up to 720p'],
    [2, 3.5, 20, 2, '720p at 3.5 Mbit/s: needs 86 %, kept (under 90 %)'],
    [2, 3.2, 20, 1, '720p at 3.2 Mbit/s: needs 94 %, down at once'],
    [3, 2, 20, 1, '1080p at 2 Mbit/s: down past 720p in one step'],
    [3, 0.5, 20, 0, 'a collapse: the lowest'],
    [2, 5, 2, 1, 'the buffer runs low: only half the estimate may be used'],
    [0, 0.3, 20, 0, 'nothing fits: the lowest, never less'],
  ];
  for (const [current, mbps, buffer, expected, why] of rows) {
    assert.equal(choose({ current, throughput: mbps * MBPS, buffer }), expected, why);
  }
});

test('hysteresis: between 70 % and 90 % of the estimate a rendition neither rises nor falls', () => {
  // 720p needs 3 Mbit/s: up takes 4.29, down comes under 3.33.
  for (const mbps of [3.4, 3.8, 4.2]) {
    assert.equal(choose({ current: 1, throughput: mbps * MBPS, buffer: 20 }), 1, `480p stays at ${mbps}`);
    assert.equal(choose({ current: 2, throughput: mbps * MBPS, buffer: 20 }), 2, `720p stays at ${mbps}`);
  }
});

test('no oscillation: a link wobbling ±10 % around a rung settles and stays', () => {
  const meter = new Throughput();
  let current = null;
  const picks = [];
  for (let i = 0; i < 60; i += 1) {
    const mbps = 3.6 * (i % 2 ? 1.1 : 0.9);
    meter.add((mbps * MBPS) / 8, 1);
    current = chooseRendition({ renditions: LADDER, current, throughput: meter.estimate(), buffer: Math.min(30, i), neededHeight: 2160 });
    picks.push(current);
  }
  const switches = picks.slice(1).filter((p, i) => p !== picks[i]).length;
  assert.ok(switches <= 2, `switched ${switches} times: ${picks.join('')}`);
  assert.equal(picks.at(-1), 1);
});

test('never above what the picture needs: the first rendition as tall as the player on screen', () => {
  assert.equal(capForSize(LADDER, 219), 0, 'a phone: 390 px wide, 219 px tall');
  assert.equal(capForSize(LADDER, 438), 1, 'the same at 2× density');
  assert.equal(capForSize(LADDER, 562), 2, 'a 1000 px wide player');
  assert.equal(capForSize(LADDER, 720), 2);
  assert.equal(capForSize(LADDER, 1080), 3);
  assert.equal(capForSize(LADDER, 4000), 3, 'taller than the ladder: its top');
  assert.equal(capForSize(LADDER, 0), 3, 'size unknown: no cap');
  assert.equal(choose({ current: 0, throughput: 100 * MBPS, buffer: 30, neededHeight: 562 }), 2);
  assert.equal(choose({ current: 3, throughput: 100 * MBPS, buffer: 30, neededHeight: 219 }), 0, 'the window shrank: down to what it needs');
});

test('a pinned rendition is kept whatever the link does', () => {
  assert.equal(choose({ current: 0, throughput: 0.2 * MBPS, buffer: 0, pinned: 3 }), 3);
  assert.equal(choose({ current: 3, throughput: 100 * MBPS, buffer: 30, pinned: 0 }), 0);
  assert.equal(choose({ pinned: 9 }), 3, 'an index past the ladder is its top');
});
