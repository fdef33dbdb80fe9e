// The player: the video from /media/ on the site's origin, opened by the signed cookies of the media
// session — its HLS ladder by the browser's own HLS, else through MSE (player/mse.js), else the MP4
// (also for videos without a ladder; `?playback=native|mse|mp4` forces a path) — with the thumbnail
// as poster, YouTube-style keys, quality and speed menus, picture-in-picture, and the place the user
// stopped (per user and video, wiped on sign-out). When the media are refused mid-play (the cookies
// ran out), the session is renewed and play goes on at the same moment. A video that is not ready
// shows its status, and plays once it is.
import { t, ready, mediaReady, renewMediaSession, api, onSignOut, sessionOpen } from './app.js';
import { setNotice } from '../ui/form.js';
import { RATES, keyAction } from '../player/keys.js';
import { PositionStore, resumeAt } from '../player/position.js';
import { formatBytes, formatDuration, formatDate } from '../format.js';
import { reasonKey } from '../library/reason.js';
import { parseMaster } from '../player/hls.js';
import { MsePlayer } from '../player/mse.js';
import { playableVariants } from '../player/support.js';
import { choosePath, forcedPath, qualityChoices, policyAllowsBlobMedia } from '../player/path.js';

const STATUS_POLL_MS = 3000;
const SAVE_EVERY_MS = 5000;

const lang = document.documentElement.lang;
const notice = document.getElementById('notice');
const state = document.getElementById('state');
const stateTitle = document.getElementById('state-title');
const stateBody = document.getElementById('state-body');
const stateProgress = document.getElementById('state-progress');
const player = document.getElementById('player');
const video = document.getElementById('video');
const title = document.getElementById('video-title');
const meta = document.getElementById('video-meta');
const speed = document.getElementById('speed');
const quality = document.getElementById('quality');
const qualityField = document.getElementById('quality-field');
const pip = document.getElementById('pip');
const restart = document.getElementById('restart');
const siteTitle = document.title.split(' · ').pop();

const user = await ready;
const positions = new PositionStore(localStorage, user.sub);
const id = new URLSearchParams(location.search).get('id') ?? '';
let current = null;
/** The last time the video really reached, kept apart from `currentTime`, which a failed load resets. */
let lastTime = 0;
let savedAt = 0;
let refreshing = null;
/** How the video plays now: 'native', 'mse' or 'mp4' (also `data-playback` on the player). */
let path = null;
/** The path Auto in the quality menu returns to. */
let autoPath = null;
/** The ladder's master playlist (parsed), its renditions MSE can play, and the MSE player when in use. */
let master = null;
let mseRenditions = [];
let mse = null;
let pinnedHeight = null;
const forced = forcedPath(location.search);
/** MSE plays from a blob: URL, which the page's policy must allow (`?playback=mse` tries regardless). */
const blobMedia = forced === 'mse' || policyAllowsBlobMedia(document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content);

function showState(heading, body, progress = null) {
  player.hidden = true;
  state.hidden = false;
  const first = stateTitle.textContent === '';
  stateTitle.textContent = heading;
  stateBody.textContent = body;
  stateProgress.hidden = progress == null;
  if (progress != null) stateProgress.value = progress;
  if (first) stateTitle.focus();
}

async function fetchVideo() {
  try {
    return await api.getVideo(id);
  } catch (error) {
    if (error?.status === 404 || error?.status === 400) return null;
    throw error;
  }
}

/** Shows the video's status until it is ready, then the player. */
async function open() {
  let entry;
  try {
    entry = /^[a-z2-7]{26}$/.test(id) ? await fetchVideo() : null;
  } catch (error) {
    if (error?.name === 'CognitoError') return;
    setNotice(notice, t('player.loadFailed'), 'warning');
    setTimeout(open, STATUS_POLL_MS * 3);
    return;
  }
  setNotice(notice, '');
  if (!entry) {
    showState(t('player.notFoundTitle'), t('player.notFound'));
    return;
  }
  document.title = `${entry.title} · ${siteTitle}`;
  const percent = Math.floor((entry.progress ?? 0) * 100);
  switch (entry.status) {
    case 'ready': await play(entry); return;
    case 'failed': showState(t('player.failedTitle'), t('player.failed', { title: entry.title, reason: t(reasonKey(entry.error)) })); return;
    case 'converting': showState(t('player.convertingTitle'), t('player.converting', { title: entry.title, percent }), entry.progress ?? 0); break;
    default: showState(t(`player.${entry.status}Title`), t(`player.${entry.status}`, { title: entry.title }));
  }
  setTimeout(open, document.hidden ? STATUS_POLL_MS * 10 : STATUS_POLL_MS);
}

async function play(entry) {
  await mediaReady();
  current = entry;
  state.hidden = true;
  player.hidden = false;
  title.textContent = entry.title;
  const details = [formatBytes(entry.sizeBytes, lang)];
  if (entry.durationSeconds) details.push(formatDuration(entry.durationSeconds, lang));
  if (entry.cutFromSeconds) details.push(t('player.cut', { source: formatDuration(entry.cutFromSeconds, lang) }));
  details.push(formatDate(entry.createdAt, lang));
  meta.textContent = details.join(' · ');
  if (entry.thumbnailUrl) video.poster = entry.thumbnailUrl;
  video.dataset.videoId = entry.id;
  master = entry.streamUrl && forced !== 'mp4' ? await loadMaster(entry.streamUrl) : null;
  mseRenditions = master && blobMedia ? playableVariants(master) : [];
  autoPath = choosePath({ hasStream: Boolean(master), native: video.canPlayType('application/vnd.apple.mpegurl') !== '', mse: mseRenditions.length > 0, nativeFirst: 'ManagedMediaSource' in window, forced });
  usePath(autoPath, resumeAt(positions.get(entry.id), entry.durationSeconds));
  title.focus();
}

// MARK: the three paths

/** The ladder's master playlist, or null when it cannot be had (the MP4 plays instead). */
async function loadMaster(url) {
  for (let tries = 0; tries < 2; tries += 1) {
    try {
      const response = await fetch(url, { credentials: 'same-origin' });
      if (response.ok) return parseMaster(await response.text(), new URL(url, location.href).href);
      // A 403 (or a 404, from a distribution that maps 403 to its 404 page): the cookies may have run out.
      if (![403, 404].includes(response.status) || !(await renewMediaSession())) return null;
    } catch {
      return null;
    }
  }
  return null;
}

/** Plays the current video by `next`, from second `at` (the MSE player starts fetching there). */
function usePath(next, at = 0) {
  mse?.destroy();
  mse = null;
  path = next;
  player.dataset.playback = next;
  delete player.dataset.rendition;
  if (next === 'mse') {
    mse = new MsePlayer(video, master, {
      renew: () => renewMediaSession().then(Boolean),
      onRendition: (height) => showRendition(height),
      onError: () => fallBackToMp4(),
      neededHeight: () => video.clientHeight * (window.devicePixelRatio || 1),
    });
    mse.pin(pinnedIndex());
    mse.start(at).catch(() => fallBackToMp4());
  } else {
    video.src = next === 'native' ? current.streamUrl : current.playbackUrl;
  }
  fillQualityMenu();
}

/** The stream could not go on (MSE gave up, native HLS failed twice): the MP4, from the same moment. */
function fallBackToMp4() {
  if (path === 'mp4') return;
  const time = lastTime || resumeAt(positions.get(current.id), current.durationSeconds);
  refreshing = { time, playing: !video.paused || video.dataset.wasPlaying === 'true' };
  autoPath = 'mp4';
  usePath('mp4');
}

/** Switches path keeping the moment and whether it was playing. */
function switchPath(next) {
  refreshing = { time: lastTime, playing: !video.paused };
  usePath(next, lastTime);
}

function showRendition(height) {
  if (height > 0) player.dataset.rendition = String(height);
  const auto = quality.querySelector('option[value="auto"]');
  if (auto) auto.textContent = pinnedHeight == null && height > 0 ? t('player.autoWith', { height }) : t('player.auto');
}

// The native and MP4 paths: the height of the picture the element shows.
video.addEventListener('resize', () => { if (path !== 'mse' && video.videoHeight > 0) showRendition(video.videoHeight); });

// MARK: the quality menu

function pinnedIndex() {
  if (pinnedHeight == null) return null;
  const index = mseRenditions.findLastIndex((r) => r.height === pinnedHeight);
  return index < 0 ? null : index;
}

function fillQualityMenu() {
  const choices = qualityChoices(mseRenditions.length ? mseRenditions : master?.variants ?? [], { path, canPin: mseRenditions.length > 0 });
  qualityField.hidden = choices.length === 0;
  quality.replaceChildren(...choices.map(({ value, height }) => {
    const option = document.createElement('option');
    option.value = value;
    option.textContent = height ? t('player.height', { height }) : t('player.auto');
    return option;
  }));
  quality.value = pinnedHeight == null ? 'auto' : String(pinnedHeight);
  const shown = Number(player.dataset.rendition);
  if (shown) showRendition(shown);
}

quality.addEventListener('change', () => {
  pinnedHeight = quality.value === 'auto' ? null : Number(quality.value);
  if (pinnedHeight != null && path !== 'mse') {
    switchPath('mse'); // only MSE can hold one rendition
  } else if (pinnedHeight == null && path !== autoPath) {
    switchPath(autoPath);
  } else {
    mse?.pin(pinnedIndex());
    showRendition(Number(player.dataset.rendition));
  }
});

// MARK: where the user stopped

video.addEventListener('loadedmetadata', () => {
  if (refreshing) {
    // The same file reloaded with a fresh session: back to the same moment, playing if it was.
    const { time, playing } = refreshing;
    refreshing = null;
    video.currentTime = time;
    if (playing) video.play().catch(() => {});
    return;
  }
  const at = resumeAt(positions.get(current.id), video.duration);
  if (at > 0) {
    video.currentTime = at;
    restart.hidden = false;
    setNotice(notice, t('player.resumed', { time: formatDuration(at, lang) }));
  }
});

function savePosition(force = false) {
  if (!current || !Number.isFinite(video.duration) || !sessionOpen()) return;
  const now = Date.now();
  if (!force && now - savedAt < SAVE_EVERY_MS) return;
  savedAt = now;
  positions.save(current.id, lastTime, video.duration, now);
}

video.addEventListener('timeupdate', () => {
  if (refreshing || video.readyState < 1) return;
  lastTime = video.currentTime;
  savePosition();
});
video.addEventListener('pause', () => savePosition(true));
video.addEventListener('ended', () => { if (current && sessionOpen()) positions.clear(current.id); });
window.addEventListener('pagehide', () => savePosition(true));

// Signing out: nothing more is loaded (a response arriving after the cache was emptied would be
// kept) and nothing more is saved (the pause and pagehide that follow would write the position
// back after the wipe).
onSignOut(() => {
  mse?.destroy();
  mse = null;
  current = null;
  video.pause();
  video.removeAttribute('src');
  video.removeAttribute('poster');
  video.load();
});

restart.addEventListener('click', () => {
  video.currentTime = 0;
  restart.hidden = true;
  setNotice(notice, '');
  video.focus();
});

// MARK: media refused mid-play

let lastRenewal = 0;
/** A new media session, then the same file again from the same moment; false when it cannot be had. */
async function renewMedia() {
  if (!current || Date.now() - lastRenewal < 5_000) return false;
  lastRenewal = Date.now();
  if (!(await renewMediaSession())) return false;
  const fresh = await fetchVideo().catch(() => null);
  if (!fresh || fresh.status !== 'ready') return false;
  current = fresh;
  refreshing = { time: lastTime, playing: !video.paused || video.dataset.wasPlaying === 'true' };
  video.src = path === 'native' && fresh.streamUrl ? fresh.streamUrl : fresh.playbackUrl;
  return true;
}

video.addEventListener('playing', () => { video.dataset.wasPlaying = 'true'; });
video.addEventListener('pause', () => { if (!video.error) video.dataset.wasPlaying = 'false'; });
video.addEventListener('error', async () => {
  // A network or "source" error on /media/ is most often the session's cookies running out (403).
  if (!current || !video.error) return;
  // Through MSE the downloads renew the session themselves; an element error is data it cannot play.
  if (path === 'mse') { fallBackToMp4(); return; }
  if (await renewMedia()) return;
  if (path === 'native') fallBackToMp4();
  else setNotice(notice, t('player.mediaError'), 'warning');
});

// MARK: speed, picture-in-picture, keys

for (const rate of RATES) {
  const option = document.createElement('option');
  option.value = String(rate);
  option.textContent = rate === 1 ? t('player.normal') : t('player.rate', { rate: new Intl.NumberFormat(lang).format(rate) });
  speed.append(option);
}
speed.value = '1';
speed.addEventListener('change', () => { video.playbackRate = Number(speed.value); });
video.addEventListener('ratechange', () => { speed.value = String(video.playbackRate); });

if (document.pictureInPictureEnabled && !video.disablePictureInPicture) {
  pip.hidden = false;
  pip.addEventListener('click', async () => {
    try {
      if (document.pictureInPictureElement) await document.exitPictureInPicture();
      else await video.requestPictureInPicture();
    } catch {
      // Refused (e.g. no metadata yet): nothing to undo.
    }
  });
}

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName));
}

document.addEventListener('keydown', (event) => {
  if (player.hidden || typing(event.target)) return;
  // Space and Enter belong to a focused button, link or summary.
  if ((event.key === ' ' || event.key === 'Enter') && event.target.closest?.('button, a, summary')) return;
  const action = keyAction(event, { currentTime: video.currentTime, duration: video.duration, volume: video.volume, muted: video.muted, playbackRate: video.playbackRate });
  if (!action) return;
  event.preventDefault();
  event.stopPropagation();
  switch (action.type) {
    case 'toggle': if (video.paused) video.play().catch(() => {}); else video.pause(); break;
    case 'seek': video.currentTime = action.to; lastTime = action.to; break;
    case 'volume': video.volume = action.to; if (action.unmute) video.muted = false; break;
    case 'mute': video.muted = action.to; break;
    case 'rate': video.playbackRate = action.to; break;
    case 'fullscreen':
      if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
      else video.requestFullscreen?.().catch(() => {});
      break;
    default:
  }
}, { capture: true });

await open();
