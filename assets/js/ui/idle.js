// Signs the user out after a stretch without input, warning a minute before with a <dialog>.

/** Where an idle timer stands: 'active', 'warning' (within `warnMs` of the end) or 'expired'. Pure. */
export function idlePhase({ lastActivity, now, timeoutMs, warnMs }) {
  const left = lastActivity + timeoutMs - now;
  if (left <= 0) return 'expired';
  if (left <= warnMs) return 'warning';
  return 'active';
}

const ACTIVITY = ['pointerdown', 'keydown', 'wheel', 'touchstart', 'scroll'];

/**
 * Watches for input; `onExpire` runs after `minutes` idle. `t` gives the dialog's strings. While
 * `busy()` is true (work the user started is running) the time counts as activity.
 * Returns a function that stops watching.
 */
export function watchIdle({ minutes, t, onExpire, busy = () => false, now = () => Date.now() }) {
  const timeoutMs = minutes * 60_000;
  const warnMs = Math.min(60_000, timeoutMs / 2);
  let lastActivity = now();
  let dialog = null;
  let countdown = null;

  const dismiss = () => {
    if (dialog?.open) dialog.close();
  };
  const activity = () => {
    if (dialog?.open) return; // while warning, only the dialog's buttons count
    lastActivity = now();
  };
  const showWarning = () => {
    if (!dialog) {
      dialog = document.createElement('dialog');
      dialog.className = 'idle-dialog';
      dialog.setAttribute('aria-labelledby', 'idle-title');
      const title = document.createElement('h2');
      title.id = 'idle-title';
      title.textContent = t('idle.title');
      countdown = document.createElement('p');
      const stay = document.createElement('button');
      stay.type = 'button';
      stay.className = 'button primary';
      stay.textContent = t('idle.stay');
      stay.addEventListener('click', () => { lastActivity = now(); dismiss(); });
      const leave = document.createElement('button');
      leave.type = 'button';
      leave.className = 'button secondary';
      leave.textContent = t('idle.signOut');
      leave.addEventListener('click', () => { dismiss(); stop(); onExpire(); });
      const actions = document.createElement('div');
      actions.className = 'actions';
      actions.append(stay, leave);
      dialog.append(title, countdown, actions);
      dialog.addEventListener('cancel', () => { lastActivity = now(); });
      document.body.append(dialog);
    }
    const seconds = Math.max(0, Math.ceil((lastActivity + timeoutMs - now()) / 1000));
    countdown.textContent = t('idle.body', { seconds });
    if (!dialog.open) dialog.showModal();
  };

  const tick = () => {
    if (busy() && !dialog?.open) lastActivity = now();
    const phase = idlePhase({ lastActivity, now: now(), timeoutMs, warnMs });
    if (phase === 'expired') { dismiss(); stop(); onExpire(); return; }
    if (phase === 'warning') showWarning();
    else dismiss();
  };
  for (const type of ACTIVITY) window.addEventListener(type, activity, { passive: true, capture: true });
  const interval = setInterval(tick, 1000);
  function stop() {
    clearInterval(interval);
    for (const type of ACTIVITY) window.removeEventListener(type, activity, { capture: true });
  }
  return stop;
}
