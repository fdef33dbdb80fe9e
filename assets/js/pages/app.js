// Every page's start: config and strings, the session restored from this tab, the page's access rule
// (`auth: required` sends a signed-out visitor to sign in and back; `auth: guest` sends a signed-in
// user to the library), the header's account area, the language links, and the idle sign-out.
import { readConfig } from '../config.js';
import { readStrings, translator } from '../i18n.js';
import { Auth } from '../cognito/auth.js';
import { VideoApi } from '../upload/api.js';
import { AppStorage } from '../cognito/storage.js';
import { CognitoError, errorKey } from '../cognito/errors.js';
import { safeNext, signInURL } from '../nav/next.js';
import { watchIdle } from '../ui/idle.js';

export const config = readConfig(document) ?? {};
export const t = translator(readStrings(document));
/** This language's home, `/` or `/en/`. */
export const home = document.body.dataset.home || '/';
export const storage = new AppStorage(sessionStorage);
export const auth = config.cognito ? new Auth({ config: config.cognito, storage }) : null;
const IDLE_MINUTES = config.session?.idleMinutes ?? 30;
/** The video API client every page shares: the session's token on every call, the environment's base URL. */
export const api = auth && config.api ? new VideoApi({ fetchAPI: (url, init) => auth.fetchAPI(url, init), baseUrl: config.api.baseUrl }) : null;

// MARK: the media session

let mediaSession = Promise.resolve(null);

/**
 * Asks the video API for the signed cookies that open this user's media (`/media/videos/<sub>/`,
 * HttpOnly, so never readable here) until the access token expires. Called on every sign-in and
 * token refresh; resolves with `{ mediaPath, expiresAt }`, or null when it could not be had.
 */
export function renewMediaSession() {
  if (!auth?.user || !api) return Promise.resolve(null);
  mediaSession = api.openMediaSession().catch(() => null);
  return mediaSession;
}

/** Resolves once the current media session call has ended (its answer, or null). */
export function mediaReady() {
  return mediaSession;
}

auth?.onChange((user) => { if (user) renewMediaSession(); });

/** Where a signed-in user goes: `?next=` when it is a path on this site, else the library. */
export function nextPage() {
  return safeNext(new URLSearchParams(location.search).get('next'), `${home}library/`);
}

/** `path` with this page's `?next=` kept, for moving between the sign-in steps. */
export function withNext(path) {
  const next = new URLSearchParams(location.search).get('next');
  return next ? `${path}?next=${encodeURIComponent(next)}` : path;
}

/** The message for an error, in this page's language (a clock too far off says by how much). */
export function messageFor(error) {
  if (error instanceof CognitoError && error.type === 'ClockError') return t('errors.ClockError', { amount: describeDuration(error.offset ?? 0) });
  return t(errorKey(error));
}

/** "3 minutes" / "2 hours" / "5 days" in this page's language. */
export function describeDuration(ms) {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const [value, unit] = minutes < 120 ? [Math.max(1, minutes), 'minute'] : minutes < 2880 ? [Math.round(minutes / 60), 'hour'] : [Math.round(minutes / 1440), 'day'];
  return new Intl.NumberFormat(document.documentElement.lang, { style: 'unit', unit, unitDisplay: 'long' }).format(value);
}

/** Erases every trace the app keeps in this browser: both storages, IndexedDB databases, caches. */
export async function wipeTraces() {
  sessionStorage.clear();
  localStorage.clear();
  const databases = (await indexedDB.databases?.()) ?? [];
  await Promise.all(databases.map(({ name }) => new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = request.onblocked = resolve;
  })));
  if (globalThis.caches) for (const key of await caches.keys()) await caches.delete(key);
}

let signingOut = false;
let sessionEndedHandler = null;
const signOutHandlers = new Set();
let busyHolds = 0;

/**
 * A page with work in flight (an upload) takes the session's end itself: `handler()` returning true
 * keeps the visitor on the page instead of sending them to sign in at once.
 */
export function onSessionEnded(handler) {
  sessionEndedHandler = handler;
}

/**
 * Work the user asked for and left running (an upload) counts as activity for the idle sign-out
 * until the returned function is called.
 */
export function holdIdle() {
  busyHolds += 1;
  let released = false;
  return () => { if (!released) { released = true; busyHolds -= 1; } };
}

/**
 * `handler()` runs at once when sign-out begins, before anything is wiped: a page stops what would
 * load media or write the user's data (the player's position) from then on, since whatever it
 * wrote after the wipe would outlive the session.
 */
export function onSignOut(handler) {
  signOutHandlers.add(handler);
}

/** Whether the user's data may still be written: false from the moment sign-out begins. */
export function sessionOpen() {
  return !signingOut && Boolean(auth?.user);
}

/** Signs out (server and browser) and lands on the sign-in page with `notice`. */
export async function signOut(notice = { key: 'status.signedOut' }) {
  if (signingOut) return;
  signingOut = true;
  for (const handler of signOutHandlers) {
    try { handler(); } catch { /* a page's trouble must not keep the session alive */ }
  }
  // The media cookies are HttpOnly: only the API can take them back, while the token is still good.
  if (auth?.user && api) await api.closeMediaSession().catch(() => {});
  await auth?.signOut();
  await wipeTraces();
  storage.notice = notice;
  location.assign(`${home}login/`);
}

function showHeader(user) {
  for (const element of document.querySelectorAll('[data-signed-in]')) element.hidden = !user;
  for (const element of document.querySelectorAll('[data-signed-out]')) element.hidden = Boolean(user);
  const who = document.getElementById('who-email');
  if (who) who.textContent = user?.email ?? '';
}

/** The language links keep the query string (a half-done flow keeps its `next`). */
function keepQueryOnLanguageLinks() {
  if (!location.search) return;
  for (const link of document.querySelectorAll('.languages a[hreflang]')) {
    const url = new URL(link.href, location.href);
    url.search = location.search;
    link.href = url.pathname + url.search;
  }
}

const never = new Promise(() => {});

async function start() {
  keepQueryOnLanguageLinks();
  document.getElementById('sign-out')?.addEventListener('click', () => signOut());
  const rule = document.body.dataset.auth;
  let user = null;
  if (auth) {
    try {
      user = await auth.restore();
    } catch {
      user = null; // service unreachable: shown as signed out; the refresh token stays for a reload
    }
  }
  if (rule === 'required' && !user) {
    location.replace(signInURL(home, location.pathname + location.search + location.hash));
    return never;
  }
  if (rule === 'guest' && user) {
    location.replace(nextPage());
    return never;
  }
  showHeader(user);
  auth?.onChange((current) => {
    showHeader(current);
    // A session that ended under us (its refresh refused) on a page that needs one: back to sign-in.
    if (!current && !signingOut && document.body.dataset.auth === 'required') {
      if (sessionEndedHandler?.() === true) return;
      storage.notice = { key: 'status.sessionEnded' };
      location.assign(signInURL(home, location.pathname + location.search));
    }
  });
  if (user) {
    watchIdle({ minutes: IDLE_MINUTES, t, busy: () => busyHolds > 0, onExpire: () => signOut({ key: 'status.signedOutIdle', values: { minutes: IDLE_MINUTES } }) });
  }
  document.documentElement.dataset.ready = 'true';
  return user;
}

/** Resolves with the signed-in user (or null) once the page may be shown; never, when it redirects. */
export const ready = start();
