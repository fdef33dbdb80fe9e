// The local cloud's failure reasons (Sources/LocalCloud/Pipeline.swift) reach the page in its language.
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
});

test('the reasons the pipeline writes are the ones mapped', () => {
  const pipeline = readFileSync(new URL('../../Sources/LocalCloud/Pipeline.swift', import.meta.url), 'utf8');
  for (const opening of ['No video stream found: the file is not a video', 'No video stream found: the file has', 'The uploaded file is missing', 'ffmpeg could not convert']) {
    assert.ok(pipeline.includes(opening), `Pipeline.swift no longer says “${opening}”`);
  }
});
