// The authenticator app's view of the account: the otpauth:// URI its QR code carries, and the
// secret grouped for typing by hand. Pure.

export const ISSUER = 'SStech';

/** `otpauth://totp/SStech:<email>?secret=…&issuer=SStech`, with the label's parts percent-encoded. */
export function totpURI({ account, secret, issuer = ISSUER }) {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = `secret=${encodeURIComponent(secret.replace(/\s+/g, '').toUpperCase())}&issuer=${encodeURIComponent(issuer)}`;
  return `otpauth://totp/${label}?${query}`;
}

/** The secret in groups of four characters, as people copy it: `JBSW Y3DP EHPK 3PXP`. */
export function groupSecret(secret) {
  return secret.replace(/\s+/g, '').toUpperCase().match(/.{1,4}/g)?.join(' ') ?? '';
}

/** The digits of a typed or pasted code (`123 456`, `123-456`), or null if it is not six digits. */
export function normaliseCode(text) {
  const digits = String(text).replace(/[\s-]/g, '');
  return /^[0-9]{6}$/.test(digits) ? digits : null;
}
