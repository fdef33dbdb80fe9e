// E-mail confirmation: the six-digit code, and a new one on request (after a cool-down).
import { auth, t, home, ready, storage, withNext, messageFor } from './app.js';
import { onSubmit, checkEmail, checkCode, showLeftNotice, setNotice, showProblems } from './flow.js';
import { normaliseCode } from '../cognito/totp-uri.js';

const COOL_DOWN_SECONDS = 60;
const form = document.getElementById('confirm');
const email = document.getElementById('email');
const code = document.getElementById('code');
const resend = document.getElementById('resend');
const notice = document.getElementById('notice');
const resendLabel = resend.textContent;
let coolingUntil = 0;

/** Keeps the resend button disabled, with a countdown, until the cool-down ends. */
function coolDown() {
  coolingUntil = Date.now() + COOL_DOWN_SECONDS * 1000;
  const tick = () => {
    const left = Math.ceil((coolingUntil - Date.now()) / 1000);
    if (left > 0) {
      resend.disabled = true;
      resend.textContent = t('status.resendIn', { seconds: left });
      setTimeout(tick, 1000);
    } else {
      resend.disabled = false;
      resend.textContent = resendLabel;
    }
  };
  tick();
}

onSubmit(form, {
  validate: () => [...checkEmail(email), ...checkCode(code)],
  action: async () => {
    const address = email.value.trim();
    await auth.confirmSignUp(address, normaliseCode(code.value));
    storage.pending = { email: address };
    storage.notice = { key: 'status.confirmed', tone: 'success' };
    location.assign(withNext(`${home}login/`));
  },
});

resend.addEventListener('click', async () => {
  const problems = checkEmail(email);
  if (problems.length) return showProblems(problems);
  resend.disabled = true;
  try {
    await auth.resendCode(email.value.trim());
    setNotice(notice, t('status.codeSent', { email: email.value.trim() }), 'success');
    coolDown();
  } catch (error) {
    resend.disabled = false;
    showProblems([{ input: null, message: messageFor(error) }]);
  }
});

await ready;
const pending = storage.pending;
if (pending?.email) email.value = pending.email;
if (showLeftNotice(notice)) coolDown(); // a code was just sent
(email.value ? code : email).focus();
