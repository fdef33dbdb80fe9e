// The upload page: files by picker or drag-and-drop, one row each with its progress, speed and time
// left, pause/resume/cancel; the total in a bar and in the tab's title; unfinished uploads from an
// earlier visit resumed by picking the same file again. The work itself is upload/engine.js.
import { auth, t, ready, home, onSessionEnded, holdIdle } from './app.js';
import { setNotice, showSummary, hideSummary } from '../ui/form.js';
import { api } from './video-api.js';
import { put } from '../upload/transport.js';
import { PartHasher } from '../upload/hash.js';
import { Uploader } from '../upload/engine.js';
import { UploadError } from '../upload/item.js';
import { PendingUploads } from '../upload/resume.js';
import { controls, isMoving, videoStatus, resumeCandidates, offeredRecords, staleRecords } from '../upload/state.js';
import { titleProgress, eta } from '../upload/progress.js';
import { MAX_FILE } from '../upload/plan.js';
import { formatBytes, formatSpeed, formatTimeLeft } from '../format.js';
import { signInURL } from '../nav/next.js';
import { Step } from '../cognito/auth.js';
import { normaliseCode } from '../cognito/totp-uri.js';
import { onSubmit, checkPasswordPresent, checkCode } from './flow.js';

const lang = document.documentElement.lang;
const list = document.getElementById('uploads');
const input = document.getElementById('files');
const dropzone = document.getElementById('dropzone');
const notice = document.getElementById('notice');
const problems = document.getElementById('upload-error');
const totals = document.getElementById('totals');
const totalsText = document.getElementById('totals-text');
const totalsBar = document.getElementById('totals-bar');
const unfinished = document.getElementById('unfinished');
const unfinishedList = document.getElementById('unfinished-list');
const baseTitle = document.title;

const user = await ready;
const pending = new PendingUploads(localStorage, user.sub);
const rows = new Map();
let releaseIdle = null;
/** A remembered upload waiting for its file: set while the picker is open for it. */
let resumeTarget = null;

const hasher = new PartHasher({ buffers: 4 });
const uploader = new Uploader({
  api, put, hash: (blob) => hasher.hash(blob), pending,
  onChange: (upload) => scheduleRender(upload),
  onSessionLost: () => sessionLost(),
});

// MARK: rendering

// Progress events come many times a second per part; the page redraws at most five times a second.
const RENDER_EVERY_MS = 200;
let timer = 0;
const dirty = new Set();
function scheduleRender(upload) {
  dirty.add(upload);
  if (!timer) timer = setTimeout(flush, RENDER_EVERY_MS); // not requestAnimationFrame: a hidden tab still updates its title
}

function flush() {
  timer = 0;
  for (const upload of dirty) renderRow(upload);
  dirty.clear();
  renderTotals();
}

function button(label, className, onClick) {
  const element = document.createElement('button');
  element.type = 'button';
  element.className = `button small ${className}`;
  element.textContent = label;
  element.addEventListener('click', onClick);
  return element;
}

function makeRow(upload) {
  const item = document.createElement('li');
  item.className = 'upload-item';
  item.dataset.uploadId = String(upload.id);
  const name = document.createElement('p');
  name.className = 'upload-name';
  name.textContent = upload.name;
  const bar = document.createElement('progress');
  bar.max = 1;
  bar.value = 0;
  bar.setAttribute('aria-label', t('upload.progressOf', { name: upload.name }));
  const status = document.createElement('p');
  status.className = 'upload-status';
  const error = document.createElement('p');
  error.className = 'upload-error';
  error.setAttribute('role', 'alert');
  error.hidden = true;
  const actions = document.createElement('div');
  actions.className = 'actions';
  const pause = button(t('upload.pause'), 'quiet', () => {
    const action = controls(upload).toggle; // pause, resume or retry
    if (action) uploader[action](upload);
  });
  pause.dataset.action = 'pause';
  const cancel = button(t('upload.cancel'), 'quiet danger', async () => {
    cancel.disabled = true;
    if (await uploader.cancel(upload)) setNotice(notice, t('upload.cancelled', { name: upload.name }));
  });
  cancel.dataset.action = 'cancel';
  const open = document.createElement('a');
  open.className = 'button small quiet';
  open.href = `${home}library/`;
  open.textContent = t('upload.openLibrary');
  open.hidden = true;
  actions.append(pause, cancel, open);
  item.append(name, bar, status, error, actions);
  list.prepend(item);
  const row = { item, bar, status, error, pause, cancel, open };
  rows.set(upload, row);
  return row;
}

function renderRow(upload) {
  const row = rows.get(upload) ?? makeRow(upload);
  const now = Date.now();
  row.item.dataset.state = upload.state;
  row.item.dataset.status = videoStatus(upload.state);
  if (upload.videoId) row.item.dataset.videoId = upload.videoId;
  const done = upload.state === 'done' ? upload.size : upload.done;
  row.bar.value = upload.size ? done / upload.size : 0;
  const bytes = t('upload.bytes', { done: formatBytes(done, lang), size: formatBytes(upload.size, lang) });
  let text;
  switch (upload.state) {
    case 'uploading': {
      const speed = upload.meter.bytesPerSecond(now);
      const left = formatTimeLeft(eta(upload.size - done, speed), lang);
      text = [bytes, speed ? formatSpeed(speed, lang) : t('upload.starting'), left ? t('upload.left', { time: left }) : null].filter(Boolean).join(' · ');
      break;
    }
    case 'queued': text = t('upload.waiting'); break;
    case 'paused': text = `${bytes} · ${t('upload.paused')}`; break;
    case 'session': text = `${bytes} · ${t('upload.waitingSession')}`; break;
    case 'completing': text = t('upload.completing'); break;
    case 'done': text = t('upload.done', { size: formatBytes(upload.size, lang) }); break;
    case 'cancelled': text = t('upload.cancelledShort'); break;
    case 'failed': text = upload.done ? `${bytes} · ${t('upload.stopped')}` : t('upload.stopped'); break;
    default: text = '';
  }
  row.status.textContent = text;
  const offers = controls(upload);
  row.error.hidden = !offers.problem;
  if (offers.problem) row.error.textContent = errorText(upload.error);
  row.pause.hidden = !offers.toggle;
  row.pause.textContent = t(`upload.${offers.toggle ?? 'resume'}`);
  row.pause.setAttribute('aria-label', `${row.pause.textContent}: ${upload.name}`);
  row.cancel.hidden = !offers.cancel;
  row.cancel.setAttribute('aria-label', `${t('upload.cancel')}: ${upload.name}`);
  row.open.hidden = !offers.open;
  if (upload.state === 'cancelled') row.item.classList.add('gone');
}

function errorText(error) {
  if (!error) return '';
  const key = error instanceof UploadError ? error.key : 'unexpected';
  const message = t(`upload.error.${key}`, { max: formatBytes(MAX_FILE, lang) });
  return error.detail && ['store', 'refused', 'unexpected'].includes(key) ? `${message} (${error.detail})` : message;
}

function renderTotals() {
  const active = uploader.uploads.filter((u) => u.state !== 'cancelled');
  totals.hidden = active.length === 0;
  const summary = uploader.progress();
  totalsBar.value = summary.fraction;
  const parts = [t('upload.bytes', { done: formatBytes(summary.done, lang), size: formatBytes(summary.size, lang) })];
  if (summary.bytesPerSecond > 0) parts.push(formatSpeed(summary.bytesPerSecond, lang));
  const left = summary.bytesPerSecond > 0 ? formatTimeLeft(summary.etaSeconds, lang) : null;
  if (left) parts.push(t('upload.left', { time: left }));
  totalsText.textContent = parts.join(' · ');
  const moving = uploader.uploads.some((u) => isMoving(u.state));
  document.title = moving ? `${titleProgress(summary.fraction)}% · ${baseTitle}` : baseTitle;
  if (uploader.busy && !releaseIdle) releaseIdle = holdIdle();
  if (!uploader.busy && releaseIdle) { releaseIdle(); releaseIdle = null; }
}

// MARK: adding files

async function addFiles(files) {
  hideSummary(problems);
  const records = pending.list();
  for (const file of files) {
    const explicit = resumeTarget;
    resumeTarget = null;
    let resumed = false;
    for (const record of resumeCandidates(records, file, explicit)) {
      try {
        const upload = await uploader.resumeFrom(record, file);
        resumed = true;
        setNotice(notice, t('upload.resuming', { name: file.name }));
        scheduleRender(upload);
        break;
      } catch (error) {
        if (!(error instanceof UploadError && error.key === 'notSameFile')) throw error;
        if (explicit) showSummary(problems, t('upload.error.title'), [{ message: t('upload.error.notSameFile', { name: record.fileName }) }]);
      }
    }
    // A file that only looks like a remembered one (same name, size and date, other bytes) is a new upload.
    if (!resumed && !explicit) {
      scheduleRender(uploader.add(file));
      setNotice(notice, t('upload.added', { name: file.name }));
    }
  }
  renderUnfinished();
}

dropzone.addEventListener('click', () => input.click());
input.addEventListener('change', () => {
  const files = [...input.files];
  input.value = '';
  if (files.length) addFiles(files);
});
for (const type of ['dragenter', 'dragover']) {
  dropzone.addEventListener(type, (event) => {
    if (![...(event.dataTransfer?.types ?? [])].includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    dropzone.classList.add('over');
  });
}
dropzone.addEventListener('dragleave', () => dropzone.classList.remove('over'));
dropzone.addEventListener('drop', (event) => {
  event.preventDefault();
  dropzone.classList.remove('over');
  const files = [...(event.dataTransfer?.files ?? [])];
  if (files.length) addFiles(files);
});
// A file dropped beside the zone must not make the browser leave the page to open it.
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => event.preventDefault());

// MARK: unfinished uploads from an earlier visit

function renderUnfinished() {
  const records = offeredRecords(pending.list(), uploader.uploads);
  unfinished.hidden = records.length === 0;
  unfinishedList.replaceChildren(...records.map((record) => {
    const item = document.createElement('li');
    item.className = 'upload-item';
    item.dataset.videoId = record.videoId;
    item.dataset.state = 'unfinished';
    const name = document.createElement('p');
    name.className = 'upload-name';
    name.textContent = record.fileName;
    const status = document.createElement('p');
    status.className = 'upload-status';
    status.textContent = t('upload.unfinishedStatus', { size: formatBytes(record.size, lang), date: new Date(record.startedAt).toLocaleString(lang) });
    const actions = document.createElement('div');
    actions.className = 'actions';
    const pick = button(t('upload.pickAgain'), 'primary', () => { resumeTarget = record; input.click(); });
    pick.dataset.action = 'resume';
    pick.setAttribute('aria-label', `${t('upload.pickAgain')}: ${record.fileName}`);
    const discard = button(t('upload.discard'), 'quiet danger', async () => {
      discard.disabled = true;
      try {
        await api.abortMultipart({ key: record.key, uploadId: record.uploadId });
      } catch (error) {
        if (error?.status !== 404) { discard.disabled = false; setNotice(notice, t('upload.error.network'), 'warning'); return; }
      }
      pending.remove(record.videoId);
      renderUnfinished();
      setNotice(notice, t('upload.discarded', { name: record.fileName }));
    });
    discard.setAttribute('aria-label', `${t('upload.discard')}: ${record.fileName}`);
    actions.append(pick, discard);
    item.append(name, status, actions);
    return item;
  }));
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

// MARK: session and leaving

/**
 * The session ended mid-upload: a dialog signs the same user in again (password, then the MFA code)
 * without leaving the page, and the uploads go on. Leaving for the sign-in page would lose them.
 */
const reauth = document.getElementById('reauth');
const passwordForm = document.getElementById('reauth-password');
const codeForm = document.getElementById('reauth-code');

function sessionLost() {
  if (reauth.open) return;
  document.getElementById('email').value = user.email;
  document.getElementById('password').value = '';
  document.getElementById('code').value = '';
  passwordForm.hidden = false;
  codeForm.hidden = true;
  reauth.showModal();
  auth.prepare?.();
  document.getElementById('password').focus();
}

function signedInAgain() {
  reauth.close();
  uploader.resumeAfterSignIn();
  setNotice(notice, t('upload.resumedAfterSignIn'), 'success');
}

// The uploads cannot go on without a session: the dialog stays until the user signs in.
reauth.addEventListener('cancel', (event) => event.preventDefault());

onSubmit(passwordForm, {
  validate: () => checkPasswordPresent(document.getElementById('password')),
  action: async () => {
    const step = await auth.signIn(user.email, document.getElementById('password').value);
    if (step === Step.done) { signedInAgain(); return; }
    if (step !== Step.mfa) { location.assign(signInURL(home, location.pathname)); return; } // a step only the sign-in pages take
    passwordForm.hidden = true;
    codeForm.hidden = false;
    document.getElementById('code').focus();
  },
});

onSubmit(codeForm, {
  validate: () => checkCode(document.getElementById('code')),
  action: async () => {
    if (await auth.answerMfa(normaliseCode(document.getElementById('code').value)) === Step.done) signedInAgain();
  },
});

onSessionEnded(() => {
  if (!uploader.busy) return false;
  sessionLost();
  return true;
});

window.addEventListener('beforeunload', (event) => {
  if (!uploader.uploads.some((u) => isMoving(u.state))) return;
  event.preventDefault();
  event.returnValue = '';
});

// Speed and time left move even when no byte event arrives.
setInterval(() => {
  for (const upload of uploader.uploads) if (upload.state === 'uploading') scheduleRender(upload);
}, 1000);

await pruneUnfinished();
renderUnfinished();
const wanted = new URLSearchParams(location.search).get('resume');
if (wanted) {
  const record = pending.get(wanted);
  const item = unfinishedList.querySelector(`[data-video-id="${CSS.escape(wanted)}"] button`);
  if (record && item) item.focus();
  else setNotice(notice, t('upload.resumeElsewhere'), 'warning');
}
document.documentElement.dataset.uploadReady = 'true';
