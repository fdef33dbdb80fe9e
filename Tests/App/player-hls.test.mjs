// The HLS parser: the ladder the converters write (the contract's master, an ffmpeg-written media
// playlist), plain segmented playlists, byte ranges with and without offsets, odd but valid text,
// and malformed playlists refused with the line at fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMaster, parseMedia, parseAttributes, parseByteRange, isMasterPlaylist, codecsByKind, PlaylistError } from '../../assets/js/player/hls.js';

const BASE = 'https://video.example/media/videos/sub-1/vid/hls/index.m3u8';
const HERE = 'https://video.example/media/videos/sub-1/vid/hls/';

// The master the conversion writes (the contract of issue 26): audio group, lowest rung first.
const CONTRACT_MASTER = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,URI="index_audio.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"
index_360p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1600000,RESOLUTION=854x480,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"
index_480p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"
index_720p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=5500000,RESOLUTION=1920x1080,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio"
index_1080p.m3u8
`;

// Written by ffmpeg 6 (-hls_segment_type fmp4 -hls_flags single_file+independent_segments, 2-s cuts).
const FFMPEG_720P = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="index_720p.cmfv",BYTERANGE="846@0"
#EXTINF:2.000000,
#EXT-X-BYTERANGE:585798@846
index_720p.cmfv
#EXTINF:2.000000,
#EXT-X-BYTERANGE:672957@586644
index_720p.cmfv
#EXTINF:2.000000,
#EXT-X-BYTERANGE:633691@1259601
index_720p.cmfv
#EXTINF:2.000000,
#EXT-X-BYTERANGE:628188@1893292
index_720p.cmfv
#EXTINF:2.000000,
#EXT-X-BYTERANGE:606355@2521480
index_720p.cmfv
#EXTINF:2.000000,
#EXT-X-BYTERANGE:613151@3127835
index_720p.cmfv
#EXTINF:2.000000,
#EXT-X-BYTERANGE:615474@3740986
index_720p.cmfv
#EXTINF:2.000000,
#EXT-X-BYTERANGE:647287@4356460
index_720p.cmfv
#EXTINF:2.000000,
#EXT-X-BYTERANGE:646164@5003747
index_720p.cmfv
#EXTINF:2.000000,
#EXT-X-BYTERANGE:633452@5649911
index_720p.cmfv
#EXT-X-ENDLIST
`;

const FFMPEG_AUDIO = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="index_audio.cmfa",BYTERANGE="777@0"
#EXTINF:2.005333,
#EXT-X-BYTERANGE:31528@777
index_audio.cmfa
#EXTINF:2.005333,
#EXT-X-BYTERANGE:28678@32305
index_audio.cmfa
#EXTINF:0.021333,
#EXT-X-BYTERANGE:578@60983
index_audio.cmfa
#EXT-X-ENDLIST
`;

test('the contract master: renditions lowest first, sizes, codecs, the audio group, URIs resolved', () => {
  const master = parseMaster(CONTRACT_MASTER, BASE);
  assert.equal(isMasterPlaylist(CONTRACT_MASTER), true);
  assert.equal(master.independentSegments, true);
  assert.deepEqual(master.variants.map((v) => v.height), [360, 480, 720, 1080]);
  assert.deepEqual(master.variants[2], {
    uri: `${HERE}index_720p.m3u8`, bandwidth: 3_000_000, averageBandwidth: null, width: 1280, height: 720,
    codecs: ['avc1.64001f', 'mp4a.40.2'], frameRate: null, audioGroup: 'audio',
  });
  assert.deepEqual(master.audio, [{ groupId: 'audio', name: 'Audio', uri: `${HERE}index_audio.m3u8`, isDefault: true, language: null }]);
});

test('a master listed highest first comes out lowest first; a source without audio has no group', () => {
  const master = parseMaster(`#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS="avc1.64001f"
index_720p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360,CODECS="avc1.64001f"
index_360p.m3u8
`, BASE);
  assert.deepEqual(master.variants.map((v) => [v.height, v.audioGroup, v.codecs]), [[360, null, ['avc1.64001f']], [720, null, ['avc1.64001f']]]);
  assert.deepEqual(master.audio, []);
});

test('the media playlist ffmpeg writes: init map, 2-s segments with byte ranges, end', () => {
  const list = parseMedia(FFMPEG_720P, `${HERE}index_720p.m3u8`);
  assert.equal(isMasterPlaylist(FFMPEG_720P), false);
  assert.equal(list.targetDuration, 2);
  assert.equal(list.type, 'VOD');
  assert.equal(list.ended, true);
  assert.equal(list.segments.length, 10);
  assert.equal(list.duration, 20);
  const map = { uri: `${HERE}index_720p.cmfv`, byteRange: { offset: 0, length: 846 } };
  assert.deepEqual(list.segments[0], { uri: `${HERE}index_720p.cmfv`, start: 0, duration: 2, byteRange: { offset: 846, length: 585798 }, map });
  assert.deepEqual(list.segments[9].byteRange, { offset: 5649911, length: 633452 });
  assert.equal(list.segments[9].start, 18);
  // Each range begins where the one before ended.
  for (let i = 1; i < list.segments.length; i += 1) {
    const [a, b] = [list.segments[i - 1].byteRange, list.segments[i].byteRange];
    assert.equal(b.offset, a.offset + a.length);
  }
});

test('audio: uneven durations add up; starts are sums of what came before', () => {
  const list = parseMedia(FFMPEG_AUDIO, `${HERE}index_audio.m3u8`);
  assert.deepEqual(list.segments.map((s) => s.start), [0, 2.005333, 4.010666]);
  assert.ok(Math.abs(list.duration - 4.031999) < 1e-9);
  assert.equal(list.segments[0].map.uri, `${HERE}index_audio.cmfa`);
});

test('a plain segmented playlist: one URI per segment, no byte ranges, no map; URIs relative and absolute', () => {
  const list = parseMedia(`#EXTM3U
#EXT-X-TARGETDURATION:6
#EXTINF:6,
seg0.ts
#EXTINF:6.0,title
sub/seg1.ts
#EXTINF:3.5,
https://cdn.example/seg2.ts
#EXT-X-ENDLIST`, 'https://video.example/a/b/index.m3u8');
  assert.deepEqual(list.segments.map((s) => [s.uri, s.start, s.duration, s.byteRange, s.map]), [
    ['https://video.example/a/b/seg0.ts', 0, 6, null, null],
    ['https://video.example/a/b/sub/seg1.ts', 6, 6, null, null],
    ['https://cdn.example/seg2.ts', 12, 3.5, null, null],
  ]);
});

test('a byte range without an offset continues the previous range of the same file', () => {
  const list = parseMedia(`#EXTM3U
#EXT-X-MAP:URI="v.mp4",BYTERANGE="100@0"
#EXTINF:2,
#EXT-X-BYTERANGE:500@100
v.mp4
#EXTINF:2,
#EXT-X-BYTERANGE:700
v.mp4
#EXTINF:2,
#EXT-X-BYTERANGE:300
v.mp4
#EXT-X-ENDLIST`, BASE);
  assert.deepEqual(list.segments.map((s) => s.byteRange), [{ offset: 100, length: 500 }, { offset: 600, length: 700 }, { offset: 1300, length: 300 }]);
  assert.deepEqual(parseByteRange('10@5'), { offset: 5, length: 10 });
  assert.deepEqual(parseByteRange('10', { offset: 5, length: 10 }), { offset: 15, length: 10 });
});

test('odd but valid: CRLF, blank lines, comments, unknown tags, attributes in any order, a BOM', () => {
  const text = '\uFEFF#EXTM3U\r\n\r\n# a comment\r\n#EXT-X-FUTURE-THING:X=1\r\n'
    + '#EXT-X-MEDIA:URI="a.m3u8",DEFAULT=NO,GROUP-ID="aud",TYPE=AUDIO,NAME="Main, stereo"\r\n'
    + '#EXT-X-STREAM-INF:AUDIO="aud",CODECS="mp4a.40.2,avc1.64001f",RESOLUTION=1920x1080,BANDWIDTH=5000000,FRAME-RATE=30.000\r\n'
    + '\r\n   v1080.m3u8   \r\n';
  const master = parseMaster(text, BASE);
  assert.equal(master.variants[0].uri, `${HERE}v1080.m3u8`);
  assert.equal(master.variants[0].height, 1080);
  assert.equal(master.variants[0].frameRate, 30);
  assert.deepEqual(master.variants[0].codecs, ['mp4a.40.2', 'avc1.64001f']);
  assert.deepEqual(codecsByKind(master.variants[0].codecs), { video: 'avc1.64001f', audio: 'mp4a.40.2' });
  assert.equal(master.audio[0].name, 'Main, stereo');
  const media = parseMedia('#EXTM3U\r\n#EXT-X-SOMETHING-NEW\r\n\r\n#EXTINF:2.0,\r\n# between\r\nseg.ts\r\n', BASE);
  assert.equal(media.segments[0].uri, `${HERE}seg.ts`);
  assert.equal(media.ended, false);
});

test('attribute lists: quoted commas, bare values, and broken lists refused', () => {
  assert.deepEqual(parseAttributes('BANDWIDTH=1,CODECS="a,b",RESOLUTION=2x3'), { BANDWIDTH: '1', CODECS: 'a,b', RESOLUTION: '2x3' });
  assert.deepEqual(parseAttributes('A="x" , B=2'), { A: 'x', B: '2' });
  assert.throws(() => parseAttributes('CODECS="a,b'), /not closed/);
  assert.throws(() => parseAttributes('=3'), /cannot read/);
  assert.throws(() => parseAttributes('A="x"B=2'), /expected a comma after A/);
});

test('malformed playlists are refused with what is wrong and where', () => {
  const refused = (fn, pattern) => assert.throws(fn, (error) => error instanceof PlaylistError && pattern.test(error.message), String(pattern));
  refused(() => parseMaster('#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8', BASE), /line 1: not an HLS playlist: it does not begin with #EXTM3U/);
  refused(() => parseMedia('', BASE), /does not begin with #EXTM3U/);
  refused(() => parseMedia('#EXTM3U\n#EXTINF:2,\n#EXTINF:2,\na.ts', BASE), /line 2: EXTINF without a URI/);
  refused(() => parseMedia('#EXTM3U\n#EXTINF:2,\n#EXT-X-ENDLIST', BASE), /line 2: EXTINF without a URI/);
  refused(() => parseMedia('#EXTM3U\nseg.ts', BASE), /line 2: "seg.ts": a URI with no EXTINF/);
  refused(() => parseMedia('#EXTM3U\n#EXTINF:abc,\na.ts', BASE), /bad segment duration/);
  refused(() => parseMedia('#EXTM3U\n#EXTINF:2,\n#EXT-X-BYTERANGE:12@x\na.ts', BASE), /line 3: bad byte range "12@x"/);
  refused(() => parseMedia('#EXTM3U\n#EXTINF:2,\n#EXT-X-BYTERANGE:12\na.ts', BASE), /has no offset and follows no range/);
  refused(() => parseMedia('#EXTM3U\n#EXT-X-ENDLIST', BASE), /no segments/);
  refused(() => parseMaster('#EXTM3U\n#EXT-X-VERSION:7\n', BASE), /lists no variant/);
  refused(() => parseMaster('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n', BASE), /line 2: EXT-X-STREAM-INF without a URI/);
  refused(() => parseMaster('#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\nv.m3u8', BASE), /without a BANDWIDTH/);
  refused(() => parseMaster('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO="a"\nv.m3u8', BASE), /audio group "a", which no EXT-X-MEDIA defines/);
  refused(() => parseMedia(CONTRACT_MASTER, BASE), /cannot list variants/);
});
