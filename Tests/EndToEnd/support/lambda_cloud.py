"""The video service as production hosts it, on loopback: API Gateway's HTTP API in front (its
JWT authorizer and payload 2.0 events), the `video` and `trigger` functions of the Lambda bootstrap
(lambda_host.py), and moto behind (production_peer.py: DynamoDB, the buckets, S3 → SNS → SQS).

`LambdaCloud` looks like a `LocalCloud` to the API tests: Cognito, the mailbox and the token keys
are the local cloud's (the user pool is not what is under test), while `api_url` is the gateway's
(`…/api`, as the site's origin forwards it) and `s3()` is moto's, so the same test cases run against
both hosts.

The gateway does what API Gateway does for the template's routes, each with the JWT authorizer
(ANY /api/videos, ANY /api/videos/{proxy+}, POST /api/session and DELETE /api/session on the
`$default` stage; the function strips the leading /api): it takes the token from `Authorization` (with or without
`Bearer `), checks its RS256 signature against the pool's JWKS, its issuer, its expiry and its
audience (`aud`, else `client_id`), and answers a refusal itself — 401 `{"message":"Unauthorized"}`
with the reason in `www-authenticate` — as the API Gateway developer guide shows
("Troubleshooting issues with HTTP API JWT authorizers"). It does not look at `token_use`, as
API Gateway does not: the function checks it. Any other path or method is API Gateway's 404
`{"message":"Not Found"}`; a function error is its 500 `{"message":"Internal Server Error"}`. The
function's payload 2.0 `cookies` become one `Set-Cookie` header each.
One function instance serves one request at a time, as one Lambda execution environment does.

The video function signs its media cookies with the production peer's media key (its PEM in a moto
secret) for the gateway's own origin, where the site's origin would be.

The trigger is fed as Lambda's SQS event source mapping feeds it (batches of up to 10, partial
batch failures left on the queue), by a thread polling the queue.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .lambda_host import LambdaHost
from .local_cloud import LocalCloud
from .production_peer import ProductionPeer

STAGE = "$default"
# The template's routes: (method or ANY, path; a {proxy+} at the end takes one or more segments).
ROUTES = [("ANY", "/api/videos"), ("ANY", "/api/videos/{proxy+}"), ("POST", "/api/session"), ("DELETE", "/api/session")]


def route_key(method: str, path: str) -> str | None:
    """The route a request matches, as API Gateway picks it (the most specific first), or None."""
    for route_method, route_path in ROUTES:
        if route_method not in ("ANY", method):
            continue
        if route_path.endswith("/{proxy+}"):
            base = route_path.removesuffix("{proxy+}")
            if path.startswith(base) and len(path) > len(base):
                return f"{route_method} {route_path}"
        elif path == route_path:
            return f"{route_method} {route_path}"
    return None


class Refusal(Exception):
    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


class Authorizer:
    """API Gateway's JWT authorizer for one Cognito user pool and app client."""

    def __init__(self, issuer: str, audience: str):
        self.issuer, self.audience = issuer, audience
        with urllib.request.urlopen(f"{issuer}/.well-known/jwks.json", timeout=10) as answer:
            self.keys = KeySet.import_key_set(json.load(answer))

    def claims(self, header: str | None) -> dict:
        if not header:
            raise Refusal("the authorization header is missing")
        token = header[7:].strip() if header.lower().startswith("bearer ") else header.strip()
        try:
            decoded = jwt.decode(token, self.keys, algorithms=["RS256"])
        except (JoseError, ValueError, KeyError, TypeError) as error:
            raise Refusal(f"signature is invalid ({type(error).__name__})") from None
        claims = decoded.claims
        if claims.get("iss") != self.issuer:
            raise Refusal("the token does not have a valid issuer")
        if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] <= time.time():
            raise Refusal("the token has expired")
        audience = claims.get("aud", claims.get("client_id"))
        audiences = audience if isinstance(audience, list) else [audience]
        if self.audience not in audiences:
            raise Refusal("the token does not have a valid audience")
        return claims


class LambdaCloud:
    # moto checks neither presigned signatures nor SHA-256 checksums (production_peer.py).
    strict_s3 = False

    def __init__(self, local: LocalCloud, production: ProductionPeer, binary):
        self.local, self.production, self.binary = local, production, binary
        self.temp_bucket, self.main_bucket = production.temp_bucket, production.main_bucket
        self.invocations: list[dict] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    # -- what the API tests use, as on LocalCloud
    def __getattr__(self, name):
        return getattr(self.local, name)

    @property
    def gateway_origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.gateway_origin}/api"

    def s3(self, **config):
        return self.production.client("s3", **config)

    def set_user_limits(self, user: dict, **limits: int) -> str:
        """The user's own limits as `infra/limits` writes them: the values given SET on the
        `limits` item beside their videos (keyword names as LocalCloud.set_user_limits')."""
        names = {"stored_gib": "storedGiB", "videos": "videos", "largest_gib": "largestGiB", "minutes": "minutesPerMonth"}
        self.production.client("dynamodb").update_item(
            TableName=self.production.table_name, Key={"sub": {"S": user["sub"]}, "id": {"S": "limits"}},
            UpdateExpression="SET " + ", ".join(f"#{names[name]} = :{names[name]}" for name in limits),
            ExpressionAttributeNames={f"#{names[name]}": names[name] for name in limits},
            ExpressionAttributeValues={f":{names[name]}": {"N": str(value)} for name, value in limits.items()})
        return ""

    # -- lifecycle
    def start(self) -> "LambdaCloud":
        # The server first: the video function's media origin is its address.
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # Everyone's limits as the local cloud's in the suites (local_cloud.LARGE_LIMITS).
        env = self.production.env(COGNITO_CLIENT_ID=self.local.client_id, MEDIA_ORIGIN=self.gateway_origin,
                                  LIMIT_LARGEST_GIB="5120", LIMIT_STORED_GIB="1048576")
        self.video = LambdaHost(self.binary, "video", env=env).start()
        self.trigger = LambdaHost(self.binary, "trigger", env=env).start()
        self.authorizer = Authorizer(f"{self.local.cognito_url}/{self.local.user_pool_id}", self.local.client_id)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self._mapping = threading.Thread(target=self._poll_queue, daemon=True)
        self._mapping.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._mapping.join(timeout=15)
        self.video.stop()
        self.trigger.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- the SQS event source mapping
    def _poll_queue(self) -> None:
        while not self._stopping.is_set():
            try:
                event = self.production.receive_sqs_event(wait=1.0)
            except Exception:  # moto stopping under us at the end
                return
            if not event["Records"]:
                continue
            outcome = self.trigger.invoke(event, timeout_ms=30_000)
            response = outcome.payload if outcome.kind == "response" else None
            if outcome.kind == "response":
                self.production.acknowledge(event, response)

    # -- API Gateway
    def gateway_event(self, method: str, target: str, headers: dict[str, str], body: bytes, claims: dict,
                      route: str | None = None) -> dict:
        path, _, query = target.partition("?")
        route = route or route_key(method, path) or "$default"
        now = time.time()
        request_id = base64.b64encode(uuid.uuid4().bytes[:10]).decode().rstrip("=")
        # API Gateway passes a text body as it is and any other body in base64.
        content_type = headers.get("content-type", "")
        textual = content_type.startswith("text/") or "json" in content_type or "xml" in content_type
        try:
            text, encoded = (body.decode("utf-8"), False) if body and textual else (None, False)
        except UnicodeDecodeError:
            text = None
        if body and text is None:
            text, encoded = base64.b64encode(body).decode(), True
        params: dict[str, str] = {}
        for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            params[name] = f"{params[name]},{value}" if name in params else value
        event = {
            "version": "2.0", "routeKey": route,
            "rawPath": path, "rawQueryString": query, "headers": headers,
            "requestContext": {
                "accountId": self.production.account_id, "apiId": "local0api", "domainName": "127.0.0.1",
                "domainPrefix": "127", "requestId": request_id, "routeKey": route, "stage": STAGE,
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                         "userAgent": headers.get("user-agent", "")},
                "authorizer": {"jwt": {"claims": {k: (v if isinstance(v, str) else json.dumps(v) if isinstance(v, (list, dict)) else str(v))
                                                  for k, v in claims.items()}, "scopes": None}},
            },
            "isBase64Encoded": encoded,
        }
        if params:
            event["queryStringParameters"] = params
        if body:
            event["body"] = text
        return event

    def _handler(self):
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str], cookies: list[str] | None = None):
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                for cookie in cookies or []:
                    self.send_header("Set-Cookie", cookie)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("apigw-requestid", uuid.uuid4().hex[:16])
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _gateway(self, status: int, message: str, extra: dict[str, str] | None = None):
                self._send(status, json.dumps({"message": message}).encode(),
                           {"Content-Type": "application/json", **(extra or {})})

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.partition("?")[0]
                route = route_key(self.command, path)
                if route is None:
                    return self._gateway(404, "Not Found")
                try:
                    claims = cloud.authorizer.claims(self.headers.get("Authorization"))
                except Refusal as refusal:
                    return self._gateway(401, "Unauthorized", {"www-authenticate":
                        f'Bearer scope="" error="invalid_token" error_description="{refusal.description}"'})
                headers: dict[str, str] = {}
                for name, value in self.headers.items():
                    name = name.lower()
                    headers[name] = f"{headers[name]},{value}" if name in headers else value
                event = cloud.gateway_event(self.command, self.path, headers, body, claims, route)
                with cloud._lock:
                    outcome = cloud.video.invoke(event, timeout_ms=30_000)
                cloud.invocations.append({"event": event, "outcome": outcome.kind})
                if outcome.kind != "response" or not isinstance(outcome.payload, dict):
                    return self._gateway(500, "Internal Server Error")
                answer = outcome.payload
                data = answer.get("body") or ""
                data = base64.b64decode(data) if answer.get("isBase64Encoded") else data.encode()
                self._send(int(answer.get("statusCode", 200)), data, dict(answer.get("headers") or {}),
                           list(answer.get("cookies") or []))

            def __getattr__(self, name):
                # ANY: every method reaches the route (TRACE, CONNECT and made-up ones too).
                if name.startswith("do_"):
                    return self._any
                raise AttributeError(name)

        return Handler
