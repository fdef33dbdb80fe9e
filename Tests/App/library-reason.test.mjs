// The failure reasons of both converters (the local cloud's ffmpeg in Sources/LocalCloud/Pipeline.swift,
// production's MediaConvert in Sources/VideoService/Conversion.swift) reach the page in its language.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { reasonKey } from '../../assets/js/library/reason.js';

test('each reason the pipeline gives has its own message, and anything else the generic one', () => {
  assert.equal(reasonKey('No video stream found: the file is not a video that can be read (Invalid data found when processing input).'), 'library.reason.notVideo');
  assert.equal(reasonKey('No video stream found: the file has only audio streams.'), 'library.reason.noPicture');
  assert.equal(reasonKey('The uploaded file is missing; upload it again.'), 'library.reason.missing');
  assert.equal(reasonKey('ffmpeg could not convert the video: broken.'), 'library.reason.convert');
  assert.equal(reasonKey('The conversion failed: timeout.'), 'library.reason.unknown');
  assert.equal(reasonKey(null), 'library.reason.unknown');
  assert.equal(reasonKey('The file could not be opened: it may be damaged, or in a format that cannot be converted. (MediaConvert error 1010: x)'), 'library.reason.notVideo');
  assert.equal(reasonKey('The video could not be read: the file may be damaged, or its format or codec is not supported. (MediaConvert error 1040)'), 'library.reason.convert');
  assert.equal(reasonKey('The uploaded file could not be read from storage; upload it again. (MediaConvert error 1401)'), 'library.reason.missing');
  assert.equal(reasonKey("The video's settings could not be converted (its size, frame rate or audio are not supported). (MediaConvert error 1550)"), 'library.reason.convert');
  assert.equal(reasonKey('The conversion failed on our side; please try again later. (MediaConvert error 1999)'), 'library.reason.unknown');
  assert.equal(reasonKey('You have converted 600 of your 600 minutes of video this month (UTC); no new conversion starts until next month.'), 'library.reason.minutes');
  assert.equal(reasonKey('This upload would take your library past its storage limit of 200 GiB (199.5 GiB used). Delete videos.'), 'library.reason.storage');
});

test('the reasons the converters write are the ones mapped', () => {
  const read = (path) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
  const sources = {
    'Sources/LocalCloud/Pipeline.swift': ['No video stream found: the file is not a video', 'No video stream found: the file has', 'ffmpeg could not convert'],
    'Sources/VideoService/Conversion.swift': ['The uploaded file is missing', 'The file could not be opened', 'The video could not be read',
      'The uploaded file could not be read from storage', "The video's settings could not be converted"],
    'Sources/VideoService/UsageLimits.swift': ['"You have converted \\(used) of your \\(allowed) minutes of video this month',
      '"This upload would take your library past its storage limit'],
  };
  for (const [path, openings] of Object.entries(sources)) {
    const text = read(path);
    for (const opening of openings) assert.ok(text.includes(opening), `${path} no longer says “${opening}”`);
  }
});
