// The player's keyboard map: a key and the video's state in, what to do out. Pure; the page applies it.

/** The playback rates the player offers, slowest first. */
export const RATES = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];

const SEEK_STEPS = { ArrowLeft: -5, ArrowRight: 5, j: -10, l: 10 };
const VOLUME_STEP = 0.1;

const known = (duration) => Number.isFinite(duration) && duration > 0;

/** `to` kept at 0 or after, and at `duration` or before when the duration is known. */
function clampTime(to, duration) {
  return Math.max(0, known(duration) ? Math.min(duration, to) : to);
}

/** The rate one step from `rate` in `direction` (−1 slower, +1 faster), staying at the ends. */
function stepRate(rate, direction) {
  const next = direction > 0 ? RATES.find((r) => r > rate) : RATES.findLast((r) => r < rate);
  return next ?? (direction > 0 ? RATES.at(-1) : RATES[0]);
}

/**
 * The action for `key` (`{ key, ctrlKey, metaKey, altKey, shiftKey }`, like a KeyboardEvent) given
 * `state` (`{ currentTime, duration, volume, muted, playbackRate }`), or null when the key is not the
 * player's (any key held with Ctrl, ⌘ or Alt belongs to the browser). Actions:
 * `{ type: 'toggle' }`, `{ type: 'seek', to }`, `{ type: 'volume', to, unmute? }`, `{ type: 'mute', to }`,
 * `{ type: 'fullscreen' }`, `{ type: 'rate', to }`.
 */
export function keyAction(key, state) {
  if (key.ctrlKey || key.metaKey || key.altKey) return null;
  // Letters either case: Caps Lock should not change what j, k, l, m and f do.
  const name = key.key?.length === 1 ? key.key.toLowerCase() : key.key;
  const { currentTime, duration, volume, muted, playbackRate } = state;
  switch (name) {
    case ' ':
    case 'k':
      return { type: 'toggle' };
    case 'ArrowLeft':
    case 'ArrowRight':
    case 'j':
    case 'l':
      return { type: 'seek', to: clampTime(currentTime + SEEK_STEPS[name], duration) };
    case 'ArrowUp':
    case 'ArrowDown': {
      const up = name === 'ArrowUp';
      const to = Math.round(Math.min(1, Math.max(0, volume + (up ? VOLUME_STEP : -VOLUME_STEP))) * 100) / 100;
      return up && muted ? { type: 'volume', to, unmute: true } : { type: 'volume', to };
    }
    case 'm':
      return { type: 'mute', to: !muted };
    case 'f':
      return { type: 'fullscreen' };
    case '<':
    case '>':
      return { type: 'rate', to: stepRate(playbackRate, name === '>' ? 1 : -1) };
    case ',':
    case '.':
      // Some layouts report Shift+, and Shift+. without turning them into < and >.
      return key.shiftKey ? { type: 'rate', to: stepRate(playbackRate, name === '.' ? 1 : -1) } : null;
    default:
      if (/^[0-9]$/.test(name)) return known(duration) ? { type: 'seek', to: (duration * Number(name)) / 10 } : null;
      return null;
  }
}
