// Sign-in: e-mail and password by SRP, then wherever Cognito's challenge leads (MFA set-up, MFA code,
// a new password), and back to `?next=`.
import { auth, t, home, ready, storage, nextPage, withNext, describeDuration } from './app.js';
import { Step } from '../cognito/auth.js';
import { CognitoError } from '../cognito/errors.js';
import { onSubmit, checkEmail, checkPasswordPresent, checkNewPassword, showLeftNotice } from './flow.js';
import { wirePasswordToggles, wirePasswordRules } from '../ui/form.js';

const signInForm = document.getElementById('sign-in');
const newPasswordForm = document.getElementById('new-password');
const email = document.getElementById('email');
const password = document.getElementById('password');
const notice = document.getElementById('notice');

wirePasswordToggles(document);
wirePasswordRules(document, t);

/** Where each step is answered. */
function go(step) {
  switch (step) {
    case Step.done: location.assign(nextPage()); break;
    case Step.mfaSetup: location.assign(withNext(`${home}mfa-setup/`)); break;
    case Step.mfa: location.assign(withNext(`${home}mfa/`)); break;
    case Step.newPassword:
      document.getElementById('new-password-username').value = email.value.trim(); // for password managers
      signInForm.hidden = true;
      newPasswordForm.hidden = false;
      document.getElementById('new-password-input').focus();
      break;
  }
}

onSubmit(signInForm, {
  validate: () => [...checkEmail(email), ...checkPasswordPresent(password)],
  action: async () => {
    const address = email.value.trim();
    try {
      const step = await auth.signIn(address, password.value);
      const offset = auth.clock.offset;
      if (Math.abs(offset) >= 60_000 && step !== Step.newPassword) {
        storage.notice = { key: 'status.clockCorrected', values: { amount: describeDuration(offset) }, tone: 'warning' };
      }
      go(step);
    } catch (error) {
      if (error instanceof CognitoError && error.type === 'UserNotConfirmedException') {
        // Not confirmed yet: a fresh code, and the confirmation page.
        storage.pending = { email: address };
        await auth.resendCode(address).catch(() => {});
        storage.notice = { key: 'errors.UserNotConfirmedException', tone: 'warning' };
        location.assign(withNext(`${home}confirm/`));
        return;
      }
      throw error;
    }
  },
});

onSubmit(newPasswordForm, {
  validate: () => checkNewPassword(document.getElementById('new-password-input')),
  action: async () => go(await auth.newPassword(document.getElementById('new-password-input').value)),
});

await ready;
const left = showLeftNotice(notice);
if (!left && auth.challenge()?.name === Step.newPassword) go(Step.newPassword);
const pending = storage.pending;
if (pending?.email) email.value = pending.email;
document.getElementById('forgot-link').addEventListener('click', () => {
  if (email.value.trim()) storage.pending = { email: email.value.trim() };
});
// The slow half of SRP, done while the user types.
auth.prepare();
(email.value ? password : email).focus();
