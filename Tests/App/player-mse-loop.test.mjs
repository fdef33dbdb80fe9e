// The MSE player's loop against fakes of MediaSource, SourceBuffer, the <video> and fetch: every
// segment appended in time order, audio and video in step, each rendition's init segment appended
// right before its first segment, a move up once the link is measured fast, endOfStream at the end,
// a 403 renewing the media session and the segment fetched again, a pinned rendition re-fetched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsePlayer } from '../../assets/js/player/mse.js';
import { parseMaster } from '../../assets/js/player/hls.js';

const BASE = 'https://video.example/media/videos/sub/vid/hls/';
const SEGMENTS = 6;
const SIZES = { '360p': 250_000, '720p': 750_000, audio: 32_000 };

const MASTER = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,URI="index_audio.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"
index_360p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"
index_720p.m3u8
`;

/** A media playlist of SEGMENTS 2-s segments in one file, with its init segment first. */
function mediaPlaylist(name, segments = SEGMENTS) {
  const ext = name === 'audio' ? 'cmfa' : 'cmfv';
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXT-X-PLAYLIST-TYPE:VOD', `#EXT-X-MAP:URI="index_${name}.${ext}",BYTERANGE="800@0"`];
  for (let i = 0; i < segments; i += 1) {
    lines.push('#EXTINF:2.000000,', `#EXT-X-BYTERANGE:${SIZES[name]}@${800 + i * SIZES[name]}`, `index_${name}.${ext}`);
  }
  return [...lines, '#EXT-X-ENDLIST', ''].join('\n');
}

/** What the fake SourceBuffer learns from appended bytes: they begin with `<file>@<offset>`. */
function describe(bytes) {
  const [file, offset] = new TextDecoder().decode(bytes.subarray(0, 40)).replace(/\0.*$/s, '').split('@');
  const name = /index_(\w+)\./.exec(file)[1];
  if (Number(offset) === 0) return { name, init: true };
  const index = (Number(offset) - 800) / SIZES[name];
  return { name, init: false, start: index * 2, end: index * 2 + 2 };
}

class FakeRanges {
  constructor(list) { this.list = list; }
  get length() { return this.list.length; }
  start(i) { return this.list[i][0]; }
  end(i) { return this.list[i][1]; }
}

function world({ refuseOnce = null, secondsPerMegabyte = 0.01, segments = SEGMENTS } = {}) {
  const log = [];
  let clock = 0;
  const state = { renewals: 0, ended: false, refused: [] };
  class SourceBuffer extends EventTarget {
    constructor(mime) { super(); this.mime = mime; this.updating = false; this.ranges = []; }
    get buffered() { return new FakeRanges(this.ranges); }
    appendBuffer(bytes) {
      const what = describe(bytes);
      log.push({ mime: this.mime, ...what });
      this.updating = true;
      setTimeout(() => {
        if (!what.init) this.ranges = merge([...this.ranges, [what.start, what.end]]);
        this.updating = false;
        this.dispatchEvent(new Event('updateend'));
      });
    }
    remove(start, end) {
      this.updating = true;
      setTimeout(() => {
        this.ranges = this.ranges.flatMap(([a, b]) => [[a, Math.min(b, start)], [Math.max(a, end), b]]).filter(([a, b]) => b > a);
        this.updating = false;
        this.dispatchEvent(new Event('updateend'));
      });
    }
    abort() {}
  }
  class MediaSource extends EventTarget {
    static isTypeSupported() { return true; }
    constructor() { super(); this.readyState = 'closed'; this.buffers = []; this.duration = NaN; }
    addSourceBuffer(mime) { const b = new SourceBuffer(mime); this.buffers.push(b); return b; }
    endOfStream() { this.readyState = 'ended'; state.ended = true; }
  }
  const win = {
    MediaSource,
    URL: {
      createObjectURL(ms) { setTimeout(() => { ms.readyState = 'open'; ms.dispatchEvent(new Event('sourceopen')); }); return 'blob:fake'; },
      revokeObjectURL() {},
    },
  };
  const video = Object.assign(new EventTarget(), {
    currentTime: 0, seeking: false, readyState: 4, clientHeight: 720, src: '',
    get buffered() { return new FakeRanges([]); },
    removeAttribute() {}, load() {},
  });
  const fetch = async (url, init) => {
    const name = url.slice(BASE.length);
    if (name.endsWith('.m3u8')) return respond(new TextEncoder().encode(mediaPlaylist(/index_(\w+)\.m3u8/.exec(name)[1], segments)));
    const [, from, to] = /bytes=(\d+)-(\d+)/.exec(init.headers.Range);
    if (refuseOnce && name === refuseOnce.file && Number(from) === refuseOnce.offset && !state.refused.length) {
      state.refused.push(name);
      return { ok: false, status: 403, arrayBuffer: async () => new ArrayBuffer(0) };
    }
    const bytes = new Uint8Array(Number(to) - Number(from) + 1);
    bytes.set(new TextEncoder().encode(`${name}@${from}`));
    clock += (bytes.length / 1e6) * secondsPerMegabyte * 1000;
    return respond(bytes);
  };
  const respond = (bytes) => ({ ok: true, status: 206, arrayBuffer: async () => bytes.buffer });
  const renew = async () => { state.renewals += 1; return true; };
  return { log, state, win, video, fetch, renew, now: () => clock };
}

function merge(ranges) {
  const sorted = ranges.sort((a, b) => a[0] - b[0]);
  const out = [];
  for (const [a, b] of sorted) {
    if (out.length && a <= out.at(-1)[1] + 0.01) out.at(-1)[1] = Math.max(out.at(-1)[1], b);
    else out.push([a, b]);
  }
  return out;
}

async function until(condition, what) {
  for (let i = 0; i < 400; i += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function play(w, options = {}, at = 0) {
  const player = new MsePlayer(w.video, parseMaster(MASTER, `${BASE}index.m3u8`), {
    fetch: w.fetch, now: w.now, win: w.win, renew: w.renew, neededHeight: () => 720, ...options,
  });
  player.start(at);
  return player;
}

test('started far into the video before it has metadata, it fetches from there at once', async () => {
  // A resumed position: the element's time stays 0 until the first data are in, so the loop must
  // not judge its forward buffer by it (45 s ahead of 0 would look full).
  const w = world({ segments: 30 });
  w.video.readyState = 0;
  const player = play(w, {}, 45);
  try {
    await until(() => w.log.some((e) => e.mime.startsWith('video/') && !e.init), 'a video segment');
  } finally {
    player.destroy();
  }
  const first = w.log.find((e) => e.mime.startsWith('video/') && !e.init);
  assert.equal(first.start, 44, 'the segment holding 45 s comes first');
});

test('every segment of both tracks appended in time order, in step, each after its init; then the end', async () => {
  const w = world({ secondsPerMegabyte: 4 }); // 2 Mbit/s: 360p only
  const player = play(w);
  await until(() => w.state.ended, 'endOfStream');
  player.destroy();
  const video = w.log.filter((e) => e.mime.startsWith('video/'));
  const audio = w.log.filter((e) => e.mime.startsWith('audio/'));
  assert.equal(w.log[0].mime, 'video/mp4; codecs="avc1.64001f"');
  assert.ok(audio[0].mime === 'audio/mp4; codecs="mp4a.40.2"');
  assert.deepEqual(video.map((e) => e.init ? 'init' : e.start), ['init', 0, 2, 4, 6, 8, 10]);
  assert.deepEqual(audio.map((e) => e.init ? 'init' : e.start), ['init', 0, 2, 4, 6, 8, 10]);
  assert.ok(video.every((e) => e.name === '360p'), 'a 2 Mbit/s link stays on 360p');
  // In step: neither track runs more than one segment ahead of the other.
  let v = 0;
  let a = 0;
  for (const entry of w.log.filter((e) => !e.init)) {
    if (entry.mime.startsWith('video/')) v += 1; else a += 1;
    assert.ok(Math.abs(v - a) <= 1, `video ${v} and audio ${a} segments apart`);
  }
});

test('a fast link moves up once 4 s are buffered; the new init goes right before its first segment', async () => {
  const w = world({ secondsPerMegabyte: 0.2 }); // 40 Mbit/s
  const renditions = [];
  const player = play(w, { onRendition: (height) => renditions.push(height) });
  await until(() => w.state.ended, 'endOfStream');
  player.destroy();
  const video = w.log.filter((e) => e.mime.startsWith('video/'));
  assert.deepEqual(video.map((e) => `${e.name}:${e.init ? 'init' : e.start}`),
    ['360p:init', '360p:0', '360p:2', '720p:init', '720p:4', '720p:6', '720p:8', '720p:10']);
  assert.deepEqual(renditions, [360], 'the picture at 0 s is 360p (the playhead has not moved)');
});

test('a 403 renews the media session and fetches the same segment again', async () => {
  const w = world({ secondsPerMegabyte: 4, refuseOnce: { file: 'index_360p.cmfv', offset: 800 + 2 * SIZES['360p'] } });
  const player = play(w);
  await until(() => w.state.ended, 'endOfStream');
  player.destroy();
  assert.equal(w.state.renewals, 1);
  assert.deepEqual(w.log.filter((e) => e.mime.startsWith('video/') && !e.init).map((e) => e.start), [0, 2, 4, 6, 8, 10]);
});

test('pinning a rendition drops the video buffered ahead and fetches it again in that rendition', async () => {
  const w = world({ secondsPerMegabyte: 4 });
  const player = play(w);
  await until(() => w.state.ended, 'endOfStream');
  const before = w.log.length;
  w.video.currentTime = 1; // playing the first segment
  player.pin(1);
  await until(() => w.log.slice(before).filter((e) => !e.init).length >= 5, 'the video fetched again');
  player.destroy();
  const again = w.log.slice(before);
  assert.deepEqual(again.map((e) => `${e.name}:${e.init ? 'init' : e.start}`),
    ['720p:init', '720p:2', '720p:4', '720p:6', '720p:8', '720p:10'], 'from the segment after the one playing');
});
