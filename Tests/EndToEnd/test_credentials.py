"""`site publish` finds its credentials from each source of the chain and publishes with them
against the peer, whose STS issues the temporary ones (AssumeRole, AssumeRoleWithWebIdentity).

Each test starts from an environment with no AWS_* variable of the caller's and an empty private
HOME, then adds only the source under test."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from support.publishing import assert_bucket_matches_build, build, publish

TOKEN = "container-token-e2e"


@pytest.fixture
def bare(target, tmp_path):
    """`target` with its keys taken out of the environment, and AWS config files in tmp_path."""
    env = {k: v for k, v in target["env"].items()
           if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "aws-credentials")
    env["AWS_CONFIG_FILE"] = str(tmp_path / "aws-config")
    build(target)
    return {**target, "env": env, "files": tmp_path}


def write_files(bare, credentials: str = "", config: str = "") -> None:
    (bare["files"] / "aws-credentials").write_text(credentials)
    (bare["files"] / "aws-config").write_text(config)


def publish_with(peer, bare, env, *extra):
    summary, _ = publish(bare, *extra, env=env)
    assert_bucket_matches_build(peer, bare)
    return summary["credentials"]


def test_environment_keys(peer, bare):
    env = {**bare["env"], **peer.credentials.as_env()}
    assert publish_with(peer, bare, env).startswith("environment")


def test_environment_session_token(peer, bare):
    temporary = peer.assume_role(peer.create_role("env-session"))
    env = {**bare["env"], **temporary.as_env()}
    assert publish_with(peer, bare, env).startswith("environment")


def test_profile_static_keys_by_flag_and_by_aws_profile_with_its_region(peer, bare):
    key = peer.credentials
    write_files(bare, credentials=f"[deploy]\naws_access_key_id = {key.access_key_id}\n"
                                  f"aws_secret_access_key = {key.secret_access_key}\n",
                config=f"[profile deploy]\nregion = {peer.region}\n")
    env = {k: v for k, v in bare["env"].items() if k != "AWS_REGION"}
    assert "deploy" in publish_with(peer, bare, env, "--profile", "deploy")
    assert "deploy" in publish_with(peer, bare, {**env, "AWS_PROFILE": "deploy"})


def test_profile_role_arn_with_source_profile_assumes_the_role(peer, bare):
    key = peer.credentials
    role = peer.create_role("profile-role")
    write_files(bare, credentials=f"[base]\naws_access_key_id = {key.access_key_id}\n"
                                  f"aws_secret_access_key = {key.secret_access_key}\n",
                config=f"[profile deploy]\nrole_arn = {role}\nsource_profile = base\n"
                       f"role_session_name = e2e-deploy\n")
    source = publish_with(peer, bare, bare["env"], "--profile", "deploy")
    assert role in source, source


def test_web_identity_from_the_environment(peer, bare):
    role = peer.create_role("ci-role")
    token_file = bare["files"] / "oidc-token"
    token_file.write_text("eyJhbGciOiJSUzI1NiJ9.e2e.token")
    env = {**bare["env"], "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file), "AWS_ROLE_ARN": role,
           "AWS_ROLE_SESSION_NAME": "ci-run"}
    # AssumeRoleWithWebIdentity is unsigned; moto only lets it through as an unchecked action.
    peer.allow_unauthenticated(1)
    source = publish_with(peer, bare, env)
    assert source.startswith("web identity") and role in source, source


def test_web_identity_from_a_profile(peer, bare):
    role = peer.create_role("profile-ci-role")
    token_file = bare["files"] / "oidc-token"
    token_file.write_text("eyJhbGciOiJSUzI1NiJ9.e2e.token")
    write_files(bare, config=f"[default]\nrole_arn = {role}\nweb_identity_token_file = {token_file}\n")
    peer.allow_unauthenticated(1)
    source = publish_with(peer, bare, bare["env"])
    assert role in source, source


class _ContainerCredentials(http.server.BaseHTTPRequestHandler):
    """The ECS/EKS credentials endpoint: temporary keys for an Authorization token."""

    def do_GET(self) -> None:
        server = self.server
        server.requests.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != TOKEN:
            self.send_error(403)
            return
        body = json.dumps(server.credentials).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def container_endpoint(peer):
    temporary = peer.assume_role(peer.create_role("task-role"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ContainerCredentials)
    server.requests = []
    server.credentials = {"AccessKeyId": temporary.access_key_id, "SecretAccessKey": temporary.secret_access_key,
                          "Token": temporary.session_token, "Expiration": "2099-01-01T00:00:00Z"}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_container_credentials_with_a_token_file(peer, bare, container_endpoint):
    token_file = bare["files"] / "container-token"
    token_file.write_text(TOKEN + "\n")
    url = f"http://127.0.0.1:{container_endpoint.server_address[1]}/v2/credentials/task"
    env = {**bare["env"], "AWS_CONTAINER_CREDENTIALS_FULL_URI": url,
           "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file)}
    source = publish_with(peer, bare, env)
    assert source.startswith("container credentials"), source
    assert container_endpoint.requests == [("/v2/credentials/task", TOKEN)]


def test_container_credentials_refuse_plain_http_off_loopback(bare):
    env = {**bare["env"], "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://203.0.113.9/credentials"}
    summary, result = publish(bare, env=env, expect_ok=False)
    assert result.returncode != 0
    assert "must be https" in summary["error"]


def test_no_credentials_names_every_source_tried(peer, bare):
    summary, result = publish(bare, env=bare["env"], expect_ok=False)
    assert result.returncode != 0
    error = summary["error"]
    for source in ("AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "profile 'default'",
                   str(bare["files"] / "aws-credentials"), "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        assert source in error, error
    assert "no AWS credentials found" in result.stderr


def test_an_unknown_profile_is_named(bare):
    write_files(bare)
    summary, result = publish(bare, "--profile", "nope", env=bare["env"], expect_ok=False)
    assert result.returncode != 0
    assert "nope" in summary["error"]
