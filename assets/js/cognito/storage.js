// What the app keeps between page loads, and nothing more. Tokens: the access and ID tokens live in
// memory only; the refresh token in sessionStorage (this tab, until it closes). Never localStorage,
// never a cookie. See SECURITY.md for why.

const SESSION = 'sstech.session';
const CHALLENGE = 'sstech.challenge';
const PENDING = 'sstech.pending';
const NOTICE = 'sstech.notice';

/** Challenges older than this are dropped (Cognito's sessions last three minutes). */
export const CHALLENGE_LIFETIME_MS = 3 * 60_000;

/** The app's keys in a Storage (`sessionStorage` in the browser); `storage` is injected so tests can use a Map-backed one. */
export class AppStorage {
  constructor(storage) {
    this.storage = storage;
  }

  #read(key) {
    try {
      const text = this.storage.getItem(key);
      return text ? JSON.parse(text) : null;
    } catch {
      return null;
    }
  }

  #write(key, value) {
    if (value === null || value === undefined) this.storage.removeItem(key);
    else this.storage.setItem(key, JSON.stringify(value));
  }

  /** `{ refreshToken, username }` of the signed-in user, or null. */
  get session() { return this.#read(SESSION); }
  set session(value) { this.#write(SESSION, value); }

  /** The sign-in challenge in progress (`{ name, session, username, email, createdAt }`), while fresh. */
  challenge(now) {
    const value = this.#read(CHALLENGE);
    if (!value || now - value.createdAt > CHALLENGE_LIFETIME_MS) return null;
    return value;
  }
  set challengeValue(value) { this.#write(CHALLENGE, value); }

  /** The e-mail address a sign-up or reset is waiting on (`{ email }`). */
  get pending() { return this.#read(PENDING); }
  set pending(value) { this.#write(PENDING, value); }

  /** A message for the next page to show once (`{ key, values }`), e.g. after an idle sign-out. */
  takeNotice() {
    const value = this.#read(NOTICE);
    this.#write(NOTICE, null);
    return value;
  }
  set notice(value) { this.#write(NOTICE, value); }
}
