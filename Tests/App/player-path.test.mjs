// How a video plays (native HLS, MSE, the MP4), `?playback=`, and the quality menu's entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choosePath, forcedPath, qualityChoices, policyAllowsBlobMedia } from '../../assets/js/player/path.js';

test('native HLS first, then MSE, then the MP4; the MP4 for a video without a ladder', () => {
  assert.equal(choosePath({ hasStream: true, native: true, mse: true }), 'mse', 'MSE first where both are (Chromium)');
  assert.equal(choosePath({ hasStream: true, native: true, mse: true, nativeFirst: true }), 'native', 'Apple: its own HLS first');
  assert.equal(choosePath({ hasStream: true, native: true, mse: false }), 'native');
  assert.equal(choosePath({ hasStream: true, native: false, mse: true }), 'mse');
  assert.equal(choosePath({ hasStream: true, native: false, mse: false }), 'mp4');
  assert.equal(choosePath({ hasStream: false, native: true, mse: true }), 'mp4');
});

test('?playback= forces a path the browser has; one it lacks falls back to the usual order', () => {
  assert.equal(choosePath({ hasStream: true, native: true, mse: true, forced: 'mse' }), 'mse');
  assert.equal(choosePath({ hasStream: true, native: true, mse: true, forced: 'mp4' }), 'mp4');
  assert.equal(choosePath({ hasStream: true, native: false, mse: true, forced: 'native' }), 'mse');
  assert.equal(choosePath({ hasStream: false, native: true, mse: true, forced: 'native' }), 'mp4');
  assert.equal(forcedPath('?id=x&playback=mse'), 'mse');
  assert.equal(forcedPath('?id=x&playback=flash'), null);
  assert.equal(forcedPath('?id=x'), null);
});

test('the quality menu: Auto, then each height highest first; only Auto without MSE; none for the MP4', () => {
  const ladder = [{ height: 360 }, { height: 480 }, { height: 720 }, { height: 720 }, { height: null }];
  assert.deepEqual(qualityChoices(ladder, { path: 'mse', canPin: true }).map((c) => c.value), ['auto', '720', '480', '360']);
  assert.deepEqual(qualityChoices(ladder, { path: 'native', canPin: false }).map((c) => c.value), ['auto']);
  assert.deepEqual(qualityChoices(ladder, { path: 'mp4', canPin: true }), []);
});

test('MSE needs a policy whose media-src (or default-src) lists blob:', () => {
  assert.equal(policyAllowsBlobMedia("default-src 'none'; media-src 'self'; connect-src 'self'"), false);
  assert.equal(policyAllowsBlobMedia("default-src 'none'; media-src 'self' blob:"), true);
  assert.equal(policyAllowsBlobMedia("default-src 'none'"), false, 'media-src falls back to default-src');
  assert.equal(policyAllowsBlobMedia("default-src 'self' blob:"), true);
  assert.equal(policyAllowsBlobMedia("media-src *"), false, '* never covers blob:');
  assert.equal(policyAllowsBlobMedia("script-src 'self'"), true, 'nothing about media: allowed');
  assert.equal(policyAllowsBlobMedia(''), true);
  assert.equal(policyAllowsBlobMedia(null), true);
});
