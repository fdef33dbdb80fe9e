// Where to go after signing in: `?next=` names a path on this site, nothing else.

/**
 * `value` if it is a same-origin path (`/library/?sort=new#top`), else `fallback`.
 * Refused: absolute and protocol-relative URLs (`https://…`, `//evil.example`), backslash tricks
 * browsers read as `//` (`/\evil`), schemes (`javascript:`), control characters, anything that
 * does not start with a single `/`, and paths that become `//host` once dot segments are removed
 * (`/.//evil.example`, `/a/..//evil.example`, `/%2e%2e//evil.example`): the path returned is the
 * resolved one, and it is judged as the browser will read it.
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
  // The resolved path is what a navigation to the result would be read as: `//host` there is
  // another origin again.
  if (url.pathname.startsWith('//') || url.pathname.includes('\\')) return fallback;
  return url.pathname + url.search + url.hash;
}

/** The sign-in page's URL that returns to `path` afterwards. */
export function signInURL(home, path) {
  return `${home}login/?next=${encodeURIComponent(path)}`;
}
