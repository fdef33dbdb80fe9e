// The MSE player's arithmetic: which segment holds a time, how much is buffered ahead, which track
// to fetch for next, and what played data to give back. Pure: buffered ranges come in as
// `[[start, end], …]` (a SourceBuffer's TimeRanges, read into arrays by the caller).

/** Seconds buffered ahead of the playhead the player aims for; it stops fetching beyond. */
export const FORWARD_BUFFER = 30;
/** Seconds of played data kept behind the playhead (a short seek back needs no fetch). */
export const BACK_BUFFER = 10;
/** Gaps this small (seconds) between buffered ranges are played through, so they count as joined. */
export const GAP_TOLERANCE = 0.3;

/** `TimeRanges` as `[[start, end], …]`. */
export function rangesOf(timeRanges) {
  const out = [];
  for (let i = 0; i < (timeRanges?.length ?? 0); i += 1) out.push([timeRanges.start(i), timeRanges.end(i)]);
  return out;
}

/**
 * The index of the segment that holds `time` (`segments` being `{ start, duration }`, in order): a
 * time before the first is the first's, one at or past the end the last's.
 */
export function segmentAt(segments, time) {
  if (segments.length === 0) return -1;
  let low = 0;
  let high = segments.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (segments[mid].start <= time + 1e-6) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Where the buffered data that `time` is in (or just before, within GAP_TOLERANCE) ends; `time` when none. */
export function bufferedEnd(ranges, time) {
  let end = time;
  for (const [start, stop] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (start <= end + GAP_TOLERANCE && stop > end) end = stop;
  }
  return end;
}

/** Seconds buffered from `time` on, in one run (small gaps joined). */
export function bufferedAhead(ranges, time) {
  return bufferedEnd(ranges, time) - time;
}

/** Whether `time` is inside the buffered data (or within GAP_TOLERANCE before it). */
export function isBuffered(ranges, time) {
  return ranges.some(([start, stop]) => start <= time + GAP_TOLERANCE && time < stop);
}

/**
 * The track to fetch for next, or null when every track has enough (FORWARD_BUFFER seconds ahead of
 * `time`) or nothing left. `tracks` are `{ nextStart, done }`: the start time of the segment it
 * would fetch next, and whether it has fetched its last. The track furthest behind goes first, so
 * audio and video move in step.
 */
export function nextTrack(tracks, time, forward = FORWARD_BUFFER) {
  let chosen = null;
  for (const [index, track] of tracks.entries()) {
    if (track.done || track.nextStart >= time + forward) continue;
    if (chosen === null || track.nextStart < tracks[chosen].nextStart) chosen = index;
  }
  return chosen;
}

/** Played data is given back in pieces of at least this many seconds, not a sliver every moment. */
export const EVICT_CHUNK = 5;

/**
 * The played range to give back: everything from the first buffered time up to BACK_BUFFER seconds
 * before `time`, as `[start, end]`, once that is EVICT_CHUNK seconds or more; else null.
 * `aggressive` (the store refused an append as full) keeps one second and takes any amount.
 */
export function evictionRange(ranges, time, { keep = BACK_BUFFER, aggressive = false } = {}) {
  if (ranges.length === 0) return null;
  const first = Math.min(...ranges.map(([start]) => start));
  const end = time - (aggressive ? 1 : keep);
  const least = aggressive ? 0.001 : EVICT_CHUNK;
  return end - first >= least ? [first, end] : null;
}

/** Whether every track has fetched its last segment, so the stream can be ended. */
export function allDone(tracks) {
  return tracks.length > 0 && tracks.every((track) => track.done);
}
