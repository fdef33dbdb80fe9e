import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RATES, keyAction } from '../../assets/js/player/keys.js';

const playing = { currentTime: 60, duration: 600, volume: 0.5, muted: false, playbackRate: 1 };
const press = (key, state = playing, modifiers = {}) => keyAction({ key, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...modifiers }, state);

test('the rates run from a quarter to double speed', () => {
  assert.deepEqual(RATES, [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]);
});

test('every key of the map and its action', () => {
  const table = [
    [' ', { type: 'toggle' }],
    ['k', { type: 'toggle' }],
    ['K', { type: 'toggle' }],
    ['ArrowLeft', { type: 'seek', to: 55 }],
    ['ArrowRight', { type: 'seek', to: 65 }],
    ['j', { type: 'seek', to: 50 }],
    ['l', { type: 'seek', to: 70 }],
    ['J', { type: 'seek', to: 50 }],
    ['L', { type: 'seek', to: 70 }],
    ['ArrowUp', { type: 'volume', to: 0.6 }],
    ['ArrowDown', { type: 'volume', to: 0.4 }],
    ['m', { type: 'mute', to: true }],
    ['M', { type: 'mute', to: true }],
    ['f', { type: 'fullscreen' }],
    ['F', { type: 'fullscreen' }],
    ['0', { type: 'seek', to: 0 }],
    ['1', { type: 'seek', to: 60 }],
    ['5', { type: 'seek', to: 300 }],
    ['9', { type: 'seek', to: 540 }],
    ['<', { type: 'rate', to: 0.75 }],
    ['>', { type: 'rate', to: 1.25 }],
  ];
  for (const [key, action] of table) assert.deepEqual(press(key), action, key);
});

test('keys that are not the player\'s are null', () => {
  for (const key of ['a', 'x', 'Enter', 'Tab', 'Escape', 'Home', 'Shift', 'F5', '/', '?', '', ',', '.']) {
    assert.equal(press(key), null, JSON.stringify(key));
  }
});

test('any key with Ctrl, ⌘ or Alt is left to the browser', () => {
  for (const key of [' ', 'k', 'ArrowLeft', 'ArrowUp', 'm', 'f', '5', '>']) {
    for (const modifier of ['ctrlKey', 'metaKey', 'altKey']) assert.equal(press(key, playing, { [modifier]: true }), null, `${modifier}+${key}`);
  }
  assert.deepEqual(press('ArrowRight', playing, { shiftKey: true }), { type: 'seek', to: 65 }, 'Shift alone is not a modifier that blocks');
});

test('seeking stops at the start and at the end', () => {
  assert.deepEqual(press('ArrowLeft', { ...playing, currentTime: 3 }), { type: 'seek', to: 0 });
  assert.deepEqual(press('j', { ...playing, currentTime: 7 }), { type: 'seek', to: 0 });
  assert.deepEqual(press('ArrowRight', { ...playing, currentTime: 597 }), { type: 'seek', to: 600 });
  assert.deepEqual(press('l', { ...playing, currentTime: 595.5 }), { type: 'seek', to: 600 });
});

test('with the duration unknown, seeking stops only at the start and digits do nothing', () => {
  for (const duration of [NaN, undefined, Infinity, 0]) {
    const state = { ...playing, currentTime: 3, duration };
    assert.deepEqual(press('l', state), { type: 'seek', to: 13 }, String(duration));
    assert.deepEqual(press('ArrowLeft', state), { type: 'seek', to: 0 }, String(duration));
    assert.deepEqual(press('l', { ...state, currentTime: 10_000 }), { type: 'seek', to: 10_010 }, String(duration));
    assert.equal(press('5', state), null, String(duration));
  }
});

test('volume moves in tenths, kept within 0 and 1 and free of float noise', () => {
  assert.deepEqual(press('ArrowUp', { ...playing, volume: 0.95 }), { type: 'volume', to: 1 });
  assert.deepEqual(press('ArrowUp', { ...playing, volume: 1 }), { type: 'volume', to: 1 });
  assert.deepEqual(press('ArrowDown', { ...playing, volume: 0.05 }), { type: 'volume', to: 0 });
  assert.deepEqual(press('ArrowDown', { ...playing, volume: 0 }), { type: 'volume', to: 0 });
  assert.deepEqual(press('ArrowUp', { ...playing, volume: 0.2 }), { type: 'volume', to: 0.3 }, '0.2 + 0.1 is 0.3, not 0.30000000000000004');
  assert.deepEqual(press('ArrowDown', { ...playing, volume: 0.3 }), { type: 'volume', to: 0.2 });
  assert.deepEqual(press('ArrowUp', { ...playing, volume: 0.333 }), { type: 'volume', to: 0.43 });
});

test('turning the volume up unmutes; down does not', () => {
  const muted = { ...playing, muted: true };
  assert.deepEqual(press('ArrowUp', muted), { type: 'volume', to: 0.6, unmute: true });
  assert.deepEqual(press('ArrowDown', muted), { type: 'volume', to: 0.4 });
  assert.deepEqual(press('m', muted), { type: 'mute', to: false });
});

test('rate keys step through the rates and stay at the ends', () => {
  assert.deepEqual(press('>', { ...playing, playbackRate: 2 }), { type: 'rate', to: 2 });
  assert.deepEqual(press('<', { ...playing, playbackRate: 0.25 }), { type: 'rate', to: 0.25 });
  assert.deepEqual(press('>', { ...playing, playbackRate: 1.75 }), { type: 'rate', to: 2 });
  assert.deepEqual(press('<', { ...playing, playbackRate: 0.5 }), { type: 'rate', to: 0.25 });
  assert.deepEqual(press('>', { ...playing, playbackRate: 1.1 }), { type: 'rate', to: 1.25 }, 'a rate between steps goes to the next one');
  assert.deepEqual(press('<', { ...playing, playbackRate: 1.1 }), { type: 'rate', to: 1 });
  assert.deepEqual(press('>', { ...playing, playbackRate: 3 }), { type: 'rate', to: 2 });
});

test('Shift with comma or period changes the rate on layouts that report them so', () => {
  assert.deepEqual(press('.', playing, { shiftKey: true }), { type: 'rate', to: 1.25 });
  assert.deepEqual(press(',', playing, { shiftKey: true }), { type: 'rate', to: 0.75 });
});
