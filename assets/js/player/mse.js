// The HLS ladder played through Media Source Extensions: one SourceBuffer per track (video; audio
// from the master's audio group, fetched in step), the rendition picked before each video segment
// by abr.js (its init segment appended first when it changes), a bounded forward buffer with played
// data given back, seeking, the end of the stream, and failed downloads retried (a 403 renews the
// media session first; download.js). One loop does every SourceBuffer operation, so they never
// overlap. The window, fetch and clock are parameters, so the logic can be driven by fakes.
import { parseMedia } from './hls.js';
import { Throughput, chooseRendition } from './abr.js';
import { segmentAt, bufferedAhead, rangesOf, nextTrack, evictionRange, allDone, isBuffered, FORWARD_BUFFER } from './schedule.js';
import { StreamError, download, retrying, sleepFor } from './download.js';
import { mediaSourceClass, mimeTypes, playableVariants, defaultAudio } from './support.js';

/** How long the loop rests when the buffer is full, unless the video wakes it sooner (ms). */
const IDLE_MS = 500;

/**
 * Plays `master` (a parsed master playlist) in `video`. Options: `renew()` → Promise<boolean> (a new
 * media session), `onRendition(height)` when the picture on screen changes rendition,
 * `onError(error)` when it cannot go on, `neededHeight()` the player's height in device pixels,
 * `fetch`, `now` (ms), `win` (for MediaSource and URL). `start(at)` begins at second `at`;
 * `pin(index | null)` fixes a rendition or goes back to automatic; `destroy()` lets go of everything.
 */
export class MsePlayer {
  constructor(video, master, { renew = async () => false, onRendition = () => {}, onError = () => {},
    neededHeight = () => 0, fetch: fetchImpl = globalThis.fetch.bind(globalThis), now = () => performance.now(), win = globalThis } = {}) {
    this.video = video;
    this.renditions = playableVariants(master, win);
    if (this.renditions.length === 0) throw new StreamError('this browser cannot play any rendition of the stream through MSE');
    this.audio = defaultAudio(master);
    this.options = { renew, onRendition, onError, neededHeight, fetchImpl, now, win };
    this.throughput = new Throughput();
    this.pinned = null;
    this.destroyed = false;
    this.shown = null;
    /** Video segments appended: `{ start, end, height }`, to tell which rendition is on screen. */
    this.appended = [];
    this.playlists = new Map();
    this.inits = new Map();
    this.seekTo = null;
    this.controller = new AbortController();
    this.wakeController = new AbortController();
    this.listeners = [];
  }

  /** Starts loading at second `at` (resolves once the MediaSource is open and the loop runs). */
  async start(at = 0) {
    const { win } = this.options;
    this.startAt = at;
    const MS = mediaSourceClass(win);
    this.mediaSource = new MS();
    // ManagedMediaSource plays only with remote playback off (or an AirPlay alternative).
    if (MS === win.ManagedMediaSource) this.video.disableRemotePlayback = true;
    const opened = new Promise((resolve) => this.mediaSource.addEventListener('sourceopen', resolve, { once: true }));
    this.url = win.URL.createObjectURL(this.mediaSource);
    this.video.src = this.url;
    const first = chooseRendition({ renditions: this.renditions, neededHeight: this.options.neededHeight(), pinned: this.pinned });
    const signal = this.controller.signal;
    const [videoList, audioList] = await Promise.all([
      this.#retrying(() => this.#playlist(this.renditions[first].uri, signal), signal),
      this.audio?.uri ? this.#retrying(() => this.#playlist(this.audio.uri, signal), signal) : null,
      opened,
    ]);
    if (this.destroyed) return;
    const audioInGroup = Boolean(audioList);
    this.mediaSource.duration = Math.max(videoList.duration, audioList?.duration ?? 0);
    const types = mimeTypes(this.renditions[first], audioInGroup);
    this.tracks = [{ kind: 'video', buffer: this.mediaSource.addSourceBuffer(types.video), list: videoList, rendition: null, needsInit: true, next: segmentAt(videoList.segments, at), fetching: null }];
    if (audioInGroup) {
      this.tracks.push({ kind: 'audio', buffer: this.mediaSource.addSourceBuffer(types.audio), list: audioList, rendition: 'audio', needsInit: true, next: segmentAt(audioList.segments, at), fetching: null });
    }
    this.#listen('seeking', () => this.#onSeeking());
    this.#listen('timeupdate', () => { this.#reportRendition(); this.#wake(); });
    this.#listen('waiting', () => this.#onWaiting());
    this.#run().catch((error) => { if (!this.destroyed) this.options.onError(error); });
  }

  /**
   * Fixes the rendition at `index` of `renditions`, or null for automatic. A choice the user makes
   * shows soon: the video buffered beyond the segment playing is dropped and fetched again.
   */
  pin(index) {
    if (index === this.pinned) return;
    this.pinned = index;
    if (this.tracks) {
      this.flushAhead = true;
      this.controller.abort();
    }
    this.#wake();
  }

  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.controller.abort();
    this.wakeController.abort();
    for (const [type, handler] of this.listeners) this.video.removeEventListener(type, handler);
    this.video.removeAttribute('src');
    this.video.load();
    if (this.url) this.options.win.URL.revokeObjectURL(this.url);
  }

  #listen(type, handler) {
    this.video.addEventListener(type, handler);
    this.listeners.push([type, handler]);
  }

  #wake() {
    this.wakeController.abort();
  }

  /**
   * Where play stands: the element's time once it has metadata; before that (its time is 0 until
   * the first data are in), the second the player was started at — else a start far into the
   * video would look like a full forward buffer and nothing would ever be fetched.
   */
  #playhead() {
    return this.video.readyState >= 1 ? this.video.currentTime : this.startAt ?? 0;
  }

  #nextStart(track) {
    return track.next < track.list.segments.length ? track.list.segments[track.next].start : Infinity;
  }

  /** Whether the MediaSource still feeds the video (another `src` given to it removes its buffers). */
  #attached() {
    return !this.destroyed && this.mediaSource?.readyState !== 'closed';
  }

  #onSeeking() {
    if (!this.#attached()) return;
    const time = this.video.currentTime;
    // Already buffered, or the very segment each track is about to fetch: nothing to throw away.
    const fine = this.tracks.every((track) => {
      const ranges = rangesOf(track.buffer.buffered);
      if (isBuffered(ranges, time)) return true;
      const wanted = segmentAt(track.list.segments, time);
      return ranges.length === 0 && (track.fetching ?? track.next) === wanted;
    });
    if (!fine) {
      this.seekTo = time;
      this.controller.abort();
    }
    this.#wake();
  }

  #onWaiting() {
    if (!this.#attached()) return;
    // Data the browser dropped by itself (ManagedMediaSource may): fetch from the playhead again.
    const time = this.video.currentTime;
    if (this.video.seeking || isBuffered(rangesOf(this.video.buffered), time)) return;
    if (this.tracks.some((track) => this.#nextStart(track) > time + 1 && !isBuffered(rangesOf(track.buffer.buffered), time))) {
      this.seekTo = time;
      this.controller.abort();
      this.#wake();
    }
  }

  #reportRendition() {
    const time = this.video.currentTime;
    const entry = this.appended.findLast((e) => e.start <= time + 0.05 && time < e.end);
    if (entry && entry.height !== this.shown) {
      this.shown = entry.height;
      this.options.onRendition(entry.height);
    }
  }

  async #run() {
    while (this.#attached()) {
      if (this.seekTo !== null) await this.#resetTo(this.seekTo);
      else if (this.flushAhead) await this.#dropVideoAhead();
      if (this.controller.signal.aborted) this.controller = new AbortController();
      this.#nudgeOverStartGap();
      const time = this.#playhead();
      await this.#evictPlayed(time);
      const states = this.tracks.map((track) => ({ nextStart: this.#nextStart(track), done: track.next >= track.list.segments.length }));
      const pick = nextTrack(states, time, FORWARD_BUFFER);
      if (pick === null) {
        if (allDone(states) && this.mediaSource.readyState === 'open' && this.tracks.every((t) => !t.buffer.updating)) {
          this.mediaSource.endOfStream();
        }
        await this.#rest(IDLE_MS);
        continue;
      }
      try {
        await this.#fetchNext(this.tracks[pick]);
      } catch (error) {
        if (this.destroyed) return;
        if (error?.name === 'AbortError') continue; // a seek: the loop starts over from it
        throw error;
      }
    }
  }

  async #rest(ms) {
    this.wakeController = new AbortController();
    await sleepFor(ms, this.wakeController.signal);
  }

  /** Throws away what is buffered and points every track at the segment holding `time`. */
  async #resetTo(time) {
    this.seekTo = null;
    this.flushAhead = false;
    for (const track of this.tracks) {
      await this.#settled(track.buffer);
      if (this.mediaSource.readyState === 'open') track.buffer.abort();
      const end = this.mediaSource.duration;
      if (track.buffer.buffered.length > 0 && end > 0) {
        track.buffer.remove(0, end);
        await this.#settled(track.buffer);
      }
      track.next = segmentAt(track.list.segments, time);
      track.fetching = null;
      track.needsInit = true;
    }
    this.appended = [];
  }

  /** Drops the video buffered after the segment playing now; the track goes on from there. */
  async #dropVideoAhead() {
    this.flushAhead = false;
    const track = this.tracks[0];
    for (const other of this.tracks) other.fetching = null;
    const from = segmentAt(track.list.segments, this.video.currentTime) + 1;
    if (from >= track.list.segments.length || from >= track.next) return;
    const start = track.list.segments[from].start;
    await this.#settled(track.buffer);
    track.buffer.remove(start, this.mediaSource.duration);
    await this.#settled(track.buffer);
    track.next = from;
    this.appended = this.appended.filter((entry) => entry.start < start);
  }

  /** Starts play when the first data begin a moment after the playhead (a stream starting at 0.07 s). */
  #nudgeOverStartGap() {
    const video = this.video;
    if (video.seeking || video.readyState >= 3 || video.buffered.length === 0) return;
    const time = video.currentTime;
    if (isBuffered(rangesOf(video.buffered), time)) return;
    const ahead = rangesOf(video.buffered).find(([start]) => start > time && start - time < 1);
    if (ahead) video.currentTime = ahead[0] + 0.001;
  }

  async #evictPlayed(time) {
    // An ended stream has nothing more to fetch, and a removal would reopen it.
    if (this.mediaSource.readyState !== 'open') return;
    for (const track of this.tracks) {
      const range = evictionRange(rangesOf(track.buffer.buffered), time);
      if (range && !track.buffer.updating) {
        track.buffer.remove(range[0], range[1]);
        await this.#settled(track.buffer);
      }
    }
  }

  async #fetchNext(track) {
    const signal = this.controller.signal;
    if (track.kind === 'video') await this.#chooseVideo(track, signal);
    if (track.needsInit) {
      // A new rendition's init segment goes in before its first media segment.
      const init = track.list.segments[track.next].map;
      if (init) await this.#append(track, await this.#initBytes(init, signal), signal);
      track.needsInit = false;
    }
    const index = track.next;
    const segment = track.list.segments[index];
    track.fetching = index;
    const { bytes, seconds } = await this.#retrying(() => download(this.options.fetchImpl, segment.uri, segment.byteRange, signal, this.options.now), signal);
    track.fetching = null;
    this.throughput.add(bytes.length, seconds);
    if (signal.aborted) throw new DOMException('seek', 'AbortError');
    await this.#append(track, bytes, signal);
    if (track.kind === 'video') {
      this.appended.push({ start: segment.start, end: segment.start + segment.duration, height: this.renditions[track.rendition].height });
      this.#reportRendition();
    }
    track.next = index + 1;
  }

  /** Picks the rendition for the video track's next segment; a change loads its playlist and init. */
  async #chooseVideo(track, signal) {
    const time = this.#playhead();
    const index = chooseRendition({
      renditions: this.renditions,
      current: track.rendition,
      throughput: this.throughput.estimate(),
      buffer: bufferedAhead(rangesOf(track.buffer.buffered), time),
      neededHeight: this.options.neededHeight(),
      pinned: this.pinned,
    });
    if (index === track.rendition) return;
    const at = track.next < track.list.segments.length ? track.list.segments[track.next].start : track.list.duration;
    const list = await this.#retrying(() => this.#playlist(this.renditions[index].uri, signal), signal);
    if (signal.aborted) throw new DOMException('seek', 'AbortError');
    track.list = list;
    // The renditions share their cuts; finding the segment by time keeps that true if they do not.
    track.next = at >= list.duration ? list.segments.length : segmentAt(list.segments, at + 0.01);
    track.rendition = index;
    track.needsInit = true;
  }

  async #playlist(uri, signal) {
    if (this.playlists.has(uri)) return this.playlists.get(uri);
    const { bytes } = await download(this.options.fetchImpl, uri, null, signal, this.options.now);
    const list = parseMedia(new TextDecoder().decode(bytes), uri);
    this.playlists.set(uri, list);
    return list;
  }

  async #initBytes(map, signal) {
    const key = `${map.uri}#${map.byteRange?.offset ?? ''}`;
    if (!this.inits.has(key)) {
      const { bytes } = await this.#retrying(() => download(this.options.fetchImpl, map.uri, map.byteRange, signal, this.options.now), signal);
      this.inits.set(key, bytes);
    }
    return this.inits.get(key);
  }

  #retrying(attempt, signal) {
    return retrying(attempt, { signal, renew: this.options.renew, stopped: () => this.destroyed });
  }

  /** Appends `bytes`; a full buffer gives back played data and tries again. */
  async #append(track, bytes, signal) {
    for (;;) {
      await this.#settled(track.buffer);
      if (this.destroyed) throw new DOMException('destroyed', 'AbortError');
      try {
        track.buffer.appendBuffer(bytes);
        await this.#settled(track.buffer);
        return;
      } catch (error) {
        if (error?.name !== 'QuotaExceededError') throw new StreamError(`the browser refused the ${track.kind} data: ${error?.message ?? error}`);
        const range = evictionRange(rangesOf(track.buffer.buffered), this.video.currentTime, { aggressive: true });
        if (range) {
          track.buffer.remove(range[0], range[1]);
        } else {
          await sleepFor(IDLE_MS, signal); // nothing played to give back yet: wait for playback to move
          if (signal?.aborted) throw new DOMException('seek', 'AbortError');
        }
      }
    }
  }

  /** Resolves when `buffer` is not updating (rejects when it reports an error). */
  #settled(buffer) {
    if (!buffer.updating) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => { buffer.removeEventListener('error', failed); resolve(); };
      const failed = () => { buffer.removeEventListener('updateend', done); reject(new StreamError('the browser could not read the stream')); };
      buffer.addEventListener('updateend', done, { once: true });
      buffer.addEventListener('error', failed, { once: true });
    });
  }
}
