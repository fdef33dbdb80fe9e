// HLS playlists read into plain values: a master playlist (the renditions and the audio group) and a
// media playlist (segments with their times, byte ranges and init segment). URIs come out resolved
// against the playlist's own URL. Pure: text in, values or a PlaylistError out.

/** A playlist that cannot be played, with the line it failed on (1-based; 0 for the whole text). */
export class PlaylistError extends Error {
  constructor(message, line = 0) {
    super(line ? `line ${line}: ${message}` : message);
    this.name = 'PlaylistError';
    this.line = line;
  }
}

/**
 * An attribute list (`BANDWIDTH=1280000,CODECS="avc1.64001f,mp4a.40.2"`) as an object keyed by the
 * attribute names; quoted values lose their quotes and may hold commas. Throws on a broken list.
 */
export function parseAttributes(text, line = 0) {
  const attributes = {};
  let at = 0;
  while (at < text.length) {
    const match = /^\s*([A-Z0-9-]+)=/.exec(text.slice(at));
    if (!match) throw new PlaylistError(`cannot read the attribute list "${text}"`, line);
    const name = match[1];
    at += match[0].length;
    let value;
    if (text[at] === '"') {
      const close = text.indexOf('"', at + 1);
      if (close < 0) throw new PlaylistError(`the quoted value of ${name} is not closed`, line);
      value = text.slice(at + 1, close);
      at = close + 1;
    } else {
      const comma = text.indexOf(',', at);
      const end = comma < 0 ? text.length : comma;
      value = text.slice(at, end).trim();
      at = end;
    }
    attributes[name] = value;
    const rest = /^\s*(,|$)/.exec(text.slice(at));
    if (!rest) throw new PlaylistError(`expected a comma after ${name}`, line);
    at += rest[0].length;
  }
  return attributes;
}

/**
 * `<length>[@<offset>]` as `{ offset, length }`; without an offset the range starts where `previous`
 * (the last range of the same resource) ended. Throws when neither gives a start.
 */
export function parseByteRange(text, previous, line = 0) {
  const match = /^\s*(\d+)(?:@(\d+))?\s*$/.exec(text);
  if (!match) throw new PlaylistError(`bad byte range "${text}": expected <length>[@<offset>]`, line);
  const length = Number(match[1]);
  if (match[2] !== undefined) return { offset: Number(match[2]), length };
  if (!previous) throw new PlaylistError(`byte range "${text}" has no offset and follows no range of the same file`, line);
  return { offset: previous.offset + previous.length, length };
}

/** The lines of a playlist with their numbers: blanks dropped, CRLF and stray spaces trimmed. */
function linesOf(text) {
  if (typeof text !== 'string') throw new PlaylistError('the playlist is not text');
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/).map((value, index) => ({ value: value.trim(), number: index + 1 }));
  const kept = lines.filter((l) => l.value !== '');
  if (kept[0]?.value !== '#EXTM3U') throw new PlaylistError('not an HLS playlist: it does not begin with #EXTM3U', kept[0]?.number ?? 1);
  return kept.slice(1);
}

function resolve(uri, base, line) {
  try {
    return new URL(uri, base).href;
  } catch {
    throw new PlaylistError(`cannot resolve the URI "${uri}"`, line);
  }
}

/** `#EXT-X-NAME:value` as `['EXT-X-NAME', 'value']`; `['', line]` for a URI line. */
function tagOf(value) {
  if (!value.startsWith('#')) return ['', value];
  const colon = value.indexOf(':');
  return colon < 0 ? [value.slice(1), ''] : [value.slice(1, colon), value.slice(colon + 1)];
}

/** Whether `text` is a master playlist (it lists renditions) rather than a media playlist. */
export function isMasterPlaylist(text) {
  return /^#EXT-X-STREAM-INF:/m.test(text);
}

/**
 * A master playlist: `{ variants, audio, independentSegments }`. Each variant is `{ uri, bandwidth,
 * averageBandwidth, width, height, codecs: [...], frameRate, audioGroup }`, lowest bandwidth first;
 * `audio` lists the EXT-X-MEDIA audio renditions `{ groupId, name, uri, isDefault, language }`
 * (`uri` null when the audio is inside the variants). Throws when there is no variant.
 */
export function parseMaster(text, baseUrl) {
  const variants = [];
  const audio = [];
  let independentSegments = false;
  let pending = null;
  for (const { value, number } of linesOf(text)) {
    const [tag, rest] = tagOf(value);
    if (tag === 'EXT-X-STREAM-INF') {
      const a = parseAttributes(rest, number);
      const bandwidth = Number(a.BANDWIDTH);
      if (!Number.isFinite(bandwidth) || bandwidth <= 0) throw new PlaylistError('EXT-X-STREAM-INF without a BANDWIDTH', number);
      const [width, height] = /^(\d+)x(\d+)$/.exec(a.RESOLUTION ?? '')?.slice(1).map(Number) ?? [null, null];
      pending = {
        bandwidth,
        averageBandwidth: a['AVERAGE-BANDWIDTH'] ? Number(a['AVERAGE-BANDWIDTH']) : null,
        width, height,
        codecs: a.CODECS ? a.CODECS.split(',').map((c) => c.trim()).filter(Boolean) : [],
        frameRate: a['FRAME-RATE'] ? Number(a['FRAME-RATE']) : null,
        audioGroup: a.AUDIO ?? null,
        line: number,
      };
    } else if (tag === 'EXT-X-MEDIA') {
      const a = parseAttributes(rest, number);
      if (a.TYPE === 'AUDIO') {
        if (!a['GROUP-ID']) throw new PlaylistError('EXT-X-MEDIA without a GROUP-ID', number);
        audio.push({ groupId: a['GROUP-ID'], name: a.NAME ?? '', uri: a.URI ? resolve(a.URI, baseUrl, number) : null,
          isDefault: a.DEFAULT === 'YES', language: a.LANGUAGE ?? null });
      }
    } else if (tag === 'EXT-X-INDEPENDENT-SEGMENTS') {
      independentSegments = true;
    } else if (tag === '' && pending) {
      const { line, ...variant } = pending;
      variants.push({ uri: resolve(value, baseUrl, number), ...variant });
      pending = null;
    } else if (tag === 'EXTINF') {
      throw new PlaylistError('a master playlist cannot hold segments (EXTINF)', number);
    }
    // Other tags and comments: not needed to play, so skipped.
  }
  if (pending) throw new PlaylistError('EXT-X-STREAM-INF without a URI after it', pending.line);
  if (variants.length === 0) throw new PlaylistError('the master playlist lists no variant (EXT-X-STREAM-INF)');
  for (const variant of variants) {
    if (variant.audioGroup && !audio.some((a) => a.groupId === variant.audioGroup)) {
      throw new PlaylistError(`a variant names the audio group "${variant.audioGroup}", which no EXT-X-MEDIA defines`);
    }
  }
  variants.sort((a, b) => a.bandwidth - b.bandwidth);
  return { variants, audio, independentSegments };
}

/**
 * A media playlist: `{ targetDuration, type, ended, duration, segments }`. Each segment is `{ uri,
 * start, duration, byteRange: { offset, length } | null, map: { uri, byteRange } | null }`, `start`
 * being the sum of the durations before it. Throws on an EXTINF without a URI, a bad byte range, or
 * a playlist without segments.
 */
export function parseMedia(text, baseUrl) {
  const segments = [];
  let targetDuration = null;
  let type = null;
  let ended = false;
  let map = null;
  let duration = null;
  let range = null;
  let infLine = 0;
  let start = 0;
  /** The last byte range of each resource, where an offset-less range continues. */
  const lastRange = new Map();
  for (const { value, number } of linesOf(text)) {
    const [tag, rest] = tagOf(value);
    switch (tag) {
      case 'EXT-X-STREAM-INF': throw new PlaylistError('a media playlist cannot list variants', number);
      case 'EXT-X-TARGETDURATION': targetDuration = Number(rest); break;
      case 'EXT-X-PLAYLIST-TYPE': type = rest.trim(); break;
      case 'EXT-X-ENDLIST': ended = true; break;
      case 'EXT-X-MAP': {
        const a = parseAttributes(rest, number);
        if (!a.URI) throw new PlaylistError('EXT-X-MAP without a URI', number);
        const uri = resolve(a.URI, baseUrl, number);
        // A map's range without an offset is taken from the start of the file.
        const byteRange = a.BYTERANGE ? parseByteRange(a.BYTERANGE, { offset: 0, length: 0 }, number) : null;
        map = { uri, byteRange };
        break;
      }
      case 'EXTINF': {
        if (duration !== null) throw new PlaylistError('EXTINF without a URI after it', infLine);
        duration = Number.parseFloat(rest);
        if (!Number.isFinite(duration) || duration < 0) throw new PlaylistError(`bad segment duration "${rest}"`, number);
        infLine = number;
        break;
      }
      case 'EXT-X-BYTERANGE': range = { text: rest, line: number }; break;
      case '': {
        if (duration === null) throw new PlaylistError(`"${value}": a URI with no EXTINF before it`, number);
        const uri = resolve(value, baseUrl, number);
        let byteRange = null;
        if (range) {
          byteRange = parseByteRange(range.text, lastRange.get(uri), range.line);
          lastRange.set(uri, byteRange);
        }
        segments.push({ uri, start, duration, byteRange, map });
        start += duration;
        duration = null;
        range = null;
        break;
      }
      default:
        // Comments and tags this player does not need (EXT-X-VERSION, EXT-X-MEDIA-SEQUENCE, …).
    }
  }
  if (duration !== null) throw new PlaylistError('EXTINF without a URI after it', infLine);
  if (range) throw new PlaylistError('EXT-X-BYTERANGE without a segment after it', range.line);
  if (segments.length === 0) throw new PlaylistError('the media playlist has no segments');
  return { targetDuration, type, ended, duration: start, segments };
}

/** The codecs of a variant split by kind: `{ video: 'avc1.…' | null, audio: 'mp4a.…' | null }`. */
export function codecsByKind(codecs) {
  const video = codecs.find((c) => /^(avc[13]|hvc1|hev1|av01|vp09|dvh[e1])\b/.test(c)) ?? null;
  const audio = codecs.find((c) => /^(mp4a|ac-3|ec-3|opus|flac)\b/.test(c)) ?? null;
  return { video, audio };
}
