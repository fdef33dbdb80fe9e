// The account flows over Cognito: sign-up, SRP sign-in and its challenges, MFA, recovery, tokens,
// refresh and sign-out. No DOM here: pages call these and show the results.
import { cognitoCaller } from './protocol.js';
import { CognitoError } from './errors.js';
import { Clock } from './clock.js';
import { readClaims, expiresAt, refreshDelay, isExpired } from './tokens.js';
import { startSession, passwordClaim } from './srp.js';

/** What a sign-in step asks for next. */
export const Step = Object.freeze({
  mfaSetup: 'MFA_SETUP',
  mfa: 'SOFTWARE_TOKEN_MFA',
  newPassword: 'NEW_PASSWORD_REQUIRED',
  done: 'DONE',
});

export class Auth {
  /**
   * `config` is the site config's `cognito` block; `storage` an AppStorage; `fetch` and `clock` are
   * injectable; `setTimer`/`clearTimer` schedule the refresh.
   */
  constructor({ config, storage, fetch, clock = new Clock(), setTimer = (run, ms) => setTimeout(run, ms), clearTimer = (id) => clearTimeout(id) }) {
    this.clientId = config.clientId;
    this.poolName = config.userPoolId.split('_')[1];
    this.clock = clock;
    this.call = cognitoCaller({ endpoint: config.endpoint, clock, fetch });
    this.storage = storage;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.tokens = null;
    this.listeners = new Set();
    this.refreshing = null;
    this.prepared = null;
  }

  // MARK: state

  /** `{ email, sub }` of the signed-in user, or null. */
  get user() {
    if (!this.tokens) return null;
    const claims = readClaims(this.tokens.idToken);
    return { email: claims.email ?? claims['cognito:username'], sub: claims.sub };
  }

  /** Calls `listener(user)` whenever the user signs in, refreshes into a new identity, or signs out. */
  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  #notify() {
    for (const listener of this.listeners) listener(this.user);
  }

  /** Keeps tokens from an AuthenticationResult: access and ID in memory, the refresh token in sessionStorage. */
  #accept(result, username) {
    const claims = readClaims(result.AccessToken);
    const refreshToken = result.RefreshToken ?? this.storage.session?.refreshToken;
    this.tokens = {
      accessToken: result.AccessToken,
      idToken: result.IdToken,
      issuedAt: claims.iat * 1000,
      expiry: expiresAt(claims),
    };
    this.storage.session = { refreshToken, username: username ?? claims.username ?? this.storage.session?.username };
    this.storage.challengeValue = null;
    this.#schedule();
    this.#notify();
  }

  #schedule() {
    if (this.timer) this.clearTimer(this.timer);
    if (!this.tokens) return;
    const delay = refreshDelay({ issuedAt: this.tokens.issuedAt, expiry: this.tokens.expiry, now: this.clock.now() });
    this.timer = this.setTimer(() => { this.refresh().catch(() => {}); }, delay);
  }

  /** On page load: signs back in from this tab's refresh token, if there is one. Returns the user or null. */
  async restore() {
    if (this.tokens) return this.user;
    if (!this.storage.session?.refreshToken) return null;
    try {
      await this.refresh();
    } catch (error) {
      if (error instanceof CognitoError && error.kind === 'input') this.#forget();
      else throw error;
    }
    return this.user;
  }

  /**
   * New access and ID tokens from the refresh token, and a new refresh token in its place (the app
   * client rotates them: the one sent stops working seconds later, so the new one is kept at once);
   * one refresh at a time. A refused token signs out.
   */
  refresh() {
    this.refreshing ??= (async () => {
      const session = this.storage.session;
      if (!session?.refreshToken) throw new CognitoError('NotAuthorizedException', 'Refresh Token has expired');
      try {
        const answer = await this.call('GetTokensFromRefreshToken', { ClientId: this.clientId, RefreshToken: session.refreshToken });
        this.#accept(answer.AuthenticationResult, session.username);
      } catch (error) {
        if (error instanceof CognitoError && error.kind === 'input') {
          this.#forget();
          this.#notify();
        }
        throw error;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** A current access token, refreshed first if it is about to expire; null when signed out. */
  async accessToken() {
    if (!this.tokens) return null;
    if (isExpired(this.tokens.expiry, this.clock.now())) await this.refresh();
    return this.tokens?.accessToken ?? null;
  }

  /**
   * `fetch` for the video API with `Authorization: Bearer …`; on a 401 the token is refreshed once and
   * the request sent again. No cookies go along unless `init.credentials` asks for them (the media
   * session call, whose answer sets them).
   */
  async fetchAPI(url, init = {}, fetchImpl = globalThis.fetch.bind(globalThis)) {
    const send = async (token) => fetchImpl(url, {
      credentials: 'omit', ...init, headers: { ...(init.headers ?? {}), Authorization: `Bearer ${token}` },
    });
    const token = await this.accessToken();
    if (!token) throw new CognitoError('NotAuthorizedException', 'Session is expired');
    const response = await send(token);
    if (response.status !== 401) return response;
    await this.refresh();
    return send(this.tokens.accessToken);
  }

  // MARK: sign-up

  signUp(email, password) {
    return this.call('SignUp', {
      ClientId: this.clientId, Username: email, Password: password,
      UserAttributes: [{ Name: 'email', Value: email }],
    });
  }

  confirmSignUp(email, code) {
    return this.call('ConfirmSignUp', { ClientId: this.clientId, Username: email, ConfirmationCode: code });
  }

  resendCode(email) {
    return this.call('ResendConfirmationCode', { ClientId: this.clientId, Username: email });
  }

  // MARK: sign-in

  /** Computes this sign-in's SRP secret ahead of time (the slow exponentiation), so submitting is quick. */
  prepare() {
    this.prepared ??= startSession();
    return this.prepared;
  }

  /**
   * USER_SRP_AUTH: the password never leaves the browser. Returns the next step; a challenge in
   * progress is kept (sessionStorage, three minutes) for the MFA pages.
   */
  async signIn(email, password) {
    const srp = await this.prepare();
    this.prepared = null; // an ephemeral secret is used once
    const started = await this.call('InitiateAuth', {
      AuthFlow: 'USER_SRP_AUTH', ClientId: this.clientId,
      AuthParameters: { USERNAME: email, SRP_A: srp.AHex },
    });
    const parameters = started.ChallengeParameters ?? {};
    if (started.ChallengeName !== 'PASSWORD_VERIFIER') return this.#next(started, email);
    if (this.clock.tooLarge) {
      // The TIMESTAMP would be refused anyway; say why instead of "incorrect password".
      throw Object.assign(new CognitoError('ClockError', 'device clock too far off', { kind: 'clock' }), { offset: this.clock.tooLarge });
    }
    const userId = parameters.USER_ID_FOR_SRP;
    const { signature, timestamp } = await passwordClaim({
      session: srp, poolName: this.poolName, userId, password,
      saltHex: parameters.SALT, BHex: parameters.SRP_B, secretBlock: parameters.SECRET_BLOCK,
      date: new Date(this.clock.now()),
    });
    const answer = await this.call('RespondToAuthChallenge', {
      ChallengeName: 'PASSWORD_VERIFIER', ClientId: this.clientId,
      ChallengeResponses: {
        USERNAME: parameters.USERNAME ?? userId, PASSWORD_CLAIM_SECRET_BLOCK: parameters.SECRET_BLOCK,
        PASSWORD_CLAIM_SIGNATURE: signature, TIMESTAMP: timestamp,
      },
    });
    return this.#next(answer, email, parameters.USERNAME ?? userId);
  }

  /** Tokens end the flow; a challenge is kept for the page that answers it. */
  #next(answer, email, username) {
    if (answer.AuthenticationResult) {
      this.#accept(answer.AuthenticationResult, username);
      return Step.done;
    }
    const name = answer.ChallengeName;
    const known = [Step.mfaSetup, Step.mfa, Step.newPassword];
    if (!known.includes(name)) throw new CognitoError('UnsupportedOperationException', `Unexpected challenge ${name}`);
    username = answer.ChallengeParameters?.USER_ID_FOR_SRP ?? username;
    this.storage.challengeValue = { name, session: answer.Session, username, email, createdAt: this.clock.read() };
    return name;
  }

  /** The challenge in progress, or null when there is none or it is older than Cognito keeps it. */
  challenge() {
    return this.storage.challenge(this.clock.read());
  }

  #requireChallenge(name) {
    const challenge = this.challenge();
    if (!challenge || challenge.name !== name) throw new CognitoError('NotAuthorizedException', 'Invalid session for the user, session is expired.');
    return challenge;
  }

  /** Answers `challenge` (its name and user) with `responses`, in the Cognito session `session`. */
  async #respond(challenge, session, responses) {
    const answer = await this.call('RespondToAuthChallenge', {
      ChallengeName: challenge.name, ClientId: this.clientId, Session: session,
      ChallengeResponses: { USERNAME: challenge.username, ...responses },
    });
    return this.#next(answer, challenge.email, challenge.username);
  }

  #keepSession(challenge, session) {
    this.storage.challengeValue = { ...challenge, session };
  }

  /** SOFTWARE_TOKEN_MFA: the six digits from the authenticator app. */
  async answerMfa(code) {
    const challenge = this.#requireChallenge(Step.mfa);
    return this.#respond(challenge, challenge.session, { SOFTWARE_TOKEN_MFA_CODE: code });
  }

  /** MFA_SETUP, first half: a new TOTP secret for the authenticator app. Returns `{ secret, account }`. */
  async beginMfaSetup() {
    const challenge = this.#requireChallenge(Step.mfaSetup);
    const answer = await this.call('AssociateSoftwareToken', { Session: challenge.session });
    this.#keepSession(challenge, answer.Session);
    return { secret: answer.SecretCode, account: challenge.email };
  }

  /** MFA_SETUP, second half: the app's first code proves the secret was stored; then the challenge is answered. */
  async finishMfaSetup(code) {
    const challenge = this.#requireChallenge(Step.mfaSetup);
    const verified = await this.call('VerifySoftwareToken', { Session: challenge.session, UserCode: code, FriendlyDeviceName: 'SStech' });
    if (verified.Status !== 'SUCCESS') throw new CognitoError('EnableSoftwareTokenMFAException', 'Code mismatch');
    return this.#respond(challenge, verified.Session, {});
  }

  /** NEW_PASSWORD_REQUIRED: an account made by an administrator sets its own password. */
  async newPassword(password) {
    const challenge = this.#requireChallenge(Step.newPassword);
    return this.#respond(challenge, challenge.session, { NEW_PASSWORD: password });
  }

  // MARK: recovery

  forgotPassword(email) {
    return this.call('ForgotPassword', { ClientId: this.clientId, Username: email });
  }

  confirmForgotPassword(email, code, password) {
    return this.call('ConfirmForgotPassword', { ClientId: this.clientId, Username: email, ConfirmationCode: code, Password: password });
  }

  // MARK: sign-out

  /**
   * Ends the session everywhere: GlobalSignOut (every refresh token of the user), then RevokeToken
   * (this one, in case the access token was no longer accepted), then forgets everything the app
   * stored. One after the other: revoking the refresh token first would revoke the access token
   * GlobalSignOut presents, and it would be refused. Remote failures do not keep anything local.
   */
  async signOut() {
    const token = this.tokens?.accessToken;
    const refreshToken = this.storage.session?.refreshToken;
    this.#forget();
    if (token) await this.call('GlobalSignOut', { AccessToken: token }).catch(() => {});
    if (refreshToken) await this.call('RevokeToken', { Token: refreshToken, ClientId: this.clientId }).catch(() => {});
    this.#notify();
  }

  #forget() {
    if (this.timer) this.clearTimer(this.timer);
    this.timer = null;
    this.tokens = null;
    this.storage.session = null;
    this.storage.challengeValue = null;
  }
}
