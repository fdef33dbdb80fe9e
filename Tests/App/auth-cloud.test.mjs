// The app's Cognito client (assets/js/cognito/auth.js) against the local cloud, in node: sign-up,
// confirmation, SRP sign-in, MFA set-up and challenge, refresh, forgot password and sign-out, with
// the server's real SRP, TOTP and JWTs. Needs the `site` binary (`swift build`; SITE_BIN overrides).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Auth, Step } from '../../assets/js/cognito/auth.js';
import { AppStorage } from '../../assets/js/cognito/storage.js';
import { CognitoError } from '../../assets/js/cognito/errors.js';
import { Clock } from '../../assets/js/cognito/clock.js';
import { memoryStorage } from './memory-storage.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
// $SITE_BIN, else the newer of the release and debug builds.
const built = ['.build/release/site', '.build/debug/site'].map((p) => join(root, p)).filter((p) => existsSync(p));
const binary = process.env.SITE_BIN ?? built.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0] ?? join(root, '.build/release/site');
let cloud, data, endpoints = {};

before(async () => {
  assert.ok(existsSync(binary), `${binary} is not built: run swift build (scripts/test does)`);
  data = mkdtempSync(join(tmpdir(), 'auth-cloud-'));
  cloud = spawn(binary, ['cloud', '--port', '0', '--data', data, '--token-lifetime', '30'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`site cloud did not start:\n${text}`)), 60_000);
    cloud.stdout.on('data', (chunk) => {
      text += chunk;
      for (const line of text.split('\n')) {
        const match = /^(cognito|mailbox|userPoolId|clientId): (.+)$/.exec(line.trim());
        if (match) endpoints[match[1]] = match[2];
      }
      if (Object.keys(endpoints).length === 4) { clearTimeout(timer); resolve(); }
    });
    cloud.on('exit', (code) => reject(new Error(`site cloud exited ${code}:\n${text}`)));
  });
});

after(() => {
  cloud?.kill('SIGTERM');
  if (data) rmSync(data, { recursive: true, force: true });
});

function newAuth(storage = memoryStorage(), clock = new Clock()) {
  const config = { endpoint: endpoints.cognito, clientId: endpoints.clientId, userPoolId: endpoints.userPoolId, region: 'us-east-1' };
  return { auth: new Auth({ config, storage: new AppStorage(storage), clock }), storage };
}

async function latestCode(email, kind) {
  const response = await fetch(endpoints.mailbox, { headers: { Accept: 'application/json' } });
  const { messages } = await response.json();
  const message = messages.filter((m) => m.to === email && m.kind === kind).pop();
  assert.ok(message, `no ${kind} message for ${email}`);
  return message.code;
}

/** RFC 6238, computed here apart from the server. */
function totp(secret, offsetSteps = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + offsetSteps));
  const digest = createHmac('sha1', key).update(counter).digest();
  const offset = digest[19] & 0xf;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

const password = 'Correct-Horse-9';

test('the whole account life: sign up, confirm, SRP sign-in, MFA set-up, MFA sign-in, refresh, reset, sign-out', async () => {
  const email = `node-${Date.now()}@example.com`;
  const { auth, storage } = newAuth();
  await auth.signUp(email, password);

  // Unconfirmed: the flow is told so, by type.
  await assert.rejects(auth.signIn(email, password), (e) => e instanceof CognitoError && e.type === 'UserNotConfirmedException');
  await assert.rejects(auth.confirmSignUp(email, '000000'), (e) => e.type === 'CodeMismatchException' && e.kind === 'input');
  await auth.confirmSignUp(email, await latestCode(email, 'confirmation'));

  // A wrong password is refused by the server's SRP check.
  await assert.rejects(auth.signIn(email, 'Wrong-Horse-9'), (e) => e.type === 'NotAuthorizedException');

  // First sign-in: MFA set-up from the secret, then tokens.
  assert.equal(await auth.signIn(email, password), Step.mfaSetup);
  const { secret, account } = await auth.beginMfaSetup();
  assert.equal(account, email);
  await assert.rejects(auth.finishMfaSetup(totp(secret, 20)), (e) => e.type === 'EnableSoftwareTokenMFAException');
  assert.equal(await auth.finishMfaSetup(totp(secret)), Step.done);
  assert.equal(auth.user.email, email);
  assert.ok(storage.getItem('sstech.session'), 'the refresh token is kept for this tab');
  assert.equal(storage.getItem('sstech.challenge'), null, 'the finished challenge is dropped');

  // A reload: a new client with the same tab storage signs back in from the refresh token.
  const reloaded = newAuth(storage).auth;
  assert.equal((await reloaded.restore()).email, email);
  const before = reloaded.tokens.accessToken;
  const rotated = JSON.parse(storage.getItem('sstech.session')).refreshToken;
  await reloaded.refresh();
  assert.ok(reloaded.tokens.accessToken, 'refreshed');
  assert.notEqual(reloaded.tokens.accessToken, before, 'a new access token');
  // Refresh tokens rotate: the one the refresh gave back is kept, the one sent is spent.
  assert.notEqual(JSON.parse(storage.getItem('sstech.session')).refreshToken, rotated, 'the new refresh token is kept');

  // Sign-out revokes: the refresh token no longer works anywhere.
  const revoked = storage.getItem('sstech.session');
  const outcomes = [];
  const call = reloaded.call.bind(reloaded);
  reloaded.call = (target, body) => outcomes.push(`${target}: sent`) && call(target, body).then(
    (answer) => { outcomes.push(`${target}: ok`); return answer; },
    (error) => { outcomes.push(`${target}: ${error.type}`); throw error; });
  await reloaded.signOut();
  // GlobalSignOut goes first, alone: after RevokeToken its access token would be refused.
  assert.deepEqual(outcomes, ['GlobalSignOut: sent', 'GlobalSignOut: ok', 'RevokeToken: sent', 'RevokeToken: ok']);
  assert.equal(storage.getItem('sstech.session'), null);
  assert.equal(reloaded.user, null);
  const elsewhere = memoryStorage();
  elsewhere.setItem('sstech.session', revoked);
  assert.equal(await newAuth(elsewhere).auth.restore(), null, 'a revoked refresh token signs nobody in');
  assert.equal(elsewhere.getItem('sstech.session'), null, 'and is forgotten');

  // Later sign-ins ask for the TOTP: a wrong code, then the right one (a code is accepted once, so
  // the set-up's code may need the next 30-second step).
  const second = newAuth().auth;
  assert.equal(await second.signIn(email, password), Step.mfa);
  await assert.rejects(second.answerMfa(totp(secret, 20)), (e) => e.type === 'CodeMismatchException');
  try {
    assert.equal(await second.answerMfa(totp(secret)), Step.done);
  } catch (error) {
    assert.equal(error.type, 'ExpiredCodeException', 'only a reused code may be refused');
    await new Promise((resolve) => setTimeout(resolve, 30_000 - (Date.now() % 30_000) + 200));
    assert.equal(await second.answerMfa(totp(secret)), Step.done);
  }

  // Forgot password: the code from the mailbox and a new password; the old one stops working.
  await second.forgotPassword(email);
  const newPassword = 'Battery-Staple-7';
  await assert.rejects(second.confirmForgotPassword(email, await latestCode(email, 'reset'), 'weak'), (e) => e.type === 'InvalidPasswordException');
  await second.confirmForgotPassword(email, await latestCode(email, 'reset'), newPassword);
  await assert.rejects(newAuth().auth.signIn(email, password), (e) => e.type === 'NotAuthorizedException');
  assert.equal(await newAuth().auth.signIn(email, newPassword), Step.mfa);
});

test('a device clock ten minutes slow still signs in: the server Date corrects the SRP timestamp', async () => {
  const email = `clock-${Date.now()}@example.com`;
  const slow = new Clock(() => Date.now() - 10 * 60_000);
  const { auth } = newAuth(memoryStorage(), slow);
  await auth.signUp(email, password);
  await auth.confirmSignUp(email, await latestCode(email, 'confirmation'));
  assert.equal(await auth.signIn(email, password), Step.mfaSetup);
  assert.ok(Math.abs(slow.offset - 600_000) < 2_000, `offset ${slow.offset}`);
});

test('a clock days off is refused in words, not as a wrong password', async () => {
  const email = `days-${Date.now()}@example.com`;
  const { auth } = newAuth(memoryStorage(), new Clock(() => Date.now() + 3 * 86400_000));
  await auth.signUp(email, password);
  await auth.confirmSignUp(email, await latestCode(email, 'confirmation'));
  await assert.rejects(auth.signIn(email, password), (e) => e.type === 'ClockError' && e.kind === 'clock' && e.offset < -2 * 86400_000);
});

test('an unreachable service is a network error, not wrong input', async () => {
  const config = { endpoint: 'http://127.0.0.1:9', clientId: endpoints.clientId, userPoolId: endpoints.userPoolId };
  const auth = new Auth({ config, storage: new AppStorage(memoryStorage()) });
  await assert.rejects(auth.signUp('a@example.com', password), (e) => e.type === 'NetworkError' && e.kind === 'network');
});
