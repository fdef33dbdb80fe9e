// The MSE player's arithmetic: which segment holds a time, what is buffered ahead, which track goes
// next (audio and video in step, a bounded forward buffer), and what played data to give back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { segmentAt, bufferedAhead, bufferedEnd, isBuffered, nextTrack, evictionRange, allDone, rangesOf, FORWARD_BUFFER, BACK_BUFFER } from '../../assets/js/player/schedule.js';

const segments = Array.from({ length: 10 }, (_, i) => ({ start: i * 2, duration: 2 }));

test('the segment for a time: the one that holds it; before the first the first, past the end the last', () => {
  assert.equal(segmentAt(segments, 0), 0);
  assert.equal(segmentAt(segments, 1.99), 0);
  assert.equal(segmentAt(segments, 2), 1);
  assert.equal(segmentAt(segments, 10), 5, '50 % of 20 s');
  assert.equal(segmentAt(segments, 19.5), 9);
  assert.equal(segmentAt(segments, 25), 9);
  assert.equal(segmentAt(segments, -1), 0);
  assert.equal(segmentAt([], 3), -1);
  const uneven = [{ start: 0, duration: 2.005 }, { start: 2.005, duration: 2.005 }, { start: 4.01, duration: 1.98 }];
  assert.equal(segmentAt(uneven, 2.004), 0);
  assert.equal(segmentAt(uneven, 4.5), 2);
});

test('buffered ahead: one run from the playhead, small gaps joined, none when the playhead is outside', () => {
  const ranges = [[0, 4], [4.1, 8], [12, 16]];
  assert.equal(bufferedEnd(ranges, 1), 8);
  assert.equal(bufferedAhead(ranges, 1), 7);
  assert.equal(bufferedAhead(ranges, 9), 0);
  assert.equal(bufferedAhead(ranges, 13), 3);
  assert.equal(isBuffered(ranges, 13), true);
  assert.equal(isBuffered(ranges, 10), false);
  assert.equal(isBuffered([[0.07, 4]], 0), true, 'a stream starting at 0.07 s counts from 0');
});

test('next track: the one furthest behind, none once both are 30 s ahead or done', () => {
  assert.equal(nextTrack([{ nextStart: 4, done: false }, { nextStart: 2.005, done: false }], 0), 1);
  assert.equal(nextTrack([{ nextStart: 4, done: false }, { nextStart: 6, done: false }], 0), 0);
  assert.equal(nextTrack([{ nextStart: 30, done: false }, { nextStart: 30.1, done: false }], 0), null, 'the forward buffer is full');
  assert.equal(nextTrack([{ nextStart: 30, done: false }, { nextStart: 30.1, done: false }], 1), 0, 'play moved on: room again');
  assert.equal(nextTrack([{ nextStart: Infinity, done: true }, { nextStart: 18, done: false }], 10), 1);
  assert.equal(nextTrack([{ nextStart: Infinity, done: true }], 10), null);
  assert.equal(FORWARD_BUFFER, 30);
});

test('eviction: played data older than the back buffer, in pieces of 5 s or more', () => {
  assert.equal(evictionRange([], 100), null);
  assert.equal(evictionRange([[0, 40]], 12), null, 'only 2 s beyond the back buffer: not worth a removal');
  assert.deepEqual(evictionRange([[0, 40]], 20), [0, 20 - BACK_BUFFER]);
  assert.deepEqual(evictionRange([[30, 40], [50, 80]], 60), [30, 50]);
  assert.equal(evictionRange([[0, 40]], 3, { aggressive: true }).join(), '0,2', 'the store was full: all but a second');
  assert.equal(evictionRange([[0, 40]], 0.5, { aggressive: true }), null, 'nothing played yet: nothing to give back');
});

test('all done only when every track fetched its last segment', () => {
  assert.equal(allDone([{ done: true }, { done: true }]), true);
  assert.equal(allDone([{ done: true }, { done: false }]), false);
  assert.equal(allDone([]), false);
});

test('TimeRanges are read into arrays', () => {
  const ranges = { length: 2, start: (i) => [0, 5][i], end: (i) => [2, 9][i] };
  assert.deepEqual(rangesOf(ranges), [[0, 2], [5, 9]]);
  assert.deepEqual(rangesOf(undefined), []);
});
