// Cognito's errors as values, and each one's message a person can act on (`errors.<type>` strings). Pure.

/** An error from the Cognito client. `kind` says what the person can do about it:
 * 'input' (fix what they typed), 'throttled' (wait), 'network' (check the connection),
 * 'clock' (set the device's clock), 'service' (try again later). */
export class CognitoError extends Error {
  constructor(type, message, { status = 0, kind } = {}) {
    super(message || type);
    this.name = 'CognitoError';
    this.type = type;
    this.status = status;
    this.kind = kind ?? kindOf(type, status);
  }
}

/** Every `__type` the app's flows can meet, plus the app's own ('NetworkError', 'ClockError'). */
export const ERROR_TYPES = [
  'NotAuthorizedException', 'UserNotFoundException', 'UserNotConfirmedException', 'UsernameExistsException',
  'InvalidPasswordException', 'InvalidParameterException', 'CodeMismatchException', 'ExpiredCodeException',
  'LimitExceededException', 'TooManyRequestsException', 'TooManyFailedAttemptsException',
  'CodeDeliveryFailureException', 'EnableSoftwareTokenMFAException', 'SoftwareTokenMFANotFoundException',
  'PasswordResetRequiredException', 'AliasExistsException', 'InvalidUserPoolConfigurationException',
  'ResourceNotFoundException', 'UserLambdaValidationException', 'InternalErrorException',
  'ForbiddenException', 'UnsupportedOperationException', 'UnsupportedTokenTypeException',
  'NetworkError', 'ClockError', 'PasswordAttemptsExceeded', 'SessionExpired', 'Unknown',
];

const THROTTLED = new Set(['TooManyRequestsException', 'LimitExceededException', 'TooManyFailedAttemptsException', 'PasswordAttemptsExceeded']);
const SERVICE = new Set(['InternalErrorException', 'InvalidUserPoolConfigurationException', 'ResourceNotFoundException',
  'UnsupportedOperationException', 'UnsupportedTokenTypeException', 'ForbiddenException', 'Unknown']);

function kindOf(type, status) {
  if (type === 'NetworkError') return 'network';
  if (type === 'ClockError') return 'clock';
  if (THROTTLED.has(type)) return 'throttled';
  if (SERVICE.has(type) || status >= 500) return 'service';
  return 'input';
}

/** `__type` may carry a namespace (`com.amazonaws…#NotAuthorizedException`) and the header a suffix (`…:http://…`). */
export function normaliseType(raw) {
  if (!raw) return 'Unknown';
  const afterHash = String(raw).split('#').pop();
  return afterHash.split(':')[0].trim() || 'Unknown';
}

/**
 * The string key of the message for `error` (a CognitoError or anything thrown). Some types mean
 * different things by their message: NotAuthorized is a wrong password, a lock-out, or an expired session.
 */
export function errorKey(error) {
  if (!(error instanceof CognitoError)) return 'errors.Unknown';
  const { type, message } = error;
  if (type === 'NotAuthorizedException') {
    if (/attempts exceeded/i.test(message)) return 'errors.PasswordAttemptsExceeded';
    if (/session is expired|invalid session|session.*(expired|invalid)|refresh token/i.test(message)) return 'errors.SessionExpired';
  }
  return ERROR_TYPES.includes(type) ? `errors.${type}` : `errors.${error.kind === 'input' ? 'Unknown' : kindFallback(error.kind)}`;
}

function kindFallback(kind) {
  return { network: 'NetworkError', clock: 'ClockError', throttled: 'TooManyRequestsException' }[kind] ?? 'Unknown';
}

/** Which field an error belongs to, so the page can tie the message to it: 'password', 'code', 'email' or null. */
export function errorField(error) {
  switch (error?.type) {
    case 'InvalidPasswordException': return 'password';
    case 'CodeMismatchException': case 'ExpiredCodeException': case 'EnableSoftwareTokenMFAException': return 'code';
    case 'UsernameExistsException': case 'AliasExistsException': case 'UserNotFoundException': return 'email';
    default: return null;
  }
}
