import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PositionStore, MAX_POSITIONS, resumeAt } from '../../assets/js/player/position.js';
import { memoryStorage } from './memory-storage.mjs';


test('positions are kept per user under sstech.position.<sub>', () => {
  const storage = memoryStorage();
  const store = new PositionStore(storage, 'sub-1');
  assert.equal(store.get('v1'), null);
  assert.equal(store.save('v1', 125.5, 600, 1_000), true);
  assert.deepEqual(store.get('v1'), { t: 125.5, d: 600, at: 1_000 });
  assert.deepEqual(JSON.parse(storage.map.get('sstech.position.sub-1')), { v1: { t: 125.5, d: 600, at: 1_000 } });
  assert.equal(new PositionStore(storage, 'sub-2').get('v1'), null);
});

test('saving again replaces the position; an unknown duration is stored as null', () => {
  const store = new PositionStore(memoryStorage(), 'sub-1');
  store.save('v1', 10, 600, 1_000);
  store.save('v1', 20, NaN, 2_000);
  assert.deepEqual(store.get('v1'), { t: 20, d: null, at: 2_000 });
  assert.equal(store.save('v1', NaN, 600, 3_000), false, 'a position that is not a number is not saved');
  assert.deepEqual(store.get('v1'), { t: 20, d: null, at: 2_000 });
});

test('clearing forgets one video, and the key goes with the last', () => {
  const storage = memoryStorage();
  const store = new PositionStore(storage, 'sub-1');
  store.save('v1', 10, 600, 1_000);
  store.save('v2', 20, 600, 2_000);
  store.clear('v1');
  assert.equal(store.get('v1'), null);
  assert.deepEqual(store.get('v2'), { t: 20, d: 600, at: 2_000 });
  store.clear('v3');
  store.clear('v2');
  assert.equal(storage.map.size, 0);
});

test('at most 200 videos are remembered, the least recently watched dropped', () => {
  const store = new PositionStore(memoryStorage(), 'sub-1');
  for (let i = 0; i < MAX_POSITIONS; i += 1) store.save(`v${i}`, 30, 600, 10_000 + i);
  store.save('v0', 40, 600, 20_000); // watched again: now the newest
  store.save('new', 50, 600, 30_000);
  assert.equal(MAX_POSITIONS, 200);
  assert.deepEqual(store.get('v0'), { t: 40, d: 600, at: 20_000 });
  assert.equal(store.get('v1'), null, 'the oldest is dropped');
  assert.deepEqual(store.get('v2'), { t: 30, d: 600, at: 10_002 });
  assert.deepEqual(store.get('new'), { t: 50, d: 600, at: 30_000 });
});

test('corrupt storage reads as nothing saved', () => {
  for (const text of ['{oops', '[1,2]', '"text"', 'null', '{"v1": {"t": "ten"}, "v2": null}']) {
    const store = new PositionStore(memoryStorage({ 'sstech.position.sub-1': text }), 'sub-1');
    assert.equal(store.get('v1'), null, text);
    store.save('v3', 30, 600, 1_000);
    assert.deepEqual(store.get('v3'), { t: 30, d: 600, at: 1_000 }, text);
  }
});

test('a video id that names an Object property is stored like any other', () => {
  const store = new PositionStore(memoryStorage(), 'sub-1');
  assert.equal(store.get('__proto__'), null);
  assert.equal(store.get('toString'), null);
  store.save('__proto__', 30, 600, 1_000);
  assert.deepEqual(store.get('__proto__'), { t: 30, d: 600, at: 1_000 });
});

test('a storage that refuses to write does not throw', () => {
  const storage = { ...memoryStorage(), setItem: () => { throw new DOMException('full', 'QuotaExceededError'); } };
  assert.equal(new PositionStore(storage, 'sub-1').save('v1', 30, 600, 1_000), false);
});

test('playback resumes where it was left', () => {
  assert.equal(resumeAt({ t: 125.5, d: 600, at: 0 }, 600), 125.5);
  assert.equal(resumeAt(125.5, 600), 125.5);
  assert.equal(resumeAt({ t: 5, d: 600, at: 0 }, 600), 5);
});

test('nothing saved, or a start in the first 5 seconds, starts at 0', () => {
  assert.equal(resumeAt(null, 600), 0);
  assert.equal(resumeAt(undefined, 600), 0);
  assert.equal(resumeAt({ t: 4.9, d: 600, at: 0 }, 600), 0);
  assert.equal(resumeAt({ t: NaN, d: 600, at: 0 }, 600), 0);
});

test('a finished video starts again from 0', () => {
  assert.equal(resumeAt({ t: 569.9, d: 600 }, 600), 569.9);
  assert.equal(resumeAt({ t: 570, d: 600 }, 600), 0, '95 %');
  assert.equal(resumeAt({ t: 54.9, d: 60 }, 60), 54.9);
  assert.equal(resumeAt({ t: 55, d: 60 }, 60), 0, 'the last 5 seconds');
  assert.equal(resumeAt({ t: 700, d: 600 }, 600), 0);
});

test('the saved duration stands in while the video\'s is unknown', () => {
  assert.equal(resumeAt({ t: 580, d: 600 }, NaN), 0);
  assert.equal(resumeAt({ t: 300, d: 600 }, NaN), 300);
  assert.equal(resumeAt({ t: 300, d: null }, NaN), 300);
  assert.equal(resumeAt({ t: 580, d: 600 }, 1200), 580, 'the video\'s own duration wins');
});
