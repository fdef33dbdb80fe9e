"""End-to-end tests of the local Cognito in `site cloud`, driven through boto3 and pycognito's SRP.

One server for the whole module. Users are shared between tests that do not disturb each other
(`user`), and every destructive test (lockout, global sign-out, forgot password, a new TOTP
secret, ...) signs its own user up. Each password check costs the debug server a second or two,
so the tests keep their sign-ins few.
"""

from __future__ import annotations

import base64
import datetime
import json
import time
import urllib.request
import uuid
from contextlib import contextmanager

import pytest
from botocore.exceptions import ClientError

from support.local_cloud import register_user, totp

try:
    from joserfc import jwt
    from joserfc.jwk import KeySet
    from pycognito.aws_srp import AWSSRP
except ImportError as missing:  # pragma: no cover - the environment is expected to have them
    pytest.skip(f"needs pycognito and joserfc: {missing}", allow_module_level=True)

PASSWORD = "Correct-Horse-9"
SESSION_EXPIRED = "Invalid session for the user, session is expired."
INCORRECT = "Incorrect username or password."


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(cloud):
    return cloud.cognito()


def new_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def registered(cloud, tag: str, password: str = PASSWORD) -> dict:
    """A confirmed user with TOTP set up (see local_cloud.register_user), plus `last_step`: the
    newest TOTP time step this test module has spent for it."""
    user = register_user(cloud, new_email(tag), password)
    user["last_step"] = current_step()
    return user


@pytest.fixture(scope="module")
def user(cloud):
    """The shared user: tests using it must leave its password, secret and tokens working, and
    spend none of its TOTP codes (the server refuses any step at or before the last one spent)."""
    return registered(cloud, "shared")


@pytest.fixture
def mfa_user(cloud):
    """A fresh user with TOTP set up, for a test that answers TOTP challenges: its first code (the
    step after the one registration spent) is available at once, without waiting 30 s."""
    return registered(cloud, "mfa")


@pytest.fixture
def confirmed_user(cloud, client):
    """A fresh user, signed up and confirmed but never signed in (so no TOTP yet)."""
    email = new_email("confirmed")
    client.sign_up(ClientId=cloud.client_id, Username=email, Password=PASSWORD,
                   UserAttributes=[{"Name": "email", "Value": email}])
    client.confirm_sign_up(ClientId=cloud.client_id, Username=email,
                           ConfirmationCode=cloud.latest_code(email, "confirmation"))
    return {"email": email, "password": PASSWORD}


# -- helpers ---------------------------------------------------------------------------------------
@contextmanager
def aws_error(code: str, message: str | None = None):
    """Expects the block to fail with this Cognito error code (and a message containing `message`)."""
    with pytest.raises(ClientError) as info:
        yield info
    error = info.value.response["Error"]
    assert error["Code"] == code, error
    if message is not None:
        assert message in error.get("Message", ""), error


def current_step() -> int:
    return int(time.time() // 30)


def next_code(user: dict) -> tuple[str, int]:
    """A TOTP code for a time step this user has not spent yet: the current step, else the next
    one (the server accepts ±1 step); waits for the next step when both are spent. Marks it spent."""
    while True:
        now = current_step()
        step = max(now, user["last_step"] + 1)
        if step <= now + 1:
            user["last_step"] = step
            code = totp(user["secret"], at=step * 30)
            user["used"].add(code)
            return code, step
        time.sleep(30 - time.time() % 30 + 0.2)


def srp_password_verifier(cloud, client, email: str, password: str, srp_class=AWSSRP,
                          tamper=None) -> dict:
    """USER_SRP_AUTH, then the PASSWORD_VERIFIER answer; returns respond_to_auth_challenge's answer."""
    srp = srp_class(username=email, password=password, pool_id=cloud.user_pool_id,
                    client_id=cloud.client_id, client=client)
    auth_params = srp.get_auth_params()
    started = client.initiate_auth(ClientId=cloud.client_id, AuthFlow="USER_SRP_AUTH",
                                   AuthParameters=auth_params)
    assert started["ChallengeName"] == "PASSWORD_VERIFIER", started
    parameters = started["ChallengeParameters"]
    assert parameters["USER_ID_FOR_SRP"] == email, parameters
    for name in ("SALT", "SRP_B", "SECRET_BLOCK"):
        assert parameters.get(name), (name, parameters)
    answer = srp.process_challenge(parameters, auth_params)
    if tamper is not None:
        answer = tamper(answer)
    return client.respond_to_auth_challenge(ClientId=cloud.client_id, ChallengeName="PASSWORD_VERIFIER",
                                            ChallengeResponses=answer)


def answer_totp(cloud, client, user: dict, session: str, code: str | None = None) -> dict:
    if code is None:
        code, _ = next_code(user)
    return client.respond_to_auth_challenge(
        ClientId=cloud.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=session,
        ChallengeResponses={"USERNAME": user["email"], "SOFTWARE_TOKEN_MFA_CODE": code})


def password_sign_in(cloud, client, email: str, password: str) -> dict:
    return client.initiate_auth(ClientId=cloud.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": email, "PASSWORD": password})


def full_sign_in(cloud, client, user: dict) -> dict:
    """USER_PASSWORD_AUTH then the TOTP challenge; returns the AuthenticationResult."""
    started = password_sign_in(cloud, client, user["email"], user["password"])
    assert started["ChallengeName"] == "SOFTWARE_TOKEN_MFA", started
    return answer_totp(cloud, client, user, started["Session"])["AuthenticationResult"]


def other_code(code: str) -> str:
    """The same length as `code`, but wrong."""
    return code[:-1] + str((int(code[-1]) + 1) % 10)


def jwks(cloud) -> KeySet:
    url = f"{cloud.cognito_url}/{cloud.user_pool_id}/.well-known/jwks.json"
    with urllib.request.urlopen(url, timeout=10) as response:
        return KeySet.import_key_set(json.load(response))


def unverified_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# -- sign-up and confirmation ------------------------------------------------------------------------
@pytest.mark.parametrize("password, missing", [
    ("Sh0rt-p", "eight characters"),
    ("no-upper-case-9", "an upper-case letter"),
    ("NO-LOWER-CASE-9", "a lower-case letter"),
    ("No-Digits-Here", "a digit"),
    ("NoSymbols99", "a symbol"),
])
def test_sign_up_enforces_the_default_password_policy(cloud, client, password, missing):
    email = new_email("weak")
    with aws_error("InvalidPasswordException"):
        client.sign_up(ClientId=cloud.client_id, Username=email, Password=password,
                       UserAttributes=[{"Name": "email", "Value": email}])
    assert not [m for m in cloud.mailbox() if m["to"] == email], "no code for a refused sign-up"


def test_sign_up_sends_a_confirmation_code_to_the_mailbox(cloud, client):
    email = new_email("signup")
    answer = client.sign_up(ClientId=cloud.client_id, Username=email, Password=PASSWORD,
                            UserAttributes=[{"Name": "email", "Value": email}])
    assert answer["UserConfirmed"] is False
    assert answer["UserSub"]
    messages = [m for m in cloud.mailbox() if m["to"] == email]
    assert len(messages) == 1, messages
    message = messages[0]
    for field in ("id", "to", "subject", "body", "code", "kind", "createdAt"):
        assert field in message, (field, message)
    assert message["kind"] == "confirmation"
    assert message["code"] and message["code"].isdigit()
    assert message["code"] in message["body"]


def test_sign_up_refuses_an_existing_username(cloud, client, user):
    with aws_error("UsernameExistsException"):
        client.sign_up(ClientId=cloud.client_id, Username=user["email"], Password=PASSWORD,
                       UserAttributes=[{"Name": "email", "Value": user["email"]}])


def test_unconfirmed_user_cannot_sign_in_until_confirmed(cloud, client):
    email = new_email("unconfirmed")
    client.sign_up(ClientId=cloud.client_id, Username=email, Password=PASSWORD,
                   UserAttributes=[{"Name": "email", "Value": email}])
    with aws_error("UserNotConfirmedException"):
        password_sign_in(cloud, client, email, PASSWORD)

    first = cloud.latest_code(email, "confirmation")
    with aws_error("CodeMismatchException"):
        client.confirm_sign_up(ClientId=cloud.client_id, Username=email, ConfirmationCode=other_code(first))

    client.resend_confirmation_code(ClientId=cloud.client_id, Username=email)
    confirmations = [m for m in cloud.mailbox() if m["to"] == email and m["kind"] == "confirmation"]
    assert len(confirmations) == 2, confirmations
    client.confirm_sign_up(ClientId=cloud.client_id, Username=email,
                           ConfirmationCode=cloud.latest_code(email, "confirmation"))

    started = password_sign_in(cloud, client, email, PASSWORD)
    assert started["ChallengeName"] == "MFA_SETUP", started


def test_a_code_takes_five_wrong_answers_then_is_spent(cloud, client):
    """Six digits would fall to guessing: the fifth wrong answer spends the code, and even the
    right one is refused after it. The five are the user's, not the code's: a code sent again is
    refused too until the window (15 minutes) is over."""
    email = new_email("guessed")
    client.sign_up(ClientId=cloud.client_id, Username=email, Password=PASSWORD,
                   UserAttributes=[{"Name": "email", "Value": email}])
    code = cloud.latest_code(email, "confirmation")
    for _ in range(4):
        with aws_error("CodeMismatchException"):
            client.confirm_sign_up(ClientId=cloud.client_id, Username=email, ConfirmationCode=other_code(code))
    with aws_error("LimitExceededException"):
        client.confirm_sign_up(ClientId=cloud.client_id, Username=email, ConfirmationCode=other_code(code))
    with aws_error("LimitExceededException"):
        client.confirm_sign_up(ClientId=cloud.client_id, Username=email, ConfirmationCode=code)
    client.resend_confirmation_code(ClientId=cloud.client_id, Username=email)
    with aws_error("LimitExceededException"):
        client.confirm_sign_up(ClientId=cloud.client_id, Username=email,
                               ConfirmationCode=cloud.latest_code(email, "confirmation"))


def test_a_reset_code_is_spent_by_wrong_answers_too(cloud, client):
    forgetful = registered(cloud, "reset-guess")
    email = forgetful["email"]
    client.forgot_password(ClientId=cloud.client_id, Username=email)
    code = cloud.latest_code(email, "reset")
    for _ in range(4):
        with aws_error("CodeMismatchException"):
            client.confirm_forgot_password(ClientId=cloud.client_id, Username=email,
                                           ConfirmationCode=other_code(code), Password="Battery-Staple-7")
    with aws_error("LimitExceededException"):
        client.confirm_forgot_password(ClientId=cloud.client_id, Username=email,
                                       ConfirmationCode=other_code(code), Password="Battery-Staple-7")
    with aws_error("LimitExceededException"):
        client.confirm_forgot_password(ClientId=cloud.client_id, Username=email,
                                       ConfirmationCode=code, Password="Battery-Staple-7")
    # A new reset code brings no new guesses.
    client.forgot_password(ClientId=cloud.client_id, Username=email)
    with aws_error("LimitExceededException"):
        client.confirm_forgot_password(ClientId=cloud.client_id, Username=email,
                                       ConfirmationCode=cloud.latest_code(email, "reset"), Password="Battery-Staple-7")
    # The old password still works.
    assert password_sign_in(cloud, client, email, forgetful["password"])["ChallengeName"] == "SOFTWARE_TOKEN_MFA"


# -- SRP and TOTP --------------------------------------------------------------------------------------
def test_first_srp_sign_in_sets_up_totp(cloud, client, confirmed_user):
    email = confirmed_user["email"]
    answer = srp_password_verifier(cloud, client, email, PASSWORD)
    assert answer["ChallengeName"] == "MFA_SETUP", answer
    assert "AuthenticationResult" not in answer
    associated = client.associate_software_token(Session=answer["Session"])
    secret = associated["SecretCode"]
    assert base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))

    wrong = other_code(totp(secret))
    with aws_error("EnableSoftwareTokenMFAException"):
        client.verify_software_token(Session=associated["Session"], UserCode=wrong)

    user = {"email": email, "password": PASSWORD, "secret": secret, "used": set(),
            "last_step": current_step() - 2}
    code, _ = next_code(user)
    verified = client.verify_software_token(Session=associated["Session"], UserCode=code)
    assert verified["Status"] == "SUCCESS", verified
    done = client.respond_to_auth_challenge(ClientId=cloud.client_id, ChallengeName="MFA_SETUP",
                                            Session=verified["Session"],
                                            ChallengeResponses={"USERNAME": email})
    tokens = done["AuthenticationResult"]
    assert {"AccessToken", "IdToken", "RefreshToken"} <= set(tokens), tokens
    assert tokens["TokenType"] == "Bearer"
    assert tokens["ExpiresIn"] == 3600
    assert client.get_user(AccessToken=tokens["AccessToken"])["Username"] == email


def test_srp_sign_in_asks_for_the_totp_code(cloud, client, mfa_user):
    user = mfa_user
    answer = srp_password_verifier(cloud, client, user["email"], user["password"])
    assert answer["ChallengeName"] == "SOFTWARE_TOKEN_MFA", answer
    assert answer["Session"]
    tokens = answer_totp(cloud, client, user, answer["Session"])["AuthenticationResult"]
    assert client.get_user(AccessToken=tokens["AccessToken"])["Username"] == user["email"]


def test_password_sign_in_asks_for_the_totp_code(cloud, client, mfa_user):
    user = mfa_user
    tokens = full_sign_in(cloud, client, user)
    assert {"AccessToken", "IdToken", "RefreshToken"} <= set(tokens), tokens


def test_wrong_totp_code_is_refused(cloud, client, user):
    started = password_sign_in(cloud, client, user["email"], user["password"])
    assert started["ChallengeName"] == "SOFTWARE_TOKEN_MFA", started
    # Wrong for the whole ±1 step window.
    window = {totp(user["secret"], step_offset=offset) for offset in (-1, 0, 1, 2)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in window)
    with aws_error("CodeMismatchException"):
        answer_totp(cloud, client, user, started["Session"], code=wrong)


def test_a_user_takes_five_wrong_totp_codes_whatever_the_sessions(cloud, client, mfa_user):
    """Whoever has the password gets five guesses at the TOTP code per 15 minutes, not five per
    sign-in: the fifth wrong code spends the session, and a new sign-in's right code is refused."""
    user = mfa_user
    started = password_sign_in(cloud, client, user["email"], user["password"])
    window = {totp(user["secret"], step_offset=offset) for offset in (-1, 0, 1, 2)}
    wrong = next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in window)
    for _ in range(3):
        with aws_error("CodeMismatchException"):
            answer_totp(cloud, client, user, started["Session"], code=wrong)
    again = password_sign_in(cloud, client, user["email"], user["password"])
    with aws_error("CodeMismatchException"):
        answer_totp(cloud, client, user, again["Session"], code=wrong)
    with aws_error("LimitExceededException"):
        answer_totp(cloud, client, user, again["Session"], code=wrong)
    with aws_error("NotAuthorizedException", SESSION_EXPIRED):
        answer_totp(cloud, client, user, again["Session"])
    third = password_sign_in(cloud, client, user["email"], user["password"])
    with aws_error("LimitExceededException"):
        answer_totp(cloud, client, user, third["Session"])


def test_totp_code_cannot_be_used_twice(cloud, client, mfa_user):
    user = mfa_user
    code, step = next_code(user)
    if step == current_step() and time.time() % 30 > 20:
        # Keep both sign-ins well inside the step's ±1 window.
        code, step = next_code(user)
    started = password_sign_in(cloud, client, user["email"], user["password"])
    answer_totp(cloud, client, user, started["Session"], code=code)["AuthenticationResult"]
    again = password_sign_in(cloud, client, user["email"], user["password"])
    assert current_step() <= step + 1, "too slow: the code's step left the window"
    with aws_error("ExpiredCodeException"):
        answer_totp(cloud, client, user, again["Session"], code=code)


def test_session_is_single_use(cloud, client, mfa_user):
    user = mfa_user
    started = password_sign_in(cloud, client, user["email"], user["password"])
    session = started["Session"]
    code, _ = next_code(user)
    answer_totp(cloud, client, user, session, code=code)["AuthenticationResult"]
    # Answering the spent session again (same code: the session is refused before the code is looked at).
    with aws_error("NotAuthorizedException", SESSION_EXPIRED):
        answer_totp(cloud, client, user, session, code=code)


def test_made_up_session_is_refused(cloud, client, user):
    with aws_error("NotAuthorizedException"):
        answer_totp(cloud, client, user, "not-a-session-" + uuid.uuid4().hex, code="123456")


# -- password failures -----------------------------------------------------------------------------
def test_wrong_password_is_refused(cloud, client, confirmed_user):
    email = confirmed_user["email"]
    with aws_error("NotAuthorizedException", INCORRECT):
        password_sign_in(cloud, client, email, PASSWORD + "x")
    with aws_error("NotAuthorizedException", INCORRECT):
        srp_password_verifier(cloud, client, email, PASSWORD + "x")
    # The right password still works (two failures are far from the lockout).
    assert srp_password_verifier(cloud, client, email, PASSWORD)["ChallengeName"] == "MFA_SETUP"


def test_tampered_srp_signature_is_refused(cloud, client, confirmed_user):
    def flip(answer):
        signature = bytearray(base64.b64decode(answer["PASSWORD_CLAIM_SIGNATURE"]))
        signature[0] ^= 0x01
        return {**answer, "PASSWORD_CLAIM_SIGNATURE": base64.b64encode(bytes(signature)).decode()}

    with aws_error("NotAuthorizedException"):
        srp_password_verifier(cloud, client, confirmed_user["email"], PASSWORD, tamper=flip)


def test_srp_timestamp_far_from_now_is_refused(cloud, client, confirmed_user):
    class YesterdaySRP(AWSSRP):
        """Signs a TIMESTAMP a day old (correctly signed, so only the time is wrong)."""

        def get_cognito_formatted_timestamp(self, input_datetime):
            return AWSSRP.get_cognito_formatted_timestamp(input_datetime - datetime.timedelta(days=1))

    with aws_error("NotAuthorizedException"):
        srp_password_verifier(cloud, client, confirmed_user["email"], PASSWORD, srp_class=YesterdaySRP)


def test_srp_secret_block_from_another_sign_in_is_refused(cloud, client, confirmed_user):
    """The PASSWORD_VERIFIER answer must carry the SECRET_BLOCK the server handed out."""
    def forge(answer):
        return {**answer, "PASSWORD_CLAIM_SECRET_BLOCK": base64.b64encode(b"\x00" * 64).decode()}

    with aws_error("NotAuthorizedException"):
        srp_password_verifier(cloud, client, confirmed_user["email"], PASSWORD, tamper=forge)


def test_unknown_user(cloud, client):
    email = new_email("nobody")
    with aws_error("UserNotFoundException"):
        password_sign_in(cloud, client, email, PASSWORD)
    with aws_error("UserNotFoundException"):
        srp_password_verifier(cloud, client, email, PASSWORD)


def test_lockout_after_five_wrong_passwords(cloud, client, confirmed_user):
    email = confirmed_user["email"]
    for _ in range(5):
        with aws_error("NotAuthorizedException", INCORRECT):
            password_sign_in(cloud, client, email, "Wrong-Password-1")
    with aws_error("NotAuthorizedException", "Password attempts exceeded"):
        password_sign_in(cloud, client, email, PASSWORD)
    with aws_error("NotAuthorizedException", "Password attempts exceeded"):
        srp_password_verifier(cloud, client, email, PASSWORD)


def test_wrong_passwords_sent_at_once_are_each_counted(cloud, client, confirmed_user):
    """The lockout counts in the database: eight wrong passwords in parallel lock the user as eight
    in a row do."""
    from concurrent.futures import ThreadPoolExecutor

    email = confirmed_user["email"]

    def wrong(_):
        try:
            password_sign_in(cloud, client, email, "Wrong-Password-1")
        except ClientError as error:
            return error.response["Error"]["Code"]
        return "accepted"

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(wrong, range(8)))
    assert answers == ["NotAuthorizedException"] * 8, answers
    with aws_error("NotAuthorizedException", "Password attempts exceeded"):
        password_sign_in(cloud, client, email, PASSWORD)


# -- tokens ------------------------------------------------------------------------------------------
def test_tokens_are_rs256_jwts_signed_with_the_pools_jwks(cloud, user):
    keys = jwks(cloud)
    iss = f"{cloud.cognito_url}/{cloud.user_pool_id}"
    tokens = user["tokens"]
    now = time.time()

    id_token = jwt.decode(tokens["IdToken"], keys, algorithms=["RS256"])
    assert id_token.header["alg"] == "RS256"
    assert id_token.header.get("kid")
    id_claims = id_token.claims
    jwt.JWTClaimsRegistry(leeway=5, iss={"essential": True, "value": iss},
                          aud={"essential": True, "value": cloud.client_id},
                          exp={"essential": True}, iat={"essential": True}).validate(id_claims)
    assert id_claims["token_use"] == "id"
    assert id_claims["sub"] == user["sub"]
    assert id_claims["cognito:username"] == user["email"]
    assert id_claims["email"] == user["email"]
    assert id_claims["email_verified"] is True
    for claim in ("auth_time", "jti", "origin_jti"):
        assert id_claims.get(claim), (claim, id_claims)
    assert id_claims["exp"] - id_claims["iat"] == 3600
    assert abs(id_claims["iat"] - now) < 600

    access_token = jwt.decode(tokens["AccessToken"], keys, algorithms=["RS256"])
    assert access_token.header["alg"] == "RS256"
    access = access_token.claims
    jwt.JWTClaimsRegistry(leeway=5, iss={"essential": True, "value": iss},
                          exp={"essential": True}, iat={"essential": True}).validate(access)
    assert access["token_use"] == "access"
    assert access["sub"] == user["sub"]
    assert access["client_id"] == cloud.client_id
    assert access["username"] == user["email"]
    assert "aws.cognito.signin.user.admin" in access["scope"].split()
    for claim in ("auth_time", "jti", "origin_jti"):
        assert access.get(claim), (claim, access)
    assert access["exp"] - access["iat"] == 3600
    assert access["jti"] != id_claims["jti"]


def test_tampered_token_fails_verification(cloud, user):
    header, payload, signature = user["tokens"]["IdToken"].split(".")
    claims = unverified_claims(user["tokens"]["IdToken"])
    claims["email"] = "attacker@example.com"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(Exception):
        jwt.decode(f"{header}.{forged_payload}.{signature}", jwks(cloud), algorithms=["RS256"])


def test_get_user(cloud, client, user):
    answer = client.get_user(AccessToken=user["tokens"]["AccessToken"])
    assert answer["Username"] == user["email"]
    attributes = {a["Name"]: a["Value"] for a in answer["UserAttributes"]}
    assert attributes["sub"] == user["sub"]
    assert attributes["email"] == user["email"]
    assert attributes["email_verified"] == "true"
    assert "SOFTWARE_TOKEN_MFA" in answer.get("UserMFASettingList", [])


def test_get_user_refuses_a_forged_access_token(cloud, client, user):
    header, payload, signature = user["tokens"]["AccessToken"].split(".")
    forged = base64.urlsafe_b64encode(bytes(reversed(base64.urlsafe_b64decode(signature + "==")))
                                      ).rstrip(b"=").decode()
    with aws_error("NotAuthorizedException"):
        client.get_user(AccessToken=f"{header}.{payload}.{forged}")


def test_refresh_token_gives_new_tokens(cloud, client, user):
    refreshed = client.initiate_auth(ClientId=cloud.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                     AuthParameters={"REFRESH_TOKEN": user["tokens"]["RefreshToken"]})
    tokens = refreshed["AuthenticationResult"]
    assert tokens["AccessToken"] and tokens["IdToken"]
    assert tokens["AccessToken"] != user["tokens"]["AccessToken"]
    claims = jwt.decode(tokens["IdToken"], jwks(cloud), algorithms=["RS256"]).claims
    assert claims["sub"] == user["sub"]
    assert claims["token_use"] == "id"
    assert client.get_user(AccessToken=tokens["AccessToken"])["Username"] == user["email"]


def test_get_tokens_from_refresh_token_rotates_the_refresh_token(cloud, client, mfa_user):
    """GetTokensFromRefreshToken, as production's client with rotation answers it through boto3:
    new access, ID and refresh tokens; the new refresh token works, and the one sent still works
    only for a short retry (local: 10 s), after which it is refused."""
    first = full_sign_in(cloud, client, mfa_user)["RefreshToken"]
    rotated = client.get_tokens_from_refresh_token(ClientId=cloud.client_id, RefreshToken=first)["AuthenticationResult"]
    assert {"AccessToken", "IdToken", "RefreshToken"} <= set(rotated), rotated
    assert rotated["RefreshToken"] != first
    assert client.get_user(AccessToken=rotated["AccessToken"])["Username"] == mfa_user["email"]
    again = client.get_tokens_from_refresh_token(ClientId=cloud.client_id, RefreshToken=rotated["RefreshToken"])
    assert again["AuthenticationResult"]["RefreshToken"] not in (first, rotated["RefreshToken"])
    time.sleep(10.5)
    with aws_error("NotAuthorizedException"):
        client.get_tokens_from_refresh_token(ClientId=cloud.client_id, RefreshToken=first)


def test_made_up_refresh_token_is_refused(cloud, client):
    with aws_error("NotAuthorizedException"):
        client.initiate_auth(ClientId=cloud.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                             AuthParameters={"REFRESH_TOKEN": "made-up." + uuid.uuid4().hex})


def test_revoke_token(cloud, client, mfa_user):
    user = mfa_user
    tokens = full_sign_in(cloud, client, user)
    client.revoke_token(Token=tokens["RefreshToken"], ClientId=cloud.client_id)
    with aws_error("NotAuthorizedException"):
        client.initiate_auth(ClientId=cloud.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                             AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    # Revoking one refresh token is not a global sign-out: the user's other session still refreshes.
    other = client.initiate_auth(ClientId=cloud.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                 AuthParameters={"REFRESH_TOKEN": user["tokens"]["RefreshToken"]})
    assert other["AuthenticationResult"]["AccessToken"]


def test_global_sign_out(cloud, client):
    leaving = registered(cloud, "signout")
    tokens = leaving["tokens"]
    client.global_sign_out(AccessToken=tokens["AccessToken"])
    with aws_error("NotAuthorizedException"):
        client.initiate_auth(ClientId=cloud.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                             AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
    with aws_error("NotAuthorizedException"):
        client.get_user(AccessToken=tokens["AccessToken"])
    # Signing in again still works.
    again = full_sign_in(cloud, client, leaving)
    assert client.get_user(AccessToken=again["AccessToken"])["Username"] == leaving["email"]


# -- MFA settings --------------------------------------------------------------------------------------
def test_totp_cannot_be_turned_off(cloud, client, user):
    access = user["tokens"]["AccessToken"]
    client.set_user_mfa_preference(AccessToken=access,
                                   SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    with aws_error("InvalidParameterException"):
        client.set_user_mfa_preference(AccessToken=access,
                                       SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False})
    assert "SOFTWARE_TOKEN_MFA" in client.get_user(AccessToken=access)["UserMFASettingList"]


def test_new_totp_secret_with_access_token(cloud, client):
    mover = registered(cloud, "newsecret")
    access = mover["tokens"]["AccessToken"]
    associated = client.associate_software_token(AccessToken=access)
    secret = associated["SecretCode"]
    assert secret != mover["secret"]
    with aws_error("EnableSoftwareTokenMFAException"):
        client.verify_software_token(AccessToken=access, UserCode=other_code(totp(secret)))
    # The server tracks spent codes by time step per user, whatever the secret: keep `last_step`.
    mover.update(secret=secret, used=set())
    code, _ = next_code(mover)
    assert client.verify_software_token(AccessToken=access, UserCode=code)["Status"] == "SUCCESS"
    # The next sign-in wants the new secret's code.
    tokens = full_sign_in(cloud, client, mover)
    assert client.get_user(AccessToken=tokens["AccessToken"])["Username"] == mover["email"]


# -- forgot password -----------------------------------------------------------------------------------
def test_forgot_password(cloud, client):
    forgetful = registered(cloud, "forgot")
    email = forgetful["email"]
    client.forgot_password(ClientId=cloud.client_id, Username=email)
    code = cloud.latest_code(email, "reset")
    new_password = "Battery-Staple-7"

    with aws_error("CodeMismatchException"):
        client.confirm_forgot_password(ClientId=cloud.client_id, Username=email,
                                       ConfirmationCode=other_code(code), Password=new_password)
    with aws_error("InvalidPasswordException"):
        client.confirm_forgot_password(ClientId=cloud.client_id, Username=email,
                                       ConfirmationCode=code, Password="weakpassword")
    client.confirm_forgot_password(ClientId=cloud.client_id, Username=email,
                                   ConfirmationCode=code, Password=new_password)

    with aws_error("NotAuthorizedException", INCORRECT):
        password_sign_in(cloud, client, email, forgetful["password"])
    forgetful["password"] = new_password
    answer = srp_password_verifier(cloud, client, email, new_password)
    assert answer["ChallengeName"] == "SOFTWARE_TOKEN_MFA", answer
    tokens = answer_totp(cloud, client, forgetful, answer["Session"])["AuthenticationResult"]
    assert client.get_user(AccessToken=tokens["AccessToken"])["Username"] == email


def test_a_password_reset_ends_every_session_of_the_user(cloud, client):
    """ConfirmForgotPassword signs the user out everywhere, as production's post-confirmation
    trigger does: the refresh tokens of both earlier sign-ins (one of them just rotated, its old
    token still in the retry grace) and their access tokens are refused; the new password signs in."""
    forgetful = registered(cloud, "reset-signout")
    email = forgetful["email"]
    first = forgetful["tokens"]
    second = full_sign_in(cloud, client, forgetful)
    rotated = client.get_tokens_from_refresh_token(ClientId=cloud.client_id,
                                                   RefreshToken=second["RefreshToken"])["AuthenticationResult"]
    client.forgot_password(ClientId=cloud.client_id, Username=email)
    client.confirm_forgot_password(ClientId=cloud.client_id, Username=email,
                                   ConfirmationCode=cloud.latest_code(email, "reset"), Password="Battery-Staple-7")

    for refresh in (first["RefreshToken"], second["RefreshToken"], rotated["RefreshToken"]):
        with aws_error("NotAuthorizedException", "revoked"):
            client.get_tokens_from_refresh_token(ClientId=cloud.client_id, RefreshToken=refresh)
        with aws_error("NotAuthorizedException", "revoked"):
            client.initiate_auth(ClientId=cloud.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                 AuthParameters={"REFRESH_TOKEN": refresh})
    for access in (first["AccessToken"], rotated["AccessToken"]):
        with aws_error("NotAuthorizedException", "revoked"):
            client.get_user(AccessToken=access)
    forgetful["password"] = "Battery-Staple-7"
    again = full_sign_in(cloud, client, forgetful)
    assert client.get_user(AccessToken=again["AccessToken"])["Username"] == email


def test_forgot_password_for_unknown_user(cloud, client):
    with aws_error("UserNotFoundException"):
        client.forgot_password(ClientId=cloud.client_id, Username=new_email("nobody"))


# -- admin-created users -------------------------------------------------------------------------------
def test_admin_created_user_must_choose_a_new_password(cloud, client):
    email = new_email("admin-made")
    temporary = "Temporary-Pass-1"
    cloud.cognito_admin().admin_create_user(
        UserPoolId=cloud.user_pool_id, Username=email, TemporaryPassword=temporary,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS")

    answer = srp_password_verifier(cloud, client, email, temporary)
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED", answer
    new_password = "Chosen-Pass-2"
    chosen = client.respond_to_auth_challenge(
        ClientId=cloud.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
        ChallengeResponses={"USERNAME": email, "NEW_PASSWORD": new_password})
    assert chosen["ChallengeName"] == "MFA_SETUP", chosen

    associated = client.associate_software_token(Session=chosen["Session"])
    fresh = {"email": email, "password": new_password, "secret": associated["SecretCode"], "used": set(),
             "last_step": current_step() - 2}
    code, _ = next_code(fresh)
    verified = client.verify_software_token(Session=associated["Session"], UserCode=code)
    assert verified["Status"] == "SUCCESS"
    done = client.respond_to_auth_challenge(ClientId=cloud.client_id, ChallengeName="MFA_SETUP",
                                            Session=verified["Session"],
                                            ChallengeResponses={"USERNAME": email})
    attributes = client.get_user(AccessToken=done["AuthenticationResult"]["AccessToken"])["UserAttributes"]
    assert {"Name": "email_verified", "Value": "true"} in attributes

    with aws_error("NotAuthorizedException", INCORRECT):
        password_sign_in(cloud, client, email, temporary)


def test_admin_operations_need_a_signature(cloud, client):
    with pytest.raises(ClientError) as info:
        client.admin_create_user(UserPoolId=cloud.user_pool_id, Username=new_email("unsigned"),
                                 TemporaryPassword="Temporary-Pass-1", MessageAction="SUPPRESS")
    assert info.value.response["Error"]["Code"] in {
        "NotAuthorizedException", "UnrecognizedClientException", "InvalidSignatureException",
        "AccessDeniedException", "IncompleteSignature", "SignatureDoesNotMatch"}, info.value.response


# -- mailbox -------------------------------------------------------------------------------------------
def test_mailbox_is_html_for_browsers(cloud, user):
    with urllib.request.urlopen(cloud.mailbox_url, timeout=10) as response:
        assert response.headers.get_content_type() == "text/html"
        page = response.read().decode()
    assert user["email"] in page
