// The library: the signed-in user's videos, newest first, each with its thumbnail, title, size,
// duration, date and status. Polls while something is uploading or converting (slower in a hidden
// tab, not at all when nothing is); a filter by title; delete behind a confirmation dialog; an
// unfinished upload of this browser offers to resume. Above them, the user's usage against their
// limits, loaded beside the videos; when it cannot be loaded it stays hidden and nothing else changes.
import { t, ready, home, mediaReady, renewMediaSession, api } from './app.js';
import { setNotice } from '../ui/form.js';
import { PendingUploads } from '../upload/resume.js';
import { formatBytes, formatDuration, formatDate } from '../format.js';
import { reasonKey } from '../library/reason.js';
import { usageMeters } from '../limits.js';

const VISIBLE_POLL_MS = 3000;
const HIDDEN_POLL_MS = 30_000;
const IN_FLIGHT = new Set(['uploading', 'queued', 'converting']);

const lang = document.documentElement.lang;
const list = document.getElementById('videos');
const notice = document.getElementById('notice');
const empty = document.getElementById('empty');
const tools = document.getElementById('tools');
const filter = document.getElementById('filter');
const filterCount = document.getElementById('filter-count');
const dialog = document.getElementById('delete-dialog');
const dialogTitle = document.getElementById('delete-title');
const heading = document.getElementById('page-title');
const usageSection = document.getElementById('usage');
const usageList = document.getElementById('usage-list');

const user = await ready;
const pending = new PendingUploads(localStorage, user.sub);
/** id → { item, signature, video } of the cards on the page. */
const cards = new Map();
let videos = [];
let timer = 0;
let failures = 0;

const fold = (text) => text.normalize('NFD').replace(/\p{M}/gu, '').toLocaleLowerCase(lang);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function playerURL(video) {
  return `${home}player/?id=${encodeURIComponent(video.id)}`;
}

function statusText(video) {
  switch (video.status) {
    case 'converting': return t('library.status.convertingPercent', { percent: Math.floor((video.progress ?? 0) * 100) });
    case 'failed': return t('library.status.failed');
    default: return t(`library.status.${video.status}`);
  }
}

/** Ids of the uploads this browser remembers and can resume; read once per render. */
let resumable = new Set();

function card(video) {
  const item = element('li', 'video-card');
  item.dataset.videoId = video.id;
  item.dataset.status = video.status;
  const ready = video.status === 'ready';

  const thumb = element(ready ? 'a' : 'div', 'thumb');
  if (ready) {
    thumb.href = playerURL(video);
    thumb.tabIndex = -1; // the title link is the one stop for keyboards
    thumb.setAttribute('aria-hidden', 'true');
  }
  if (ready && video.thumbnailUrl) {
    const image = element('img');
    image.alt = '';
    image.loading = 'lazy';
    image.decoding = 'async';
    image.src = video.thumbnailUrl;
    // Refused (the session's cookies ran out): once more after a new session.
    image.addEventListener('error', () => {
      if (image.dataset.retried) return;
      image.dataset.retried = 'true';
      renewMediaSession().then((session) => { if (session) image.src = video.thumbnailUrl; });
    });
    thumb.append(image);
  } else {
    thumb.classList.add('placeholder');
    thumb.append(element('span', 'thumb-status', statusText(video)));
  }
  if (video.durationSeconds) thumb.append(element('span', 'duration', formatDuration(video.durationSeconds, lang)));

  const body = element('div', 'video-body');
  const title = element('h2', 'video-title');
  if (ready) {
    const link = element('a', '', video.title);
    link.href = playerURL(video);
    title.append(link);
  } else {
    title.textContent = video.title;
  }
  const meta = [formatBytes(video.sizeBytes, lang)];
  if (video.durationSeconds) meta.push(formatDuration(video.durationSeconds, lang));
  meta.push(formatDate(video.createdAt, lang));
  const details = element('p', 'video-meta', meta.join(' · '));

  const status = element('p', 'video-status');
  status.dataset.status = video.status;
  status.append(element('span', 'badge', statusText(video)));
  if (video.status === 'converting') {
    const bar = element('progress');
    bar.max = 1;
    bar.value = video.progress ?? 0;
    bar.setAttribute('aria-label', t('library.convertingOf', { title: video.title }));
    status.append(bar);
  }
  const parts = [title, details, status];
  // Longer than the longest video converted: only its beginning was, and its owner is told so.
  if (ready && video.cutFromSeconds) {
    parts.push(element('p', 'video-detail video-cut', t('library.cut', {
      kept: formatDuration(video.durationSeconds, lang), source: formatDuration(video.cutFromSeconds, lang) })));
  }
  if (video.status === 'failed') {
    parts.push(element('p', 'video-error', t(reasonKey(video.error))));
    if (video.error) parts.push(element('p', 'video-detail', t('library.reason.detail', { detail: video.error })));
  }

  const actions = element('div', 'actions');
  if (ready) {
    const watch = element('a', 'button small primary', t('library.watch'));
    watch.href = playerURL(video);
    watch.setAttribute('aria-label', `${t('library.watch')}: ${video.title}`);
    actions.append(watch);
  }
  if (video.status === 'uploading' && resumable.has(video.id)) {
    const resume = element('a', 'button small primary', t('library.resume'));
    resume.href = `${home}upload/?resume=${encodeURIComponent(video.id)}`;
    resume.dataset.action = 'resume';
    resume.setAttribute('aria-label', `${t('library.resume')}: ${video.title}`);
    actions.append(resume);
  }
  const remove = element('button', 'button small quiet danger', t('library.delete'));
  remove.type = 'button';
  remove.dataset.action = 'delete';
  remove.setAttribute('aria-label', `${t('library.delete')}: ${video.title}`);
  remove.addEventListener('click', () => confirmDelete(video, remove));
  actions.append(remove);
  parts.push(actions);
  body.append(...parts);
  item.append(thumb, body);
  return item;
}

/** What the card shows; a card is rebuilt only when this changes (a new presigned URL alone does not). */
function signature(video) {
  return JSON.stringify([video.title, video.status, video.progress == null ? null : Math.floor(video.progress * 100),
    video.error, video.durationSeconds, video.cutFromSeconds, video.sizeBytes, video.status === 'uploading' && resumable.has(video.id)]);
}

function render() {
  list.removeAttribute('aria-busy');
  resumable = new Set(pending.list().map((record) => record.videoId));
  const seen = new Set();
  let previous = null;
  for (const video of videos) {
    seen.add(video.id);
    const sig = signature(video);
    let entry = cards.get(video.id);
    if (!entry || entry.signature !== sig) {
      const item = card(video);
      const hadFocus = entry?.item.contains(document.activeElement);
      if (entry) entry.item.replaceWith(item);
      entry = { item, signature: sig, video };
      cards.set(video.id, entry);
      if (hadFocus) item.querySelector('a, button')?.focus();
    }
    entry.video = video;
    const expected = previous ? previous.nextSibling : list.firstChild;
    if (expected !== entry.item) list.insertBefore(entry.item, expected);
    previous = entry.item;
  }
  for (const [id, entry] of cards) {
    if (!seen.has(id)) { entry.item.remove(); cards.delete(id); }
  }
  empty.hidden = videos.length > 0;
  tools.hidden = videos.length === 0;
  applyFilter();
}

function applyFilter() {
  const query = fold(filter.value.trim());
  let shown = 0;
  for (const { item, video } of cards.values()) {
    const match = !query || fold(video.title).includes(query);
    item.hidden = !match;
    if (match) shown += 1;
  }
  filterCount.textContent = query ? t('library.filterCount', { shown, total: cards.size }) : '';
}
filter.addEventListener('input', applyFilter);

// MARK: usage

/** The videos (ids and statuses) the usage on the page was loaded for: it changes only when they do. */
let usageFor = null;

/** One meter: its label, the `<meter>` (its colour changes near and at the limit) and its words, which say it all without colour. */
function usageItem(meter) {
  const item = element('li', 'usage-item');
  item.dataset.limit = meter.id;
  item.dataset.level = meter.level;
  const label = element('label', 'usage-label', meter.label);
  label.htmlFor = `usage-${meter.id}`;
  const gauge = element('meter', '', meter.text);
  gauge.id = `usage-${meter.id}`;
  Object.assign(gauge, { min: 0, max: meter.max, low: meter.low, high: meter.high, optimum: 0, value: meter.value });
  gauge.setAttribute('aria-describedby', `usage-${meter.id}-text`);
  const text = element('p', 'usage-text', meter.text);
  text.id = `usage-${meter.id}-text`;
  item.append(label, gauge, text);
  return item;
}

/** Loads the usage again when the videos changed since it was loaded; a failure keeps what is shown (or nothing). */
async function refreshUsage() {
  const key = JSON.stringify(videos.map((video) => [video.id, video.status]));
  if (key === usageFor) return;
  usageFor = key;
  let meters;
  try {
    meters = usageMeters(await api.usage(), { t, lang });
  } catch {
    usageFor = null; // tried again with the next load
    return;
  }
  usageList.replaceChildren(...meters.map(usageItem));
  usageSection.hidden = meters.length === 0;
}

async function load() {
  clearTimeout(timer);
  try {
    videos = await api.listVideos();
    await mediaReady(); // the thumbnails need the session's cookies
    failures = 0;
    render();
    refreshUsage();
    if (notice.dataset.tone === 'warning') setNotice(notice, '');
  } catch (error) {
    if (error?.name === 'CognitoError') return; // the session ended; app.js takes the visitor to sign in
    failures += 1;
    list.removeAttribute('aria-busy');
    setNotice(notice, t('library.loadFailed'), 'warning');
  }
  schedule();
}

/** Polls while something is on its way (or the last load failed); slower when the tab is hidden. */
function schedule() {
  clearTimeout(timer);
  const moving = videos.some((video) => IN_FLIGHT.has(video.status));
  if (!moving && failures === 0) return;
  const base = document.hidden ? HIDDEN_POLL_MS : VISIBLE_POLL_MS;
  timer = setTimeout(load, failures ? Math.min(60_000, base * 2 ** Math.min(failures, 4)) : base);
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) load(); // back to the tab: fresh at once, then the fast pace
  else schedule();
});

// MARK: delete

let deleting = null;

function confirmDelete(video, opener) {
  deleting = { video, opener };
  dialogTitle.textContent = t('library.deleteTitle', { title: video.title });
  dialog.returnValue = '';
  dialog.showModal();
  document.getElementById('delete-cancel').focus();
}

dialog.addEventListener('close', async () => {
  const target = deleting;
  deleting = null;
  if (!target) return;
  if (dialog.returnValue !== 'delete') { target.opener.focus(); return; }
  const { video } = target;
  const entry = cards.get(video.id);
  entry?.item.setAttribute('aria-busy', 'true');
  try {
    await api.deleteVideo(video.id);
  } catch (error) {
    entry?.item.removeAttribute('aria-busy');
    if (error?.status !== 404) {
      setNotice(notice, t('library.deleteFailed', { title: video.title }), 'warning');
      target.opener.focus();
      return;
    }
  }
  pending.remove(video.id);
  // Focus goes to the next video's first control, or the heading when none is left.
  const next = entry?.item.nextElementSibling ?? entry?.item.previousElementSibling;
  videos = videos.filter((v) => v.id !== video.id);
  render();
  refreshUsage();
  setNotice(notice, t('library.deleted', { title: video.title }), 'success');
  (next?.querySelector('a[href], button') ?? heading).focus();
});

await load();
