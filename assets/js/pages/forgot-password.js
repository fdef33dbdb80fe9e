// Password recovery: a code by e-mail, then a new password under the same rules as sign-up.
import { auth, t, home, ready, storage, withNext } from './app.js';
import { onSubmit, checkEmail, checkCode, checkNewPassword, setNotice } from './flow.js';
import { normaliseCode } from '../cognito/totp-uri.js';
import { wirePasswordToggles, wirePasswordRules } from '../ui/form.js';

const request = document.getElementById('request');
const reset = document.getElementById('reset');
const email = document.getElementById('email');
const code = document.getElementById('code');
const password = document.getElementById('password');
const notice = document.getElementById('notice');
wirePasswordToggles(document);
wirePasswordRules(document, t);

onSubmit(request, {
  validate: () => checkEmail(email),
  action: async () => {
    await auth.forgotPassword(email.value.trim());
    setNotice(notice, t('status.codeSent', { email: email.value.trim() }), 'success');
    document.getElementById('reset-username').value = email.value.trim(); // for password managers
    request.hidden = true;
    reset.hidden = false;
    code.focus();
  },
});

onSubmit(reset, {
  validate: () => [...checkCode(code), ...checkNewPassword(password)],
  action: async () => {
    const address = email.value.trim();
    await auth.confirmForgotPassword(address, normaliseCode(code.value), password.value);
    storage.pending = { email: address };
    storage.notice = { key: 'status.passwordChanged', tone: 'success' };
    location.assign(withNext(`${home}login/`));
  },
});

await ready;
if (storage.pending?.email) email.value = storage.pending.email;
email.focus();
