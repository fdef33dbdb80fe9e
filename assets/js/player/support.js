// What this browser can play through Media Source Extensions: the MediaSource class it has, the
// SourceBuffer types a rendition needs, and the renditions of a master playlist it accepts. Pure
// apart from the window handed in (its MediaSource.isTypeSupported).
import { codecsByKind } from './hls.js';

/** The MediaSource class this window has: `ManagedMediaSource` (iOS Safari) or `MediaSource`; null when neither. */
export function mediaSourceClass(win = globalThis) {
  return win.MediaSource ?? win.ManagedMediaSource ?? null;
}

/** The SourceBuffer MIME types a variant needs: `{ video, audio }` (audio null when muxed in or absent). */
export function mimeTypes(variant, audioInGroup) {
  const { video, audio } = codecsByKind(variant.codecs);
  const codecs = audioInGroup || !audio ? [video] : [video, audio];
  return {
    video: `video/mp4; codecs="${codecs.filter(Boolean).join(',')}"`,
    audio: audioInGroup && audio ? `audio/mp4; codecs="${audio}"` : null,
  };
}

/**
 * The variants of `master` this window can play through MSE (with a picture, codecs the MediaSource
 * class accepts), lowest first; empty when there is no MediaSource or nothing fits.
 */
export function playableVariants(master, win = globalThis) {
  const MS = mediaSourceClass(win);
  if (!MS) return [];
  const audioUri = defaultAudio(master)?.uri;
  return master.variants.filter((variant) => {
    const { video } = codecsByKind(variant.codecs);
    if (!video) return false;
    const types = mimeTypes(variant, Boolean(audioUri && variant.audioGroup));
    return MS.isTypeSupported(types.video) && (!types.audio || MS.isTypeSupported(types.audio));
  });
}

/** The audio rendition of the variants' group that plays by default (null without one). */
export function defaultAudio(master) {
  const group = master.variants.find((v) => v.audioGroup)?.audioGroup;
  const members = master.audio.filter((a) => a.groupId === group && a.uri);
  return members.find((a) => a.isDefault) ?? members[0] ?? null;
}
