// Token arithmetic: what a JWT says about itself, and when to refresh it. Pure.

/** The claims of a JWT (its payload), without checking the signature: the app only reads its own tokens. */
export function readClaims(jwt) {
  const part = String(jwt).split('.')[1];
  if (!part) throw new Error('not a JWT');
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** When a token stops being accepted, in ms since the epoch (server time). */
export function expiresAt(claims) {
  return claims.exp * 1000;
}

/** The earliest lead before expiry at which the app refreshes: a minute, or a tenth of the lifetime if shorter. */
export function refreshLead(issuedAt, expiry) {
  return Math.min(60_000, Math.max(1_000, (expiry - issuedAt) / 10));
}

/** Milliseconds from `now` until the refresh is due (0 if it already is). All times in server time. */
export function refreshDelay({ issuedAt, expiry, now }) {
  return Math.max(0, expiry - refreshLead(issuedAt, expiry) - now);
}

/** Whether a token expiring at `expiry` should no longer be sent at `now` (with a margin for the request's trip). */
export function isExpired(expiry, now, margin = 5_000) {
  return now + margin >= expiry;
}
