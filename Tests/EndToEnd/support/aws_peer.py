"""A local AWS peer for end-to-end tests: moto_server with SigV4 enforced.

moto checks signatures only after its first INITIAL_NO_AUTH_ACTION_COUNT
actions. The peer spends exactly those on creating the IAM user `publisher`
with an allow-all policy and an access key, so from then on every request must
be signed with that key (or temporary credentials derived from it).

Quirks of moto 5.2 that tests must live with:
- S3 object keys and query values are checked against their decoded form, so
  only keys made of letters, digits, `-._~/` and space verify; any other
  character that SigV4 percent-encodes fails with SignatureDoesNotMatch. The
  same goes for a '/' in a query value (ListObjectsV2 with Prefix="a/b/"),
  from botocore too.
- For non-S3 requests without a body (CloudFront GETs), moto hashes the query
  or the headers as if they were the payload; a signed X-Amz-Content-SHA256
  header makes it use that value instead, and `client()` adds one.
- An unsigned request after bootstrap gets a 500, not a 403, so the unsigned
  AssumeRoleWithWebIdentity needs `allow_unauthenticated(1)` first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
from botocore import UNSIGNED
from botocore.config import Config

from . import free_port
from .venv_commands import venv_command

# CreateUser, PutUserPolicy, CreateAccessKey: each is one moto "action".
BOOTSTRAP_CALLS = 3
USER_NAME = "publisher"
ROLE_NAME = "publisher-role"
ALLOW_ALL = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
})


@dataclasses.dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def as_env(self) -> dict[str, str]:
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id,
               "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env

    @classmethod
    def from_sts(cls, response: dict) -> Credentials:
        creds = response["Credentials"]
        return cls(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


class AwsPeer:
    """Runs moto_server on a free loopback port; use as a context manager."""

    def __init__(self, *, region: str = "us-east-1", startup_timeout: float = 20.0):
        self.region = region
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.credentials: Credentials | None = None
        self.user_arn: str | None = None
        self._process: subprocess.Popen | None = None
        self._tmp: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def account_id(self) -> str:
        return self.user_arn.split(":")[4]

    @property
    def server_log(self) -> str:
        """What moto_server printed so far."""
        return (self._tmp / "moto_server.log").read_text(errors="replace")

    def start(self) -> AwsPeer:
        executable = venv_command("moto_server")
        if executable is None:
            raise RuntimeError("moto_server not found on PATH: "
                               "scripts/install-deps test (it fills .venv/ from Tests/EndToEnd/requirements.txt)")
        self._tmp = Path(tempfile.mkdtemp(prefix="aws-peer-"))
        (self._tmp / "home").mkdir()
        self.port = free_port()
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(BOOTSTRAP_CALLS))
        with open(self._tmp / "moto_server.log", "wb") as log:
            self._process = subprocess.Popen(
                [executable, "-H", "127.0.0.1", "-p", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            self._wait_until_up()
            self._bootstrap()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> AwsPeer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self._process.returncode}:\n"
                                   f"{self.server_log}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1):
                    return
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"moto_server did not answer on {self.url} within "
                        f"{self.startup_timeout:g} s:\n{self.server_log}") from None
                time.sleep(0.1)

    def _bootstrap(self) -> None:
        # No retries: a retried call would spend one more unauthenticated action.
        iam = boto3.client(
            "iam", endpoint_url=self.url, region_name=self.region,
            aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap",
            config=Config(retries={"total_max_attempts": 1}))
        self.user_arn = iam.create_user(UserName=USER_NAME)["User"]["Arn"]
        iam.put_user_policy(UserName=USER_NAME, PolicyName="allow-all",
                            PolicyDocument=ALLOW_ALL)
        key = iam.create_access_key(UserName=USER_NAME)["AccessKey"]
        self.credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    def client(self, service: str, *, endpoint_url: str | None = None,
               credentials: Credentials | None = None, **config):
        """A boto3 client for the peer (or for `endpoint_url`, e.g. a fault
        proxy's), signed with the publisher's keys unless `credentials` says
        otherwise. `config` overrides botocore Config options, e.g.
        retries={"max_attempts": 10, "mode": "standard"}."""
        credentials = credentials or self.credentials
        options = {"s3": {"addressing_style": "path"},
                   "retries": {"max_attempts": 3, "mode": "standard"},
                   "connect_timeout": 5, "read_timeout": 60}
        options.update(config)
        client = boto3.client(
            service, endpoint_url=endpoint_url or self.url, region_name=self.region,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token, config=Config(**options))
        if service != "s3":
            client.meta.events.register("before-sign", _sign_payload_hash)
        return client

    def create_bucket(self, name: str) -> str:
        self.client("s3").create_bucket(Bucket=name)
        return name

    def create_distribution(self, bucket: str | None = None) -> str:
        """A CloudFront distribution with one S3 origin; returns its id."""
        origin = f"{bucket or 'origin'}.s3.{self.region}.amazonaws.com"
        config = {
            "CallerReference": uuid.uuid4().hex,
            "Comment": "end-to-end test",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "site", "DomainName": origin,
                "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                # AWS's managed CachingOptimized policy
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
        }
        response = self.client("cloudfront").create_distribution(DistributionConfig=config)
        return response["Distribution"]["Id"]

    def env(self, *, endpoint_url: str | None = None,
            credentials: Credentials | None = None) -> dict[str, str]:
        """The complete environment for a `site` process talking to the peer
        (or to `endpoint_url`). No AWS_* variable of the caller's is kept, and
        HOME and the AWS config files point into a private folder, so the
        developer's own ~/.aws is never read."""
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("AWS_")}
        env.update((credentials or self.credentials).as_env())
        env.update({
            "AWS_ENDPOINT_URL": endpoint_url or self.url,
            "AWS_REGION": self.region,
            "AWS_CONFIG_FILE": str(self._tmp / "home" / "no-such-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self._tmp / "home" / "no-such-aws-credentials"),
            # Never reach for the instance metadata service off this machine.
            "AWS_EC2_METADATA_DISABLED": "true",
            "HOME": str(self._tmp / "home"),
        })
        return env

    def allow_unauthenticated(self, count: int) -> None:
        """Lets the next `count` actions, from anyone, through unchecked."""
        request = urllib.request.Request(
            f"{self.url}/moto-api/reset-auth", data=str(count).encode(), method="POST",
            headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10):
            pass

    def create_role(self, name: str = ROLE_NAME) -> str:
        """A role the publisher may assume and a web identity may federate
        into, allowed everything; returns its ARN."""
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": self.user_arn},
             "Action": "sts:AssumeRole"},
            {"Effect": "Allow",
             "Principal": {"Federated":
                           f"arn:aws:iam::{self.account_id}:oidc-provider/oidc.e2e.test"},
             "Action": "sts:AssumeRoleWithWebIdentity"},
        ]}
        iam = self.client("iam")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName=name, PolicyName="allow-all", PolicyDocument=ALLOW_ALL)
        return arn["Role"]["Arn"]

    def assume_role(self, role_arn: str, session_name: str = "e2e") -> Credentials:
        response = self.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session_name)
        return Credentials.from_sts(response)

    def assume_role_with_web_identity(self, role_arn: str, token: str,
                                      session_name: str = "e2e") -> Credentials:
        """Unsigned, as AWS expects; moto takes any token."""
        self.allow_unauthenticated(1)
        sts = boto3.client("sts", endpoint_url=self.url, region_name=self.region,
                           config=Config(signature_version=UNSIGNED,
                                         retries={"total_max_attempts": 1}))
        response = sts.assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName=session_name, WebIdentityToken=token)
        return Credentials.from_sts(response)


def _sign_payload_hash(request, **_) -> None:
    # See the module docstring: moto misjudges the payload hash of bodyless
    # non-S3 requests unless this header is signed.
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, bytes):
        # A retry signs the same request again: replace, don't add.
        del request.headers["X-Amz-Content-SHA256"]
        request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
