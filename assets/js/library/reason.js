// Why a conversion failed, in the page's language: the video API's `error` is a sentence in English
// for the logs; its known openings map to a string key, and anything else keeps the generic one.
// The local cloud's ffmpeg (Sources/LocalCloud/Pipeline.swift) and production's MediaConvert
// (ConversionFailureReason in Sources/VideoService/Conversion.swift) give different sentences; both
// refuse a conversion over the user's limits with LimitExceeded's (Sources/VideoService/UsageLimits.swift).

const REASONS = [
  [/^No video stream found: the file is not a video/i, 'library.reason.notVideo'],
  [/^No video stream found/i, 'library.reason.noPicture'],
  [/^The uploaded file is missing/i, 'library.reason.missing'],
  [/^ffmpeg could not convert/i, 'library.reason.convert'],
  [/^The file could not be opened/i, 'library.reason.notVideo'],
  [/^The video could not be read/i, 'library.reason.convert'],
  [/^The uploaded file could not be read from storage/i, 'library.reason.missing'],
  [/^The video's settings could not be converted/i, 'library.reason.convert'],
  [/^You have converted .* minutes of video this month/i, 'library.reason.minutes'],
  [/^This upload would take your library past its storage limit/i, 'library.reason.storage'],
];

/** The `script.*` key of the message for the API's failure `error` (null or any text). */
export function reasonKey(error) {
  for (const [pattern, key] of REASONS) if (pattern.test(error ?? '')) return key;
  return 'library.reason.unknown';
}
