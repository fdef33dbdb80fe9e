// The dialog that signs the same user in again when the session ends mid-upload (password, then the
// MFA code) without leaving the page, so the uploads go on. Leaving for the sign-in page would lose them.
import { Component } from './component.js';
import { onSubmit, checkPasswordPresent, checkCode } from '../flow.js';
import { Step } from '../../cognito/auth.js';
import { normaliseCode } from '../../cognito/totp-uri.js';

export class ReauthDialog extends Component {
  static moduleName = 'reauth-dialog';

  /**
   * `root`: the `<dialog>`. `auth`: the app's Auth. `email`: the signed-in user's. `signInURL`: the
   * sign-in page, for a step only it takes. `onSignedIn()`: the user is signed in again.
   */
  constructor(root, { auth, email, signInURL, onSignedIn }) {
    super(root);
    Object.assign(this, { auth, email, onSignedIn });
    this.passwordForm = root.querySelector('#reauth-password');
    this.codeForm = root.querySelector('#reauth-code');
    this.emailInput = root.querySelector('input[name=email]');
    this.password = root.querySelector('input[name=password]');
    this.code = root.querySelector('input[name=code]');
    // The uploads cannot go on without a session: the dialog stays until the user signs in.
    root.addEventListener('cancel', (event) => event.preventDefault());
    onSubmit(this.passwordForm, {
      validate: () => checkPasswordPresent(this.password),
      action: async () => {
        const step = await auth.signIn(email, this.password.value);
        if (step === Step.done) { this.#signedIn(); return; }
        if (step !== Step.mfa) { location.assign(signInURL); return; }
        this.passwordForm.hidden = true;
        this.codeForm.hidden = false;
        this.code.focus();
      },
    });
    onSubmit(this.codeForm, {
      validate: () => checkCode(this.code),
      action: async () => {
        if (await auth.answerMfa(normaliseCode(this.code.value)) === Step.done) this.#signedIn();
      },
    });
  }

  /** Opens the dialog at its first step (once: opening it again while open does nothing). */
  open() {
    if (this.root.open) return;
    this.emailInput.value = this.email;
    this.password.value = '';
    this.code.value = '';
    this.passwordForm.hidden = false;
    this.codeForm.hidden = true;
    this.root.showModal();
    this.auth.prepare?.();
    this.password.focus();
  }

  #signedIn() {
    this.root.close();
    this.onSignedIn();
  }
}
