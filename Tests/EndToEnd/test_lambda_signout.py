"""The `signout` function, the user pool's post-confirmation trigger, in the static bootstrap
(support/lambda_host.py) against moto's Cognito (support/production_peer.py): after a password reset
(`PostConfirmation_ConfirmForgotPassword`) every refresh token of the user is refused, those of other
users still work, and the event comes back unchanged, as Cognito needs; a sign-up's confirmation
changes nothing. The event is the one Cognito documents for the trigger
(https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-post-confirmation.html,
with the common fields of cognito-user-pools-working-with-lambda-triggers.html).

moto 5.2.1 keeps a pool's refresh tokens and ends them all at AdminUserGlobalSignOut, as AWS does;
it has no Lambda triggers of its own, so the test sends the event Cognito would."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from support.lambda_host import LambdaHost, build_lambda

PASSWORD = "Correct-Horse-9"


@pytest.fixture(scope="module")
def binary():
    return build_lambda().binary


@pytest.fixture
def signout(production, binary):
    host = LambdaHost(binary, "signout", env=production.env()).start()
    try:
        yield host
    finally:
        host.stop()


@pytest.fixture
def pool(production):
    """A moto user pool and an app client that signs in with a password and refreshes."""
    cognito = production.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName=f"users-{production.suffix}")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    return cognito, pool_id, client_id


def new_user(pool) -> str:
    cognito, pool_id, _ = pool
    username = f"user-{uuid.uuid4().hex[:8]}"
    cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}])
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
    return username


def sign_in(pool, username: str) -> str:
    """A sign-in's refresh token."""
    cognito, pool_id, client_id = pool
    answer = cognito.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                         AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD})
    return answer["AuthenticationResult"]["RefreshToken"]


def refreshes(pool, refresh_token: str) -> bool:
    cognito, pool_id, client_id = pool
    try:
        cognito.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                    AuthParameters={"REFRESH_TOKEN": refresh_token})
    except ClientError as error:
        assert error.response["Error"]["Code"] == "NotAuthorizedException", error.response
        return False
    return True


def post_confirmation(production, pool_id: str, username: str, source: str) -> dict:
    """The event Cognito sends the post-confirmation trigger."""
    return {
        "version": "1", "region": production.region, "userPoolId": pool_id, "userName": username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "web-client-id"},
        "triggerSource": source,
        "request": {"userAttributes": {"sub": str(uuid.uuid4()), "email": f"{username}@example.com",
                                       "email_verified": "true", "cognito:user_status": "CONFIRMED"}},
        "response": {},
    }


def test_a_password_reset_ends_every_session_of_the_user_and_answers_the_event(production, signout, pool):
    user, other = new_user(pool), new_user(pool)
    sessions = [sign_in(pool, user), sign_in(pool, user)]
    bystander = sign_in(pool, other)
    assert all(refreshes(pool, token) for token in sessions)

    event = post_confirmation(production, pool[1], user, "PostConfirmation_ConfirmForgotPassword")
    outcome = signout.invoke(event, timeout_ms=5_000)
    assert outcome.kind == "response", signout.logs()
    assert outcome.payload == event

    assert not any(refreshes(pool, token) for token in sessions)
    assert refreshes(pool, bystander)
    # Signing in again (with the new password, in production) starts a session that works.
    assert refreshes(pool, sign_in(pool, user))


def test_a_sign_up_confirmation_changes_nothing(production, signout, pool):
    user = new_user(pool)
    session = sign_in(pool, user)
    event = post_confirmation(production, pool[1], user, "PostConfirmation_ConfirmSignUp")
    outcome = signout.invoke(event, timeout_ms=5_000)
    assert outcome.kind == "response", signout.logs()
    assert outcome.payload == event
    assert refreshes(pool, session)


def test_a_reset_the_function_cannot_sign_out_fails_the_invocation(production, signout, pool):
    """An unknown user (or a refusal) is an error Cognito reports, never a silent success."""
    event = post_confirmation(production, pool[1], "nobody-" + uuid.uuid4().hex[:8], "PostConfirmation_ConfirmForgotPassword")
    outcome = signout.invoke(event, timeout_ms=5_000)
    assert outcome.kind == "error", outcome
    assert "AdminUserGlobalSignOut" in str(outcome.payload), outcome.payload
