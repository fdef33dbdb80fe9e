// The user pool's password policy (Cognito's default, which infra/ and the local cloud enforce), as
// rules the sign-up and reset pages tick off while the user types. Pure.

/** Characters Cognito counts as symbols (a space inside the password counts too). */
const SYMBOLS = new Set('^$*.[]{}()?"!@#%&/\\,><\':;|_~`=+-');

/** The rules in the order they are shown; each id has a `password.<id>` string. */
export const RULES = [
  { id: 'length', test: (p) => [...p].length >= 8 },
  { id: 'lowercase', test: (p) => /[a-z]/.test(p) },
  { id: 'uppercase', test: (p) => /[A-Z]/.test(p) },
  { id: 'number', test: (p) => /[0-9]/.test(p) },
  { id: 'symbol', test: (p) => [...p.trim()].some((c) => SYMBOLS.has(c) || c === ' ') },
  { id: 'spaces', test: (p) => p.length === 0 || (!p.startsWith(' ') && !p.endsWith(' ')) },
];

/** Each rule with whether `password` meets it. */
export function checkPassword(password) {
  return RULES.map(({ id, test }) => ({ id, met: test(password) }));
}

/** Whether `password` meets every rule (what Cognito will accept). */
export function passwordAccepted(password) {
  return password.length > 0 && password.length <= 256 && checkPassword(password).every((rule) => rule.met);
}
