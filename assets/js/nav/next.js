// Where to go after signing in: `?next=` names a path on this site, nothing else.

// An encoded `/` (`%2f`), `\` (`%5c`) or control character (`%00`–`%1f`, `%7f`), in either case.
const ENCODED_SEPARATOR_OR_CONTROL = /%(?:2f|5c|[01][0-9a-f]|7f)/i;

/**
 * `value` if it is a same-origin path (`/library/?sort=new#top`), else `fallback`.
 * Refused: absolute and protocol-relative URLs (`https://…`, `//evil.example`), backslash tricks
 * browsers read as `//` (`/\evil`), schemes (`javascript:`), control characters, anything that
 * does not start with a single `/`, and paths that become `//host` once dot segments are removed
 * (`/.//evil.example`, `/a/..//evil.example`, `/%2e%2e//evil.example`), and paths holding an
 * encoded slash, backslash or control character (`/%2F%2Fevil.example`). The path returned is the
 * resolved one, judged as the browser will read it; its query and fragment are kept as they are.
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
  // No page here has an encoded separator or control character in its path, and a server or
  // proxy that decodes before routing would read `/%2F%2Fevil.example` as `//evil.example`.
  if (ENCODED_SEPARATOR_OR_CONTROL.test(url.pathname)) return fallback;
  return url.pathname + url.search + url.hash;
}

/** The sign-in page's URL that returns to `path` afterwards. */
export function signInURL(home, path) {
  return `${home}login/?next=${encodeURIComponent(path)}`;
}
