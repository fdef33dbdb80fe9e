// The upload page: files by picker or drag-and-drop, one row each with its progress, speed and time
// left, pause/resume/cancel; the total in a bar and in the tab's title; unfinished uploads from an
// earlier visit resumed by picking the same file again. The work is upload/engine.js, the states and
// the resume rule upload/state.js, and each part of the page a component of pages/upload/; this
// module starts them and wires them together.
import { auth, t, ready, home, onSessionEnded, holdIdle, api } from './app.js';
import { put } from '../upload/transport.js';
import { WorkerHasher } from '../upload/hash.js';
import { Uploader } from '../upload/engine.js';
import { UploadError } from '../upload/item.js';
import { PendingUploads } from '../upload/resume.js';
import { controls, isMoving, resumeCandidates, offeredRecords, staleRecords, settledNotice } from '../upload/state.js';
import { titleProgress } from '../upload/progress.js';
import { signInURL } from '../nav/next.js';
import { PageNotice, ProblemSummary } from './upload/page-notice.js';
import { FileChooser } from './upload/file-chooser.js';
import { UploadList } from './upload/upload-list.js';
import { UploadTotals } from './upload/upload-totals.js';
import { UnfinishedUploads } from './upload/unfinished-uploads.js';
import { ReauthDialog } from './upload/reauth-dialog.js';

const lang = document.documentElement.lang;
const baseTitle = document.title;
const user = await ready;
const pending = new PendingUploads(localStorage, user.sub);
// Parts are hashed in a worker: this thread only schedules, signs and draws.
const hasher = new WorkerHasher();
const uploader = new Uploader({
  api, put, hash: (blob) => hasher.hash(blob), pending,
  onChange: (upload) => list.update(upload),
  onSessionLost: () => reauth.open(),
});

const notice = PageNotice.in(document);
const problems = ProblemSummary.in(document);
const totals = UploadTotals.in(document, { t, lang });
const list = UploadList.in(document, {
  rowConfig: {
    t, lang, libraryURL: `${home}library/`,
    onToggle: (upload) => {
      const action = controls(upload).toggle; // pause, resume or retry
      if (!action) return;
      uploader[action](upload);
      if (action !== 'pause') sending(upload.name);
    },
    onCancel: async (upload) => {
      if (await uploader.cancel(upload)) notice.say(t('upload.cancelled', { name: upload.name }));
    },
  },
  onRendered: () => renderTotals(),
});
const chooser = FileChooser.in(document, { onFiles: (files) => addFiles(files) });
const unfinished = UnfinishedUploads.in(document, {
  t, lang,
  onPick: (record) => { resumeTarget = record; chooser.open(); },
  onDiscard: (record) => discard(record),
});
const reauth = ReauthDialog.in(document, {
  auth, email: user.email, signInURL: signInURL(home, location.pathname),
  onSignedIn: () => {
    uploader.resumeAfterSignIn();
    notice.say(t('upload.resumedAfterSignIn'), 'success');
    saidSending = true;
  },
});

/**
 * The notice says a file is being sent; once nothing moves any more it says what is true then
 * (every upload sent, or some need the user), instead of asking to keep the page open.
 */
let saidSending = false;
function sending(name) {
  notice.say(t('upload.added', { name }));
  saidSending = true;
}

function settleNotice() {
  const settled = saidSending && settledNotice(uploader.uploads);
  if (!settled) return;
  notice.say(t(settled.key), settled.tone);
  saidSending = false;
}

/** The totals, the tab's title, and the idle sign-out held off while an upload is unsettled. */
let releaseIdle = null;
function renderTotals() {
  settleNotice();
  const summary = uploader.progress();
  // Nothing counted (only files refused before a byte was sent): no "0 bytes of 0 bytes".
  totals.render(summary, { shown: summary.size > 0 && uploader.uploads.some((u) => u.state !== 'cancelled') });
  document.title = uploader.uploads.some((u) => isMoving(u.state)) ? `${titleProgress(summary.fraction)}% · ${baseTitle}` : baseTitle;
  if (uploader.busy && !releaseIdle) releaseIdle = holdIdle();
  if (!uploader.busy && releaseIdle) { releaseIdle(); releaseIdle = null; }
}

// MARK: adding files, and resuming remembered uploads with them

/** A remembered upload waiting for its file: set while the picker is open for it. */
let resumeTarget = null;

async function addFiles(files) {
  problems.hide();
  const records = pending.list();
  for (const file of files) {
    const explicit = resumeTarget;
    resumeTarget = null;
    let resumed = false;
    for (const record of resumeCandidates(records, file, explicit)) {
      try {
        list.update(await uploader.resumeFrom(record, file));
        resumed = true;
        notice.say(t('upload.resuming', { name: file.name }));
        saidSending = true;
        break;
      } catch (error) {
        if (!(error instanceof UploadError && error.key === 'notSameFile')) throw error;
        if (explicit) problems.show(t('upload.error.title'), [{ message: t('upload.error.notSameFile', { name: record.fileName }) }]);
      }
    }
    // A file that only looks like a remembered one (same name, size and date, other bytes) is a new upload.
    if (!resumed && !explicit) {
      list.update(uploader.add(file));
      sending(file.name);
    }
  }
  renderUnfinished();
}

function renderUnfinished() {
  unfinished.render(offeredRecords(pending.list(), uploader.uploads));
}

/** Aborts a remembered upload's multipart upload and forgets it; resolves whether it was discarded. */
async function discard(record) {
  try {
    await api.abortMultipart({ key: record.key, uploadId: record.uploadId });
  } catch (error) {
    if (error?.status !== 404) { notice.say(t('upload.error.network'), 'warning'); return false; }
  }
  pending.remove(record.videoId);
  renderUnfinished();
  notice.say(t('upload.discarded', { name: record.fileName }));
  return true;
}

/** Records of uploads the server no longer has (finished, cancelled or deleted elsewhere) are dropped. */
async function pruneUnfinished() {
  const records = pending.list();
  if (!records.length) return;
  try {
    for (const record of staleRecords(records, await api.listVideos())) pending.remove(record.videoId);
  } catch {
    // Offline: keep them all; the API says later.
  }
}

// MARK: the session, leaving, and the start

onSessionEnded(() => {
  if (!uploader.busy) return false;
  reauth.open();
  return true;
});

window.addEventListener('beforeunload', (event) => {
  if (!uploader.uploads.some((u) => isMoving(u.state))) return;
  event.preventDefault();
  event.returnValue = '';
});

// Speed and time left move even when no byte event arrives.
setInterval(() => {
  for (const upload of uploader.uploads) if (upload.state === 'uploading') list.update(upload);
}, 1000);

await pruneUnfinished();
renderUnfinished();
const wanted = new URLSearchParams(location.search).get('resume');
if (wanted && !unfinished.focus(wanted)) notice.say(t('upload.resumeElsewhere'), 'warning');
document.documentElement.dataset.uploadReady = 'true';
