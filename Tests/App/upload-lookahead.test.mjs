// The look-ahead: parts prepared (hashed, signed) ahead of their turn, never more than the limit, in
// order whatever order the preparations finish in, a failed one failing its own part only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LookAhead } from '../../assets/js/upload/lookahead.js';

/** A prepare whose calls finish when the test says: `finish(n, value)` or `fail(n, error)`. */
function controlled() {
  const pending = new Map();
  const started = [];
  const prepare = (number) => {
    started.push(number);
    return new Promise((resolve, reject) => pending.set(number, { resolve, reject }));
  };
  return { prepare, started, finish: (n, v = `sum-${n}`) => pending.get(n).resolve(v), fail: (n, e) => pending.get(n).reject(e) };
}

test('never more than the limit prepared and not taken; taking one starts the next', () => {
  const c = controlled();
  const ahead = new LookAhead([1, 2, 3, 4, 5, 6, 7], c.prepare, { limit: 3 });
  assert.deepEqual(c.started, [1, 2, 3]);
  assert.equal(ahead.buffered, 3);
  let most = ahead.buffered;
  const taken = [];
  for (let part = ahead.take(); part; part = ahead.take()) {
    taken.push(part.number);
    most = Math.max(most, ahead.buffered);
    assert.ok(c.started.length <= taken.length + 3, `${c.started.length} started with ${taken.length} taken`);
  }
  assert.deepEqual(taken, [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(c.started, [1, 2, 3, 4, 5, 6, 7], 'each part prepared once');
  assert.equal(most, 3);
  assert.equal(ahead.remaining, 0);
});

test('preparations finishing out of order are handed out in order, each with its own result', async () => {
  const c = controlled();
  const ahead = new LookAhead([4, 9, 11], c.prepare, { limit: 4 });
  c.finish(11, 'c');
  c.finish(4, 'a');
  c.finish(9, 'b');
  const got = [];
  for (let part = ahead.take(); part; part = ahead.take()) got.push([part.number, await part.ready]);
  assert.deepEqual(got, [[4, 'a'], [9, 'b'], [11, 'c']]);
});

test('a failed preparation fails its part only; the parts after it go on', async () => {
  const c = controlled();
  const ahead = new LookAhead([1, 2, 3], c.prepare, { limit: 2 });
  c.fail(1, new Error('read 0 of 16 bytes'));
  c.finish(2);
  const first = ahead.take();
  await assert.rejects(first.ready, /read 0 of 16/);
  assert.equal(await ahead.take().ready, 'sum-2');
  c.finish(3);
  assert.equal(await ahead.take().ready, 'sum-3');
  assert.equal(ahead.take(), null);
});

test('a prepare that throws at once is a failed part, not a failed scheduler', async () => {
  const ahead = new LookAhead([1, 2], (n) => { if (n === 1) throw new Error('no'); return 'ok'; }, { limit: 1 });
  await assert.rejects(ahead.take().ready, /no/);
  assert.equal(await ahead.take().ready, 'ok');
});

test('stopped, it hands out nothing more and prepares nothing more; an unheard failure is no unhandled rejection', async () => {
  const c = controlled();
  const ahead = new LookAhead([1, 2, 3, 4], c.prepare, { limit: 2 });
  ahead.take();
  ahead.stop();
  c.fail(2, new Error('unheard'));
  assert.equal(ahead.take(), null);
  assert.deepEqual(c.started, [1, 2, 3]);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.throws(() => new LookAhead([1], c.prepare, { limit: 0 }), RangeError);
});
