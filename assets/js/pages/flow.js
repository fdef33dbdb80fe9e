// What every account form shares: check input before sending, one request at a time, and errors
// shown next to their field and in the summary at the top.
import { t, messageFor, storage } from './app.js';
import { errorField } from '../cognito/errors.js';
import { normaliseCode } from '../cognito/totp-uri.js';
import { passwordAccepted } from '../cognito/password-policy.js';
import { setFieldError, clearFieldError, showSummary, hideSummary, whileBusy, setNotice } from '../ui/form.js';

const summary = () => document.getElementById('form-error');

/** Problems with an e-mail field (empty, or not shaped like an address), for `validate`. */
export function checkEmail(input) {
  const value = input.value.trim();
  if (!value) return [{ input, message: t('field.emailMissing') }];
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) return [{ input, message: t('field.emailInvalid') }];
  return [];
}

export function checkPasswordPresent(input) {
  return input.value ? [] : [{ input, message: t('field.passwordMissing') }];
}

export function checkNewPassword(input) {
  return passwordAccepted(input.value) ? [] : [{ input, message: t('field.passwordRules') }];
}

export function checkCode(input) {
  return normaliseCode(input.value) ? [] : [{ input, message: t('field.codeInvalid') }];
}

/** Shows `problems` (`[{ input?, message }]`) by their fields and in the summary, which takes focus. */
export function showProblems(problems) {
  for (const { input, message } of problems) if (input) setFieldError(input, message);
  showSummary(summary(), t('errors.summary'), problems);
}

/** Shows a thrown error: tied to the field it concerns when the form has one (by `name`). */
export function showError(form, error) {
  const name = errorField(error);
  const input = name ? form.querySelector(`[name="${name}"], [name="new-${name}"]`) : null;
  showProblems([{ input, message: messageFor(error) }]);
}

/**
 * Wires `form`'s submit: `validate()` returns problems to show instead of sending; `action()` runs
 * with the form's buttons disabled; what it throws is shown with showError.
 */
export function onSubmit(form, { validate = () => [], action }) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (form.getAttribute('aria-busy')) return;
    hideSummary(summary());
    for (const input of form.querySelectorAll('input')) clearFieldError(input);
    const problems = validate();
    if (problems.length) {
      showProblems(problems);
      return;
    }
    await whileBusy(form, async () => {
      try {
        await action();
      } catch (error) {
        if (!(error?.name === 'CognitoError')) console.warn(error);
        showError(form, error);
      }
    });
  });
}

/** Shows the notice an earlier page left (e.g. "signed out after 30 minutes"), once. */
export function showLeftNotice(element) {
  const notice = storage.takeNotice();
  if (notice && element) setNotice(element, t(notice.key, notice.values ?? {}), notice.tone ?? 'info');
  return notice;
}

export { setNotice };
