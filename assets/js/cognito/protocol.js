// Cognito's JSON protocol: one POST per operation, `X-Amz-Target` naming it. No SDK, no signing
// (the app's operations are public ones a client id authorises).
import { CognitoError, normaliseType } from './errors.js';

/**
 * A caller of Cognito operations at `endpoint`. `clock` (a Clock) learns the server's time from each
 * answer's `Date`. Throws CognitoError: 'NetworkError' when no answer came, the service's `__type` otherwise.
 */
export function cognitoCaller({ endpoint, clock, fetch = globalThis.fetch.bind(globalThis) }) {
  return async function call(operation, body, { signal } = {}) {
    const sentAt = clock.read();
    let response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-amz-json-1.1',
          'X-Amz-Target': `AWSCognitoIdentityProviderService.${operation}`,
        },
        body: JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        signal,
      });
    } catch (error) {
      if (error?.name === 'AbortError') throw error;
      throw new CognitoError('NetworkError', String(error?.message ?? error), { kind: 'network' });
    }
    clock.observe(response.headers.get('date'), sentAt, clock.read());
    const text = await response.text().catch(() => '');
    let data = {};
    try {
      data = text ? JSON.parse(text) : {};
    } catch {
      data = {};
    }
    if (!response.ok) {
      const type = normaliseType(data.__type ?? response.headers.get('x-amzn-errortype'));
      throw new CognitoError(type, data.message ?? data.Message ?? '', { status: response.status });
    }
    return data;
  };
}
