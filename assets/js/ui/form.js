// Forms that work with people and their tools: errors tied to their field and summarised at the top
// (focus moves there), buttons disabled while a request is in flight, live password rules, and the
// show-password toggle. DOM only; text always set as text.
import { checkPassword } from '../cognito/password-policy.js';

/** Shows `message` under `input`, marks it invalid and links the two for screen readers. */
export function setFieldError(input, message) {
  const id = `${input.id}-error`;
  let element = document.getElementById(id);
  if (!element) {
    element = document.createElement('p');
    element.id = id;
    element.className = 'field-error';
    input.closest('.field').querySelector('label').after(element);
  }
  element.textContent = message;
  input.setAttribute('aria-invalid', 'true');
  const described = new Set((input.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean));
  described.add(id);
  input.setAttribute('aria-describedby', [id, ...[...described].filter((d) => d !== id)].join(' '));
}

/** Removes the error `setFieldError` showed. */
export function clearFieldError(input) {
  const id = `${input.id}-error`;
  document.getElementById(id)?.remove();
  input.removeAttribute('aria-invalid');
  const rest = (input.getAttribute('aria-describedby') ?? '').split(' ').filter((d) => d && d !== id);
  if (rest.length) input.setAttribute('aria-describedby', rest.join(' '));
  else input.removeAttribute('aria-describedby');
}

/**
 * The summary at the top of the form (`role="alert"`): `title` and one line per problem, each a link
 * to its field when there is one. Takes focus so keyboard and screen-reader users land on it.
 */
export function showSummary(summary, title, problems) {
  summary.replaceChildren();
  const heading = document.createElement('p');
  heading.className = 'error-title';
  heading.textContent = title;
  const list = document.createElement('ul');
  for (const { message, input } of problems) {
    const item = document.createElement('li');
    if (input) {
      const link = document.createElement('a');
      link.href = `#${input.id}`;
      link.textContent = message;
      link.addEventListener('click', (event) => { event.preventDefault(); input.focus(); });
      item.append(link);
    } else {
      item.textContent = message;
    }
    list.append(item);
  }
  summary.append(heading, list);
  summary.hidden = false;
  summary.focus();
}

export function hideSummary(summary) {
  summary.hidden = true;
  summary.replaceChildren();
}

/** Shows a short status (`role="status"`) such as "code sent"; empty text hides it. */
export function setNotice(element, message, tone = 'info') {
  element.textContent = message ?? '';
  element.dataset.tone = tone;
  element.classList.toggle('visible', Boolean(message));
}

/** Disables every button of `form` while `work` runs (no double submit) and marks it busy. */
export async function whileBusy(form, work) {
  const buttons = [...form.querySelectorAll('button')];
  form.setAttribute('aria-busy', 'true');
  for (const button of buttons) button.disabled = true;
  try {
    return await work();
  } finally {
    form.removeAttribute('aria-busy');
    for (const button of buttons) button.disabled = false;
  }
}

/** Wires every `button.toggle[aria-controls]` in `root` to show or hide its password field. */
export function wirePasswordToggles(root) {
  for (const button of root.querySelectorAll('button.toggle[aria-controls]')) {
    const input = document.getElementById(button.getAttribute('aria-controls'));
    button.addEventListener('click', () => {
      const show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      button.setAttribute('aria-pressed', String(show));
    });
  }
}

/** Fills `.rules[data-rules-for]` lists with the password policy; each rule ticks as it is met. */
export function wirePasswordRules(root, t) {
  for (const box of root.querySelectorAll('.rules[data-rules-for]')) {
    const input = document.getElementById(box.dataset.rulesFor);
    const list = box.querySelector('ul');
    const items = new Map();
    for (const { id } of checkPassword('')) {
      const item = document.createElement('li');
      item.dataset.rule = id;
      const text = document.createElement('span');
      text.textContent = t(`password.${id}`);
      const state = document.createElement('span');
      state.className = 'visually-hidden';
      item.append(text, state);
      list.append(item);
      items.set(id, { item, state });
    }
    const update = () => {
      const rules = checkPassword(input.value);
      // Once every rule is met, an earlier "doesn't meet the rules" error no longer holds.
      if (rules.every((rule) => rule.met) && input.getAttribute('aria-invalid')) clearFieldError(input);
      for (const { id, met } of rules) {
        const { item, state } = items.get(id);
        item.classList.toggle('met', met);
        state.textContent = ` (${t(met ? 'password.met' : 'password.unmet')})`;
      }
    };
    input.addEventListener('input', update);
    update();
  }
}
