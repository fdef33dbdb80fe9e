// The states of one upload, the events that move it from one to another, and the rule for resuming
// an upload remembered from an earlier visit. Pure, no DOM: the engine (engine.js) moves uploads by
// this table and the upload page draws them by it, so the two cannot disagree.
//
// An upload's state is also its row's `data-state` on the page (the stylesheet and the browser tests
// read it); a remembered upload offered for resuming has the row state UNFINISHED.

/** Every state of an upload, in the order a file usually meets them. */
export const STATES = Object.freeze(['queued', 'uploading', 'paused', 'session', 'completing', 'done', 'failed', 'cancelled']);

/** The `data-state` of a row offering a remembered upload from an earlier visit (not an upload's state). */
export const UNFINISHED = 'unfinished';

/**
 * What moves an upload:
 * - `start`: the engine takes a file it was given;
 * - `pause`, `resume`, `retry`, `cancel`: the user's buttons (retry is resume after a failure);
 * - `sessionLost`: the API refused the session mid-upload; `signedIn`: the user signed in again;
 * - `partsSent`: every part of a multipart upload is stored, the parts are put together;
 * - `finish`: the store holds the whole file; `fail`: the upload stopped with a reason.
 */
export const EVENTS = Object.freeze(['start', 'pause', 'resume', 'retry', 'cancel', 'sessionLost', 'signedIn', 'partsSent', 'finish', 'fail']);

/** state → event → next state. An event missing from a state's row is refused in that state. */
export const TRANSITIONS = Object.freeze({
  queued: Object.freeze({ start: 'uploading', pause: 'paused', cancel: 'cancelled', fail: 'failed' }),
  uploading: Object.freeze({ pause: 'paused', cancel: 'cancelled', sessionLost: 'session', partsSent: 'completing', finish: 'done', fail: 'failed' }),
  paused: Object.freeze({ resume: 'uploading', cancel: 'cancelled' }),
  // Only signing in again continues it: there is no session to continue it with before that.
  session: Object.freeze({ cancel: 'cancelled', signedIn: 'uploading' }),
  completing: Object.freeze({ cancel: 'cancelled', sessionLost: 'session', finish: 'done', fail: 'failed' }),
  // The video is kept and being converted: nothing to pause, and cancelling would claim nothing was kept.
  done: Object.freeze({}),
  failed: Object.freeze({ retry: 'uploading', cancel: 'cancelled' }),
  cancelled: Object.freeze({}),
});

/**
 * Why an upload failed, when trying again cannot help (the `upload.error.*` keys of UploadError):
 * over a limit of the user's (`limit`), the same file is refused again until they free space; it is
 * picked again then.
 */
export const FINAL_ERRORS = Object.freeze(['empty', 'tooLarge', 'notSameFile', 'limit']);

/** The state `event` moves `state` to, or null when the table refuses it. */
export function next(state, event) {
  return Object.hasOwn(TRANSITIONS, state) && Object.hasOwn(TRANSITIONS[state], event) ? TRANSITIONS[state][event] : null;
}

/** Whether the upload left anything on the server (a video, a multipart upload) that cancelling removes. */
export function reachedServer(upload) {
  return Boolean(upload.videoId || upload.uploadId);
}

/**
 * The state `event` moves `upload` (`{ state, error?: { key }, videoId?, uploadId? }`) to, or null:
 * the table, then what the upload itself rules out — retrying a failure no retry can mend, and
 * cancelling a failure that never reached the server (nothing to remove: its row just stays).
 */
export function transition(upload, event) {
  const to = next(upload.state, event);
  if (to === null) return null;
  if (event === 'retry' && FINAL_ERRORS.includes(upload.error?.key)) return null;
  if (event === 'cancel' && upload.state === 'failed' && !reachedServer(upload)) return null;
  return to;
}

/** Whether `event` may happen to `upload` now. */
export function allows(upload, event) {
  return transition(upload, event) !== null;
}

const MOVING = new Set(['queued', 'uploading', 'completing']);
const UNSETTLED = new Set([...MOVING, 'paused', 'session']);

/** Bytes are on their way: the upload counts in the tab's title, and leaving the page asks first. */
export function isMoving(state) {
  return MOVING.has(state);
}

/**
 * What the page's notice says once nothing is moving, after it said a file was being sent: null
 * while an upload still moves (queued, uploading, completing); else `needsYou` (warning) when one
 * is paused, failed or waiting for a new sign-in, or `allSent` (success) when every upload that
 * was not cancelled is done. The string's key and its tone.
 */
export function settledNotice(uploads) {
  const live = uploads.filter((upload) => upload.state !== 'cancelled');
  if (live.length === 0 || live.some((upload) => MOVING.has(upload.state))) return null;
  if (live.some((upload) => upload.state !== 'done')) return { key: 'upload.needsYou', tone: 'warning' };
  return { key: 'upload.allSent', tone: 'success' };
}

/** The upload still has to go on (moving, paused, or waiting for the session): it holds off the idle sign-out. */
export function isUnsettled(state) {
  return UNSETTLED.has(state);
}

/** The status the server gives the upload's video (a row's `data-status`): `queued` for conversion once done. */
export function videoStatus(state) {
  return state === 'done' ? 'queued' : 'uploading';
}

/**
 * What an upload's row offers: `toggle`, the event of its one pause button (`pause`, `resume`,
 * `retry`, or null to hide it); whether it offers `cancel`, the way to the library (`open`), and
 * shows the reason it stopped (`problem`).
 */
export function controls(upload) {
  const toggle = ['pause', 'resume', 'retry'].find((event) => allows(upload, event)) ?? null;
  return {
    toggle,
    cancel: allows(upload, 'cancel'),
    open: upload.state === 'done',
    problem: upload.state === 'failed' || upload.state === 'session',
  };
}

// MARK: resuming a remembered upload

/** Whether `file` (`{ name, size, lastModified }`) looks like the one `record` was started with, before reading it. */
export function quickMatch(record, file) {
  return record.fileName === file.name && record.size === file.size && record.lastModified === file.lastModified;
}

/** Whether the file's first part hashes to what was remembered: the proof it is the same file. */
export function confirmMatch(record, firstPartSHA256) {
  return typeof firstPartSHA256 === 'string' && firstPartSHA256.length > 0 && firstPartSHA256 === record.firstPartSHA256;
}

/**
 * Why `file` cannot continue `record`, or null when it can: `'notSameFile'` unless its name, size
 * and date match; and, once `firstPartSHA256` (the base64 SHA-256 of its first part) is known, unless
 * that matches too. Both hold before a byte is sent: a renamed or longer file with the same first
 * part would make another object under the remembered video.
 */
export function resumeProblem(record, file, firstPartSHA256) {
  if (!quickMatch(record, file)) return 'notSameFile';
  if (firstPartSHA256 !== undefined && !confirmMatch(record, firstPartSHA256)) return 'notSameFile';
  return null;
}

/**
 * The remembered uploads a picked `file` is tried against, in order: the one the user picked it
 * for (`target`, even when it does not match: the page then says why), else those it quick-matches.
 */
export function resumeCandidates(records, file, target = null) {
  return target ? [target] : records.filter((record) => quickMatch(record, file));
}

/** The remembered uploads the page offers to resume: those no upload on the page (not cancelled) carries. */
export function offeredRecords(records, uploads) {
  const carried = new Set(uploads.filter((upload) => upload.state !== 'cancelled').map((upload) => upload.videoId));
  return records.filter((record) => !carried.has(record.videoId));
}

/**
 * The remembered uploads nothing can resume any more, given the user's `videos` (`[{ id, status }]`
 * from the API): those whose video is gone or past `uploading` (finished, cancelled or deleted elsewhere).
 */
export function staleRecords(records, videos) {
  const uploading = new Set(videos.filter((video) => video.status === 'uploading').map((video) => video.id));
  return records.filter((record) => !uploading.has(record.videoId));
}
