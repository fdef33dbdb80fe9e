// How the player plays a video, and what its quality menu offers. Pure: the browser's answers are
// handed in by the page.

/** The three ways to play: the browser's own HLS, HLS through Media Source Extensions, the MP4. */
export const PATHS = ['native', 'mse', 'mp4'];

/**
 * The path for a video: `hasStream` (it has an HLS ladder), `native` (the browser plays HLS itself),
 * `mse` (MediaSource takes the ladder's codecs), `nativeFirst` (the browser's own HLS is the
 * platform's player: Apple's, told by `ManagedMediaSource`), `forced` (`?playback=` — used when it
 * can be). Where both are there, MSE comes first except on Apple's platforms: bench/stream.py
 * measured Chromium's own HLS several times slower to its first frame than the app's MSE player,
 * with ten times the bytes (bench/results/stream-2026-12-05.md), and only MSE follows the player's
 * size and lets a height be chosen directly. The MP4 last, and for a video without a ladder.
 */
export function choosePath({ hasStream, native, mse, nativeFirst = false, forced = null }) {
  if (!hasStream || forced === 'mp4') return 'mp4';
  if (forced === 'native' && native) return 'native';
  if (forced === 'mse' && mse) return 'mse';
  if (native && (nativeFirst || !mse)) return 'native';
  if (mse) return 'mse';
  return 'mp4';
}

/** `?playback=` read from a query string: one of PATHS, or null. */
export function forcedPath(search) {
  const value = new URLSearchParams(search).get('playback');
  return PATHS.includes(value) ? value : null;
}

/**
 * Whether a Content-Security-Policy lets media play from `blob:` URLs, as MSE needs
 * (`URL.createObjectURL(mediaSource)`): its `media-src`, else its `default-src`, lists `blob:`.
 * No policy (or neither directive) allows it. `*` does not: it never covers `blob:`.
 */
export function policyAllowsBlobMedia(policy) {
  const directives = new Map((policy ?? '').split(';').map((d) => d.trim().split(/\s+/)).filter(([name]) => name)
    .map(([name, ...sources]) => [name.toLowerCase(), sources]));
  const sources = directives.get('media-src') ?? directives.get('default-src');
  return !sources || sources.some((source) => source.toLowerCase() === 'blob:');
}

/**
 * The quality menu's entries: `{ value: 'auto' }` first, then `{ value: '<height>', height }` for
 * each rendition, highest first (heights once each). Only Auto when heights cannot be chosen
 * (`canPin` false: no MSE to pin a rendition with); none at all on the MP4 path.
 */
export function qualityChoices(renditions, { path, canPin }) {
  if (path === 'mp4') return [];
  const heights = canPin ? [...new Set(renditions.map((r) => r.height).filter((h) => h > 0))].sort((a, b) => b - a) : [];
  return [{ value: 'auto' }, ...heights.map((height) => ({ value: String(height), height }))];
}
