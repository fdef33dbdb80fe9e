// Where to go after signing in: `?next=` names a path on this site, nothing else.

/**
 * `value` if it is a same-origin path (`/library/?sort=new#top`), else `fallback`.
 * Refused: absolute and protocol-relative URLs (`https://…`, `//evil.example`), backslash tricks
 * browsers read as `//` (`/\evil`), schemes (`javascript:`), control characters, and anything that
 * does not start with a single `/`.
 */
export function safeNext(value, fallback) {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return fallback;
  if (!value.startsWith('/')) return fallback;
  // Browsers strip tabs and newlines from URLs and treat `\` as `/`, so judge what they would see.
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return fallback;
  if (value.startsWith('//')) return fallback;
  // Resolving against a dummy origin must keep that origin and the same path.
  let url;
  try {
    url = new URL(value, 'https://origin.invalid');
  } catch {
    return fallback;
  }
  if (url.origin !== 'https://origin.invalid') return fallback;
  return url.pathname + url.search + url.hash;
}

/** The sign-in page's URL that returns to `path` afterwards. */
export function signInURL(home, path) {
  return `${home}login/?next=${encodeURIComponent(path)}`;
}
