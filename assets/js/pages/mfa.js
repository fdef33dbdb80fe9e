// The second factor at sign-in: the authenticator app's current code.
import { auth, t, home, ready, nextPage, withNext } from './app.js';
import { Step } from '../cognito/auth.js';
import { onSubmit, checkCode, showLeftNotice, showProblems } from './flow.js';
import { normaliseCode } from '../cognito/totp-uri.js';

const form = document.getElementById('mfa');
const code = document.getElementById('code');

onSubmit(form, {
  validate: () => checkCode(code),
  action: async () => {
    const step = await auth.answerMfa(normaliseCode(code.value));
    location.assign(step === Step.done ? nextPage() : withNext(`${home}login/`));
  },
});
form.addEventListener('submit', () => setTimeout(() => { if (code.getAttribute('aria-invalid')) code.select(); }, 0));

await ready;
document.getElementById('restart').href = withNext(`${home}login/`);
showLeftNotice(null);
if (auth.challenge()?.name !== Step.mfa) {
  showProblems([{ input: null, message: t('status.challengeExpired') }]);
  form.querySelector('button[type=submit]').disabled = true;
} else {
  code.focus();
}
