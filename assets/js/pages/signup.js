// Sign-up: e-mail and a password that meets the policy (each rule ticks as it is met), then the
// confirmation code. When sign-up is not open the page has no form, only the notice saying so.
import { auth, t, home, ready, storage, withNext } from './app.js';
import { onSubmit, checkEmail, checkNewPassword } from './flow.js';
import { wirePasswordToggles, wirePasswordRules } from '../ui/form.js';

const form = document.getElementById('sign-up');
const email = document.getElementById('email');
const password = document.getElementById('password');
wirePasswordToggles(document);
wirePasswordRules(document, t);

if (form) onSubmit(form, {
  validate: () => [...checkEmail(email), ...checkNewPassword(password)],
  action: async () => {
    const address = email.value.trim();
    await auth.signUp(address, password.value);
    storage.pending = { email: address };
    storage.notice = { key: 'status.codeSent', values: { email: address } };
    location.assign(withNext(`${home}confirm/`));
  },
});

await ready;
email?.focus();
