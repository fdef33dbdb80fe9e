// Why a conversion failed, in the page's language: the video API's `error` is a sentence in English
// for the logs; its known openings map to a string key, and anything else keeps the generic one.

const REASONS = [
  [/^No video stream found: the file is not a video/i, 'library.reason.notVideo'],
  [/^No video stream found/i, 'library.reason.noPicture'],
  [/^The uploaded file is missing/i, 'library.reason.missing'],
  [/^ffmpeg could not convert/i, 'library.reason.convert'],
];

/** The `script.*` key of the message for the API's failure `error` (null or any text). */
export function reasonKey(error) {
  for (const [pattern, key] of REASONS) if (pattern.test(error ?? '')) return key;
  return 'library.reason.unknown';
}
