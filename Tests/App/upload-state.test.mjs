// The upload's states and the resume rule (assets/js/upload/state.js): every state × event, allowed
// or refused, from a grid written out here rather than read back from the module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  STATES, EVENTS, TRANSITIONS, FINAL_ERRORS, next, transition, allows, controls, isMoving, isUnsettled, videoStatus, settledNotice,
  reachedServer, quickMatch, confirmMatch, resumeProblem, resumeCandidates, offeredRecords, staleRecords,
} from '../../assets/js/upload/state.js';
import { MiB } from '../../assets/js/upload/plan.js';

// One row per state, one column per event; `-` is refused.
const GRID = `
             start      pause   resume     retry      cancel     sessionLost  signedIn   partsSent   finish  fail
queued       uploading  paused  -          -          cancelled  -            -          -           -       failed
uploading    -          paused  -          -          cancelled  session      -          completing  done    failed
paused       -          -       uploading  -          cancelled  -            -          -           -       -
session      -          -       -          -          cancelled  -            uploading  -           -       -
completing   -          -       -          -          cancelled  session      -          -           done    failed
done         -          -       -          -          -          -            -          -           -       -
failed       -          -       -          uploading  cancelled  -            -          -           -       -
cancelled    -          -       -          -          -          -            -          -           -       -
`;

function expected() {
  const [head, ...rows] = GRID.trim().split('\n').map((line) => line.trim().split(/\s+/));
  return new Map(rows.map(([state, ...cells]) => [state, new Map(head.map((event, i) => [event, cells[i] === '-' ? null : cells[i]]))]));
}

test('the grid names every state and every event, in order', () => {
  const grid = expected();
  assert.deepEqual([...grid.keys()], STATES);
  assert.deepEqual([...grid.get('queued').keys()], EVENTS);
  assert.deepEqual(Object.keys(TRANSITIONS), STATES);
});

test('every state × event is allowed or refused as the grid says', () => {
  for (const [state, row] of expected()) {
    for (const [event, to] of row) {
      assert.equal(next(state, event), to, `${state} × ${event}`);
      // An upload that reached the server and failed for a reason retrying can mend: the table alone decides.
      const upload = { state, videoId: 'v1', uploadId: 'u1', error: state === 'failed' ? { key: 'network' } : null };
      assert.equal(transition(upload, event), to, `${state} × ${event} (an upload)`);
      assert.equal(allows(upload, event), to !== null, `${state} × ${event} allowed`);
    }
  }
});

test('every next state is a state; nothing leads out of done or cancelled', () => {
  for (const row of Object.values(TRANSITIONS)) for (const to of Object.values(row)) assert.ok(STATES.includes(to), to);
  assert.deepEqual(Object.keys(TRANSITIONS.done), []);
  assert.deepEqual(Object.keys(TRANSITIONS.cancelled), []);
});

test('unknown states and events are refused', () => {
  assert.equal(next('unfinished', 'resume'), null);
  assert.equal(next('uploading', 'explode'), null);
  assert.equal(next('uploading', 'toString'), null);
  assert.equal(next('constructor', 'cancel'), null);
});

test('a failure no retry mends is not retried', () => {
  assert.deepEqual(FINAL_ERRORS, ['empty', 'tooLarge', 'notSameFile', 'limit']);
  for (const key of FINAL_ERRORS) {
    assert.equal(transition({ state: 'failed', videoId: 'v1', error: { key } }, 'retry'), null, key);
  }
  for (const key of ['network', 'refused', 'store', 'etagHidden', 'unexpected']) {
    assert.equal(transition({ state: 'failed', videoId: 'v1', error: { key } }, 'retry'), 'uploading', key);
  }
});

test('a failure that never reached the server has nothing to cancel', () => {
  const refused = { state: 'failed', videoId: null, uploadId: null, error: { key: 'empty' } };
  assert.equal(reachedServer(refused), false);
  assert.equal(allows(refused, 'cancel'), false);
  assert.equal(allows({ ...refused, videoId: 'v1' }, 'cancel'), true);
  assert.equal(allows({ state: 'queued', videoId: null }, 'cancel'), true, 'only a failure is held to it');
});

test('each state offers the row its buttons', () => {
  const offers = (upload) => controls({ videoId: 'v1', error: null, ...upload });
  assert.deepEqual(offers({ state: 'queued' }), { toggle: 'pause', cancel: true, open: false, problem: false });
  assert.deepEqual(offers({ state: 'uploading' }), { toggle: 'pause', cancel: true, open: false, problem: false });
  assert.deepEqual(offers({ state: 'paused' }), { toggle: 'resume', cancel: true, open: false, problem: false });
  assert.deepEqual(offers({ state: 'session', error: { key: 'session' } }), { toggle: null, cancel: true, open: false, problem: true });
  assert.deepEqual(offers({ state: 'completing' }), { toggle: null, cancel: true, open: false, problem: false });
  assert.deepEqual(offers({ state: 'done' }), { toggle: null, cancel: false, open: true, problem: false });
  assert.deepEqual(offers({ state: 'failed', error: { key: 'network' } }), { toggle: 'retry', cancel: true, open: false, problem: true });
  assert.deepEqual(offers({ state: 'failed', videoId: null, error: { key: 'tooLarge' } }), { toggle: null, cancel: false, open: false, problem: true });
  assert.deepEqual(offers({ state: 'cancelled' }), { toggle: null, cancel: false, open: false, problem: false });
});

test('moving and unsettled states', () => {
  assert.deepEqual(STATES.filter(isMoving), ['queued', 'uploading', 'completing']);
  assert.deepEqual(STATES.filter(isUnsettled), ['queued', 'uploading', 'paused', 'session', 'completing']);
});

test('a row carries its video\'s status on the server', () => {
  assert.deepEqual(STATES.map(videoStatus), ['uploading', 'uploading', 'uploading', 'uploading', 'uploading', 'queued', 'uploading', 'uploading']);
});

// MARK: the resume rule

function record(overrides = {}) {
  return {
    videoId: 'v1', key: 'uploads/sub-1/v1/holiday.mp4', uploadId: 'up-1', fileName: 'holiday.mp4', size: 100 * MiB,
    lastModified: 1_700_000_000_000, contentType: 'video/mp4', partSize: 16 * MiB, firstPartSHA256: 'Zmlyc3Q=',
    startedAt: '2024-03-05T14:07:00.000Z', ...overrides,
  };
}
const file = { name: 'holiday.mp4', size: 100 * MiB, lastModified: 1_700_000_000_000 };

test('a picked file matches by name, size and modification time', () => {
  assert.equal(quickMatch(record(), file), true);
  assert.equal(quickMatch(record(), { ...file, lastModified: 1_700_000_000_001 }), false, 'same name and size, edited since');
  assert.equal(quickMatch(record(), { ...file, size: file.size + 1 }), false);
  assert.equal(quickMatch(record(), { ...file, name: 'Holiday.mp4' }), false);
});

test('the first part checksum confirms the same file', () => {
  assert.equal(confirmMatch(record(), 'Zmlyc3Q='), true);
  assert.equal(confirmMatch(record(), 'b3RoZXI='), false);
  assert.equal(confirmMatch(record(), undefined), false);
  assert.equal(confirmMatch(record({ firstPartSHA256: undefined }), undefined), false);
  assert.equal(confirmMatch(record({ firstPartSHA256: '' }), ''), false);
});

test('a remembered upload is resumed only with the same name, size and date, then the same first part', () => {
  assert.equal(resumeProblem(record(), file), null, 'before reading: it looks the same');
  assert.equal(resumeProblem(record(), file, 'Zmlyc3Q='), null);
  assert.equal(resumeProblem(record(), file, 'b3RoZXI='), 'notSameFile', 'other bytes');
  assert.equal(resumeProblem(record(), { ...file, name: 'renamed.mp4' }, 'Zmlyc3Q='), 'notSameFile', 'the same first part is not enough');
  assert.equal(resumeProblem(record(), { ...file, size: 200 * MiB }, 'Zmlyc3Q='), 'notSameFile', 'a longer file with the same start');
  assert.equal(resumeProblem(record(), { ...file, lastModified: 1 }), 'notSameFile');
});

test('a picked file is tried against the upload it was picked for, else those it looks like', () => {
  const records = [
    record(),
    record({ videoId: 'v2', lastModified: 1_600_000_000_000 }),
    record({ videoId: 'v3', fileName: 'other.mp4' }),
    record({ videoId: 'v4', startedAt: '2024-03-06T09:00:00.000Z' }),
  ];
  assert.deepEqual(resumeCandidates(records, file).map((r) => r.videoId), ['v1', 'v4']);
  assert.deepEqual(resumeCandidates(records, { ...file, lastModified: 1 }), []);
  assert.deepEqual(resumeCandidates([], file), []);
  assert.deepEqual(resumeCandidates(records, file, records[2]).map((r) => r.videoId), ['v3'], 'picked for it, even unlike it');
});

test('the page offers the remembered uploads no upload on it carries', () => {
  const records = [record(), record({ videoId: 'v2' }), record({ videoId: 'v3' })];
  const uploads = [{ videoId: 'v1', state: 'uploading' }, { videoId: 'v2', state: 'cancelled' }, { videoId: null, state: 'failed' }];
  assert.deepEqual(offeredRecords(records, uploads).map((r) => r.videoId), ['v2', 'v3']);
  assert.deepEqual(offeredRecords(records, [{ videoId: 'v3', state: 'failed' }]).map((r) => r.videoId), ['v1', 'v2']);
  assert.deepEqual(offeredRecords([], uploads), []);
});

test('a remembered upload whose video is gone or past uploading is stale', () => {
  const records = [record(), record({ videoId: 'v2' }), record({ videoId: 'v3' })];
  const videos = [{ id: 'v1', status: 'uploading' }, { id: 'v2', status: 'queued' }, { id: 'v9', status: 'uploading' }];
  assert.deepEqual(staleRecords(records, videos).map((r) => r.videoId), ['v2', 'v3']);
  assert.deepEqual(staleRecords(records, []).map((r) => r.videoId), ['v1', 'v2', 'v3']);
});

test('the notice settles only when nothing moves: all sent, or what needs the user', () => {
  const ups = (...states) => states.map((state) => ({ state }));
  assert.equal(settledNotice(ups('done', 'uploading')), null, 'still sending');
  assert.equal(settledNotice(ups('queued')), null);
  assert.equal(settledNotice(ups('done', 'completing')), null);
  assert.equal(settledNotice([]), null, 'nothing was added');
  assert.equal(settledNotice(ups('cancelled')), null, 'only a cancelled one: its own notice stands');
  assert.deepEqual(settledNotice(ups('done', 'done', 'cancelled')), { key: 'upload.allSent', tone: 'success' });
  for (const waiting of ['failed', 'paused', 'session']) {
    assert.deepEqual(settledNotice(ups('done', waiting)), { key: 'upload.needsYou', tone: 'warning' }, waiting);
  }
});
