// First sign-in: the authenticator app is set up from a QR code (or the key typed by hand), and its
// first code both proves it and finishes signing in.
import { auth, t, home, ready, nextPage, withNext, messageFor } from './app.js';
import { Step } from '../cognito/auth.js';
import { totpURI, groupSecret, normaliseCode } from '../cognito/totp-uri.js';
import { encodeQR } from '../qr/encode.js';
import { qrSVG } from '../qr/svg.js';
import { onSubmit, checkCode, showLeftNotice, setNotice, showProblems } from './flow.js';

const form = document.getElementById('verify');
const code = document.getElementById('code');
const qr = document.getElementById('qr');
const secretText = document.getElementById('secret');
const copy = document.getElementById('copy-secret');
const notice = document.getElementById('notice');
const submit = form.querySelector('button[type=submit]');

onSubmit(form, {
  validate: () => checkCode(code),
  action: async () => {
    const step = await auth.finishMfaSetup(normaliseCode(code.value));
    location.assign(step === Step.done ? nextPage() : withNext(`${home}login/`));
  },
});

await ready;
showLeftNotice(notice);
if (auth.challenge()?.name !== Step.mfaSetup) {
  showProblems([{ input: null, message: t('status.challengeExpired') }]);
  submit.disabled = true;
} else {
  try {
    const { secret, account } = await auth.beginMfaSetup();
    const uri = totpURI({ account, secret });
    qr.replaceChildren(qrSVG(document, encodeQR(uri, { ecLevel: 'M' }), { label: t('mfa.qrLabel', { email: account }) }));
    qr.removeAttribute('aria-busy');
    secretText.textContent = groupSecret(secret);
    secretText.setAttribute('aria-label', t('status.secretLabel'));
    copy.disabled = false;
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(secret);
        setNotice(notice, t('status.copied'), 'success');
      } catch {
        getSelection().selectAllChildren(secretText); // no clipboard permission: select it for copying by hand
      }
    });
    code.focus();
  } catch (error) {
    showProblems([{ input: null, message: messageFor(error) }]);
    submit.disabled = true;
  }
}
