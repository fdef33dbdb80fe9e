import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idlePhase } from '../../assets/js/ui/idle.js';

const timeoutMs = 30 * 60_000, warnMs = 60_000;

test('active until a minute before the end, then warning, then expired', () => {
  assert.equal(idlePhase({ lastActivity: 0, now: 0, timeoutMs, warnMs }), 'active');
  assert.equal(idlePhase({ lastActivity: 0, now: timeoutMs - warnMs - 1, timeoutMs, warnMs }), 'active');
  assert.equal(idlePhase({ lastActivity: 0, now: timeoutMs - warnMs, timeoutMs, warnMs }), 'warning');
  assert.equal(idlePhase({ lastActivity: 0, now: timeoutMs - 1, timeoutMs, warnMs }), 'warning');
  assert.equal(idlePhase({ lastActivity: 0, now: timeoutMs, timeoutMs, warnMs }), 'expired');
  assert.equal(idlePhase({ lastActivity: 0, now: 10 * timeoutMs, timeoutMs, warnMs }), 'expired', 'a tab asleep for hours');
});
