"""Starts `site cloud` (the local cloud) for the end-to-end tests and hands out clients.

`site cloud --port 0 --data DIR` prints, once it listens:

    cognito: http://127.0.0.1:PORT
    api: http://127.0.0.1:PORT/api
    s3: http://127.0.0.1:PORT
    mailbox: http://127.0.0.1:PORT/_local/mailbox
    userPoolId: us-east-1_LocalPool
    clientId: localappclient0000000000000
    credentials: DIR/aws-credentials (profile localcloud)

The credentials file is an AWS shared credentials file holding the S3 keys of this data folder.
"""

from __future__ import annotations

import configparser
import json
import re
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

from . import REPO

# The video API's contract, which the local cloud serves at /api/openapi.yaml.
OPENAPI = REPO / "Sources" / "LocalCloud" / "Resources" / "openapi.yaml"
LINE = re.compile(r"^(cognito|api|s3|mailbox|userPoolId|clientId|credentials): (.+)$")
REGION = "us-east-1"
# Everyone's limits in the suites (`site cloud` flags; production: the stack's Limit* parameters),
# above the API's own 5 TiB a file.
LARGE_LIMITS = ("--largest-gib", "5120", "--stored-gib", "1048576")


class LocalCloud:
    temp_bucket = "video-temp-conversion"
    main_bucket = "video-main"
    # Its S3 checks presigned signatures and SHA-256 checksums as S3 does (moto checks neither).
    strict_s3 = True

    def __init__(self, binary: Path | None, data: Path, port: int = 0, extra_args: tuple[str, ...] = ()):
        self.binary = Path(binary) if binary is not None else None
        self.data = Path(data)
        self.port = port
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None
        self.endpoints: dict[str, str] = {}
        self.output: list[str] = []

    @classmethod
    def attached(cls, data: Path, lines) -> "LocalCloud":
        """A client (mailbox, Cognito, boto3) of a cloud another process started (`site serve`, say)
        with its data in `data`, with no process of its own: its endpoints are read from `lines`,
        that process's output (more can be read later with read_endpoint)."""
        cloud = cls(None, data)
        for line in list(lines):
            cloud.read_endpoint(line)
        return cloud

    @classmethod
    def attached_to(cls, served, data: Path, timeout: float = 60.0) -> "LocalCloud":
        """`attached` to the cloud of `served` (a running `site serve`), once its endpoints are
        printed: the cloud prints them when it listens, which may come after the site's first build."""
        deadline = time.monotonic() + timeout
        cloud = cls.attached(data, served.lines)
        while "mailbox" not in cloud.endpoints and time.monotonic() < deadline and served.process.poll() is None:
            time.sleep(0.05)
            cloud = cls.attached(data, served.lines)
        assert "mailbox" in cloud.endpoints, "site serve did not print the cloud's endpoints:\n" + "".join(served.lines)
        return cloud

    def read_endpoint(self, line: str) -> bool:
        """Takes `line` if it is one of the endpoint lines `site cloud` prints; whether it was."""
        match = LINE.match(line.strip())
        if match:
            self.endpoints[match.group(1)] = match.group(2)
        return match is not None

    # -- life cycle -----------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> "LocalCloud":
        assert self.binary is not None, "a cloud attached to another process's is not started here"
        self.endpoints = {}
        self.output = []
        # Suites hold one user's access token for a whole module, conversions included: tokens of an
        # hour, unless the suite asks otherwise (the 15-minute default is the Swift tests' to check).
        lifetime = () if "--token-lifetime" in self.extra_args else ("--token-lifetime", "3600")
        # The API's own size limits (5 TiB a file) are the contract suites' to reach: everyone's
        # limits above them, unless the suite sets its own; a user's own (`limits`) are lower.
        limits = () if "--largest-gib" in self.extra_args else LARGE_LIMITS
        self.process = subprocess.Popen(
            [str(self.binary), "cloud", "--port", str(self.port), "--data", str(self.data), *lifetime, *limits,
             *self.extra_args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while len(self.endpoints) < 7:
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("site cloud did not print its endpoints:\n" + "".join(self.output))
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("site cloud exited:\n" + "".join(self.output))
            self.output.append(line)
            self.read_endpoint(line)
        # Keep draining the output so the server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        if self.port == 0:
            self.port = int(self.endpoints["s3"].rsplit(":", 1)[1].split("/")[0])
        return self

    def _drain(self):
        process = self.process
        if process is None or process.stdout is None:
            return
        for line in process.stdout:
            self.output.append(line)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def set_user_limits(self, user: dict, **limits: int) -> str:
        """`site cloud limits EMAIL --stored-gib N …` on this cloud's data folder (running or not):
        the user's own limits, keyword names as the flags (`stored_gib`, `videos`, `largest_gib`,
        `minutes`); returns what the command printed."""
        flags = [part for name, value in limits.items() for part in ("--" + name.replace("_", "-"), str(value))]
        assert self.binary is not None, "a cloud attached to another process's has no binary here"
        done = subprocess.run([str(self.binary), "cloud", "--data", str(self.data), "limits", user["email"], *flags],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done
        return done.stdout

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- endpoints --------------------------------------------------------------------------
    @property
    def cognito_url(self) -> str: return self.endpoints["cognito"]

    @property
    def api_url(self) -> str: return self.endpoints["api"]

    @property
    def s3_url(self) -> str: return self.endpoints["s3"]

    @property
    def mailbox_url(self) -> str: return self.endpoints["mailbox"]

    @property
    def user_pool_id(self) -> str: return self.endpoints["userPoolId"]

    @property
    def client_id(self) -> str: return self.endpoints["clientId"]

    @property
    def credentials_file(self) -> Path:
        return Path(self.endpoints["credentials"].split(" (profile")[0])

    def s3_keys(self) -> tuple[str, str]:
        parser = configparser.ConfigParser()
        parser.read(self.credentials_file)
        section = parser["localcloud"]
        return section["aws_access_key_id"], section["aws_secret_access_key"]

    # -- clients -------------------------------------------------------------------------------
    # Each call is sent once: the tests assert the server's answer to each attempt, and botocore
    # 1.44 retries LimitExceededException, which here answers a spent code's retry with a mismatch.
    ONCE = Config(retries={"total_max_attempts": 1})

    def cognito(self):
        """boto3 cognito-idp with nothing but the endpoint changed (unsigned operations need no keys;
        dummy keys keep botocore from searching the machine for real ones), retries off."""
        return boto3.client("cognito-idp", region_name=REGION, endpoint_url=self.cognito_url,
                            aws_access_key_id="unused", aws_secret_access_key="unused", config=self.ONCE)

    def cognito_admin(self):
        key, secret = self.s3_keys()
        return boto3.client("cognito-idp", region_name=REGION, endpoint_url=self.cognito_url,
                            aws_access_key_id=key, aws_secret_access_key=secret, config=self.ONCE)

    def s3(self, **config):
        key, secret = self.s3_keys()
        return boto3.client("s3", region_name=REGION, endpoint_url=self.s3_url,
                            aws_access_key_id=key, aws_secret_access_key=secret,
                            config=Config(s3={"addressing_style": "path"}, **config))

    def mailbox(self) -> list[dict]:
        request = urllib.request.Request(self.mailbox_url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["messages"]

    def latest_code(self, email: str, kind: str | None = None) -> str:
        for message in reversed(self.mailbox()):
            if message["to"] == email and (kind is None or message["kind"] == kind):
                return message["code"]
        raise AssertionError(f"no {kind or ''} message for {email} in the mailbox")

    def state(self) -> dict:
        """The `/_local/` overview as JSON: users, videos, jobs and the mailbox."""
        request = urllib.request.Request(self.s3_url + "/_local/", headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)


# -- users ---------------------------------------------------------------------------------------
def totp(secret_base32: str, at: float | None = None, step_offset: int = 0) -> str:
    """RFC 6238 (SHA-1, 6 digits, 30 s), computed here independently of the server."""
    import base64
    import hashlib
    import hmac
    import struct
    padded = secret_base32.upper() + "=" * (-len(secret_base32) % 8)
    key = base64.b32decode(padded)
    counter = int((time.time() if at is None else at) // 30) + step_offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def fresh_totp(secret: str, used: set[str] | None = None) -> str:
    """A code the server accepts now, and not in `used` (a code is accepted once, and only for a
    step later than the last one used). The server takes the steps either side of its own, so when
    this step's code is spent the next step's is used; only when that is spent too does it wait."""
    if used is None:
        return totp(secret)
    while True:
        now = int(time.time() // 30)
        last = max((step for step in range(now - 2, now + 2) if totp(secret, at=step * 30) in used), default=now - 3)
        for step in (now, now + 1):
            if step > last:
                code = totp(secret, at=step * 30)
                used.add(code)
                return code
        time.sleep(max(0.2, (now + 1) * 30 - time.time() + 0.2))


def register_user(cloud: LocalCloud, email: str, password: str = "Correct-Horse-9") -> dict:
    """Signs a user up, confirms them with the mailbox's code, signs in with USER_PASSWORD_AUTH and
    sets up TOTP. Returns {"sub", "email", "password", "secret", "used", "tokens"} where tokens is
    the AuthenticationResult (AccessToken, IdToken, RefreshToken)."""
    client = cloud.cognito()
    signed_up = client.sign_up(ClientId=cloud.client_id, Username=email, Password=password,
                               UserAttributes=[{"Name": "email", "Value": email}])
    client.confirm_sign_up(ClientId=cloud.client_id, Username=email,
                           ConfirmationCode=cloud.latest_code(email, "confirmation"))
    started = client.initiate_auth(ClientId=cloud.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": email, "PASSWORD": password})
    assert started["ChallengeName"] == "MFA_SETUP", started
    associated = client.associate_software_token(Session=started["Session"])
    secret = associated["SecretCode"]
    used: set[str] = set()
    verified = client.verify_software_token(Session=associated["Session"], UserCode=fresh_totp(secret, used))
    assert verified["Status"] == "SUCCESS", verified
    done = client.respond_to_auth_challenge(ClientId=cloud.client_id, ChallengeName="MFA_SETUP",
                                            Session=verified["Session"],
                                            ChallengeResponses={"USERNAME": email})
    return {"sub": signed_up["UserSub"], "email": email, "password": password, "secret": secret,
            "used": used, "tokens": done["AuthenticationResult"]}


def token(user: dict) -> str:
    """The access token of a user register_user made (or signed in again)."""
    return user["tokens"]["AccessToken"]


# -- plain HTTP for the cloud tests (http.client: no header is added or re-encoded behind our back) --
class HttpResponse:
    def __init__(self, status: int, reason: str, headers, body: bytes):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<HTTP {self.status} {self.reason} {self.body[:300]!r}>"


def http_request(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
                 timeout: float = 60.0) -> HttpResponse:
    """Sends exactly one request to `url` as given (path and query are not re-encoded)."""
    import http.client
    import urllib.parse
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return HttpResponse(response.status, response.reason, response.headers, response.read())
    finally:
        connection.close()


def api_call(cloud: LocalCloud, method: str, path: str, token: str | None = None, body=None,
             raw: bytes | None = None, query: dict | None = None, headers: dict | None = None,
             timeout: float = 60.0) -> HttpResponse:
    """Calls the video API (`cloud.api_url` + path) with `Authorization: Bearer token`; `body` is
    sent as JSON, `raw` as is."""
    import urllib.parse
    url = cloud.api_url + path
    if query:
        url += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    sent = dict(headers or {})
    if token is not None:
        sent.setdefault("Authorization", f"Bearer {token}")
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    return http_request(method, url, data, sent, timeout)


def media_cookies(cloud: LocalCloud, token: str, origin: str | None = None) -> dict[str, str]:
    """The signed cookies `POST /api/session` sets for the token's user, as name → value. Sent to
    `origin` (the cloud's own by default) with that origin's Host, as a browser on it would."""
    import urllib.parse
    url = (origin or cloud.endpoints["api"].rsplit("/api", 1)[0]) + "/api/session"
    host = urllib.parse.urlsplit(url).netloc
    response = http_request("POST", url, headers={"Authorization": f"Bearer {token}", "Host": host})
    assert response.status == 200, response
    cookies = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    assert set(cookies) == {"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"}, response.headers
    return cookies


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def media_get(cloud: LocalCloud, path: str, cookies: dict[str, str] | None, headers: dict | None = None,
              origin: str | None = None, timeout: float = 60.0) -> HttpResponse:
    """GET of a `/media/…` path on `origin` (the cloud's own by default) with the given cookies."""
    sent = dict(headers or {})
    if cookies:
        sent["Cookie"] = cookie_header(cookies)
    return http_request("GET", (origin or cloud.endpoints["api"].rsplit("/api", 1)[0]) + path, headers=sent, timeout=timeout)
