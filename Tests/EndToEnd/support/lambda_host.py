"""Runs the Lambda `bootstrap` as AWS Lambda would, for end-to-end tests of the video service's functions.

- `build_lambda()`: runs scripts/build-lambda once per test session; returns the zip and the binary in it.
- `RuntimeAPI`: a stand-in for Lambda's Runtime API (2018-06-01) on 127.0.0.1, a random port. It
  queues events, hands each out on `GET …/invocation/next` with the request id, deadline, function
  ARN and trace id headers, and records what comes back: a response, an invocation error or an init
  error.
- `LambdaHost`: starts the bootstrap in an otherwise empty root (`/bootstrap` and `/proc`, nothing
  else: no libc, no /etc, no shell), pointed at a RuntimeAPI, and invokes it:

      with LambdaHost(binary, "video", env={"VIDEO_TABLE": "videos", ...}) as host:
          outcome = host.invoke({"version": "2.0", "requestContext": {...}, ...}, timeout_ms=3000)
          assert outcome.kind == "response" and outcome.payload["statusCode"] == 200

  `host.init_error()` waits for the start to fail; `host.stdout` / `host.stderr` hold the
  function's log lines. Point the function's AWS calls at moto with `AWS_ENDPOINT_URL` in `env`.

The empty root: this container runs the tests as root, so the bootstrap is started through
`unshare --mount` (a private mount namespace, so nothing mounted shows outside it or outlives the
process), which mounts a fresh procfs at ROOT/proc and `exec`s `chroot ROOT /bootstrap`. The shell,
`mount` and `chroot` run from the host's root before the chroot; only the bootstrap runs inside it,
under the same pid as the Popen (every step `exec`s), sharing the host's network so 127.0.0.1 reaches
the stand-in. Not root: the same inside a user namespace (`--map-root-user`, with a pid namespace),
where the kernel allows one.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import REPO

REGION = "us-east-1"
ACCOUNT = "123456789012"
PREFIX = "/2018-06-01/runtime"


@dataclass(frozen=True)
class LambdaBuild:
    zip: Path
    binary: Path
    """The stripped binary that went into the zip."""
    output: str
    """build-lambda's standard output (the size and SHA-256 line)."""


@functools.cache
def build_lambda() -> LambdaBuild:
    """Runs scripts/build-lambda (once per test session; a second run is a quick no-op build)."""
    result = subprocess.run([str(REPO / "scripts" / "build-lambda")], cwd=REPO, capture_output=True,
                            text=True, timeout=3600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/build-lambda failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    out = REPO / ".build-lambda"
    return LambdaBuild(zip=out / "bootstrap.zip", binary=out / "lambda-stage" / "bootstrap", output=result.stdout)


@dataclass
class Outcome:
    """What the function made of one event."""
    kind: str
    """"response" or "error" (the invocation's error, handler or runtime)."""
    payload: Any
    """The posted body, parsed as JSON when it is JSON, else bytes."""
    request_id: str
    error_type: str | None = None
    """The Lambda-Runtime-Function-Error-Type header of an error."""
    headers: dict[str, str] = field(default_factory=dict)


class _Pending:
    def __init__(self, event: bytes, request_id: str, deadline_ms: int, arn: str, trace_id: str):
        self.event, self.request_id, self.deadline_ms, self.arn, self.trace_id = event, request_id, deadline_ms, arn, trace_id
        self.done = threading.Event()
        self.outcome: Outcome | None = None


class RuntimeAPI:
    """The Runtime API stand-in. `address` is what AWS_LAMBDA_RUNTIME_API takes."""

    def __init__(self, function_name: str = "video"):
        self.function_name = function_name
        self._queue: queue.Queue[_Pending] = queue.Queue()
        self._by_id: dict[str, _Pending] = {}
        self._stopping = threading.Event()
        self.init_errors: list[Outcome] = []
        self._init_error = threading.Event()
        self.requests: list[tuple[str, str]] = []
        """Every request the function made: (method, path)."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self):
                api.requests.append(("GET", self.path))
                if self.path != f"{PREFIX}/invocation/next":
                    return self._answer(404, b'{"errorMessage":"no such path"}')
                while True:  # Lambda holds `next` open until there is an event
                    if api._stopping.is_set():
                        return self._answer(503, b'{"errorMessage":"shutting down"}')
                    try:
                        pending = api._queue.get(timeout=0.2)
                        break
                    except queue.Empty:
                        continue
                headers = {"Lambda-Runtime-Aws-Request-Id": pending.request_id,
                           "Lambda-Runtime-Deadline-Ms": str(pending.deadline_ms),
                           "Lambda-Runtime-Invoked-Function-Arn": pending.arn,
                           "Lambda-Runtime-Trace-Id": pending.trace_id}
                self._answer(200, pending.event, headers)

            def do_POST(self):
                api.requests.append(("POST", self.path))
                body = self._body()
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
                if self.path == f"{PREFIX}/init/error":
                    api.init_errors.append(Outcome("init_error", _parse(body), "", error_type, dict(self.headers)))
                    api._init_error.set()
                    return self._answer(202, b'{"status":"OK"}')
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    pending = api._by_id.get(parts[1])
                    if pending is None:
                        return self._answer(400, b'{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}')
                    if pending.done.is_set():
                        return self._answer(400, b'{"errorMessage":"already answered","errorType":"InvalidStateTransition"}')
                    kind = "response" if parts[2] == "response" else "error"
                    pending.outcome = Outcome(kind, _parse(body), pending.request_id, error_type, dict(self.headers))
                    pending.done.set()
                    return self._answer(202, b'{"status":"OK"}')
                self._answer(404, b'{"errorMessage":"no such path"}')

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the function killed while `next` was open: nothing to report

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> "RuntimeAPI":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def enqueue(self, event: Any, timeout_ms: int = 3000) -> _Pending:
        """Queues one event (a dict or list is sent as JSON, bytes as they are)."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        request_id = str(uuid.uuid4())
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"
        trace_id = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"
        pending = _Pending(body, request_id, int(time.time() * 1000) + timeout_ms, arn, trace_id)
        self._by_id[request_id] = pending
        self._queue.put(pending)
        return pending

    def wait_init_error(self, seconds: float) -> Outcome | None:
        return self.init_errors[0] if self._init_error.wait(seconds) else None


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


def http_api_event(method: str, path: str, body: str | None = None, sub: str = "00000000-0000-0000-0000-000000000001",
                   headers: dict[str, str] | None = None, query: str = "", claims: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """An API Gateway HTTP API event (payload format 2.0) as the `video` function receives it,
    the caller's Cognito `sub` in the JWT authorizer's claims, plus `claims` (e.g. `exp`), each
    value a string as API Gateway passes them."""
    claims = {"sub": sub, "token_use": "access", **{name: str(value) for name, value in (claims or {}).items()}}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "api0000000",
            "authorizer": {"jwt": {"claims": claims, "scopes": None}},
            "domainName": "api0000000.execute-api.us-east-1.amazonaws.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                     "userAgent": "end-to-end"},
            "requestId": uuid.uuid4().hex,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "body": body,
        "isBase64Encoded": False,
    }


def lambda_environment(handler: str, runtime_api: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """What Lambda sets for a provided.al2023 function, with fake credentials, plus `extra`."""
    env = {
        "_HANDLER": handler,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "ASIAFAKEFORLAMBDA000",
        "AWS_SECRET_ACCESS_KEY": "fake-secret-for-the-end-to-end-tests",
        "AWS_SESSION_TOKEN": "fake-session-token",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "AWS_LAMBDA_FUNCTION_NAME": handler,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    }
    env.update(extra or {})
    return env


class LambdaHost:
    """The bootstrap, started in an empty root against a RuntimeAPI stand-in."""

    def __init__(self, binary: Path, handler: str, env: dict[str, str] | None = None):
        self.binary = Path(binary)
        self.handler = handler
        self.extra_env = env or {}
        self.api = RuntimeAPI(function_name=handler)
        self.root: Path | None = None
        self.process: subprocess.Popen | None = None
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers: list[threading.Thread] = []

    def __enter__(self) -> "LambdaHost":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "LambdaHost":
        self.api.start()
        self.root = Path(tempfile.mkdtemp(prefix="lambda-root-"))
        (self.root / "proc").mkdir()
        shutil.copyfile(self.binary, self.root / "bootstrap")
        os.chmod(self.root / "bootstrap", 0o755)
        unshare = ["unshare", "--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            # procfs may be mounted in a user namespace only with a pid namespace of its own; the
            # bootstrap is then a child of unshare, killed with it.
            unshare += ["--user", "--map-root-user", "--pid", "--fork", "--kill-child"]
        # The tools by absolute path: the function's PATH is Lambda's, which lacks /usr/sbin.
        tools = {name: shutil.which(name) for name in ("unshare", "sh", "mount", "chroot")}
        if missing := [name for name, path in tools.items() if path is None]:
            raise RuntimeError(f"{', '.join(missing)} not found: run scripts/install-deps test")
        command = [tools["unshare"], *unshare[1:], "--", tools["sh"], "-c", '"$2" -t proc proc "$1/proc" && exec "$3" "$1" /bootstrap',
                   "sh", str(self.root), tools["mount"], tools["chroot"]]
        self.process = subprocess.Popen(command, env=lambda_environment(self.handler, self.api.address, self.extra_env),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for stream, lines in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr)):
            reader = threading.Thread(target=_collect, args=(stream, lines), daemon=True)
            reader.start()
            self._readers.append(reader)
        return self

    def invoke(self, event: Any, timeout_ms: int = 3000, wait_seconds: float | None = None) -> Outcome:
        """Sends one event with a deadline `timeout_ms` from now; returns what the function posted.
        Raises TimeoutError (with the function's logs) if nothing comes back within `wait_seconds`
        (default: the timeout plus 10 s)."""
        pending = self.api.enqueue(event, timeout_ms)
        give_up = time.monotonic() + (wait_seconds if wait_seconds is not None else timeout_ms / 1000 + 10)
        while not pending.done.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > give_up:
                raise TimeoutError(f"no answer to {pending.request_id} (exit code {self.process.poll()})\n{self.logs()}")
        return pending.outcome

    def init_error(self, seconds: float = 10) -> Outcome | None:
        """The init error the function posted, waiting up to `seconds` for it (or for it to exit)."""
        give_up = time.monotonic() + seconds
        while (error := self.api.wait_init_error(0.1)) is None:
            if self.process.poll() is not None or time.monotonic() > give_up:
                return self.api.wait_init_error(0.5)
        return error

    def log_line(self, text: str, seconds: float = 5) -> str:
        """The first stdout line containing `text`, waiting up to `seconds` for it (the function logs
        an invocation just after reporting it). Raises AssertionError with the logs if none comes."""
        give_up = time.monotonic() + seconds
        while True:
            for line in list(self.stdout):
                if text in line:
                    return line
            if time.monotonic() > give_up:
                raise AssertionError(f"no log line with {text!r}\n{self.logs()}")
            time.sleep(0.05)

    def wait_exit(self, seconds: float = 10) -> int:
        return self.process.wait(timeout=seconds)

    def logs(self) -> str:
        time.sleep(0.05)  # let the readers catch the last lines
        return "stdout:\n" + "\n".join(self.stdout) + "\nstderr:\n" + "\n".join(self.stderr)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=5)
        self.api.stop()
        if self.root is not None:
            # The procfs was mounted in the function's own mount namespace, gone with it: from here
            # ROOT/proc is an empty folder.
            shutil.rmtree(self.root, ignore_errors=True)


def _collect(stream, lines: list[str]) -> None:
    for raw in iter(stream.readline, b""):
        lines.append(raw.decode(errors="replace").rstrip("\n"))
    stream.close()
