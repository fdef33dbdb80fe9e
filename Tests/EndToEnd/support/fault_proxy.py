"""An HTTP/1.1 reverse proxy that injects the faults a publisher must survive.

It sits between a client and the AWS peer and forwards each request with its
method, target and headers (Host included) unchanged, so SigV4 signatures made
for the proxy's address stay valid upstream. Every request is logged. Faults
are drawn from a seeded random.Random, so a run with the same seed and the same
request order injects the same faults. Assigning a new Faults to
`proxy.faults` changes them from the next request on.

Library use:

    with FaultProxy(peer.url, p500=0.2, methods={"PUT"}) as proxy:
        client = peer.client("s3", endpoint_url=proxy.url)

Script use:

    python3 Tests/EndToEnd/support/fault_proxy.py --upstream http://127.0.0.1:5000 --p503 0.1 \
        --log proxy-log.json
"""

from __future__ import annotations

import argparse
import calendar
import dataclasses
import email.utils
import http.client
import http.server
import json
import random
import signal
import socket
import struct
import threading
import time
import urllib.parse
from typing import NamedTuple

MAX_SKEW_SECONDS = 15 * 60

# Meaningful for one connection only; the proxy frames its own responses.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}
)


@dataclasses.dataclass(frozen=True)
class Faults:
    """What the proxy does to requests whose method is in `methods`.

    The p* values are probabilities, drawn once per request; their sum must
    not exceed 1. `pdrop` closes the connection before forwarding (nothing was
    written); `pdrop_after` forwards, lets the upstream act, then closes the
    connection without replying (the write happened, the client never learns
    it). `skew_seconds` offsets the proxy's clock and applies to every request,
    whatever its method, as a real server's clock would.
    """

    p500: float = 0.0
    p503: float = 0.0
    pdrop: float = 0.0
    pdrop_after: float = 0.0
    delay_seconds: float = 0.0
    skew_seconds: float = 0.0
    methods: frozenset[str] | None = None

    def __post_init__(self):
        chances = (self.p500, self.p503, self.pdrop, self.pdrop_after)
        if any(p < 0 for p in chances) or sum(chances) > 1:
            raise ValueError(f"fault probabilities must be >= 0 and sum to <= 1: {self}")
        if self.methods is not None:
            object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))

    def applies_to(self, method: str) -> bool:
        return self.methods is None or method in self.methods


class LogEntry(NamedTuple):
    seq: int
    start: float  # time.time() when the request line arrived
    end: float  # when the reply (or the drop) was about to go out
    method: str
    target: str  # path with query, as received
    # the status sent to the client, or one of: 'injected-500', 'injected-503',
    # 'skewed-403', 'dropped', 'dropped-after-forward', 'upstream-error'
    outcome: int | str
    upstream_status: int | None  # what the peer answered, if it was asked


class FaultProxy:
    def __init__(self, upstream_url: str, *, seed: int = 0, host: str = "127.0.0.1",
                 port: int = 0, upstream_timeout: float = 60.0, **faults):
        upstream = urllib.parse.urlsplit(upstream_url)
        if upstream.scheme != "http" or not upstream.port:
            raise ValueError(f"upstream must be http://HOST:PORT, got {upstream_url!r}")
        self.upstream = (upstream.hostname, upstream.port)
        self.upstream_timeout = upstream_timeout
        self.faults = Faults(**faults)
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._seq = 0
        self._log: list[LogEntry] = []
        self._server = http.server.ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.proxy = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
            name=f"fault-proxy {self.url}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def now(self) -> float:
        """The proxy's (possibly skewed) clock."""
        return time.time() + self.faults.skew_seconds

    @property
    def log(self) -> list[LogEntry]:
        with self._lock:
            return sorted(self._log)

    def outcomes(self) -> list[int | str]:
        return [entry.outcome for entry in self.log]

    def dump_log(self, path) -> None:
        with open(path, "w", encoding="utf-8") as out:
            json.dump([entry._asdict() for entry in self.log], out, indent=1)

    def _next_request(self, method: str) -> tuple[int, str | None]:
        """Numbers a request and draws its fault, under one lock so that the
        draws follow arrival order."""
        faults = self.faults
        with self._lock:
            self._seq += 1
            seq = self._seq
            if not faults.applies_to(method):
                return seq, None
            draw = self._random.random()
        for fault, chance in (("injected-500", faults.p500), ("injected-503", faults.p503),
                              ("dropped", faults.pdrop),
                              ("dropped-after-forward", faults.pdrop_after)):
            if draw < chance:
                return seq, fault
            draw -= chance
        return seq, None

    def _record(self, entry: LogEntry) -> None:
        with self._lock:
            self._log.append(entry)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is closed after this

    server: http.server.ThreadingHTTPServer

    def handle_expect_100(self) -> bool:
        # Deferred: a request that is dropped must get no byte at all, not
        # even "100 Continue"; _read_body sends it when the body is wanted.
        return True

    def log_message(self, format, *args) -> None:
        pass  # the request log says it all

    def do_request(self) -> None:
        proxy: FaultProxy = self.server.proxy
        start = time.time()
        seq, fault = proxy._next_request(self.command)
        outcome, upstream_status, reply = self._decide(proxy, seq, fault)
        # Logged before replying, so a client that has its answer finds the
        # request in the log.
        proxy._record(LogEntry(seq, start, time.time(), self.command, self.path, outcome,
                               upstream_status))
        try:
            reply()
        except (BrokenPipeError, ConnectionResetError):
            # The client went away (a test killed it); nothing to answer.
            self.close_connection = True

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_request

    def _decide(self, proxy: FaultProxy, seq: int, fault: str | None):
        """Returns (outcome, upstream status, a callable that sends the reply)."""
        if fault == "dropped":
            return fault, None, self._reset_connection
        body, trailers = self._read_body()
        faults = proxy.faults
        if faults.applies_to(self.command) and faults.delay_seconds:
            time.sleep(faults.delay_seconds)
        skew_error = self._skew_error(proxy)
        if skew_error is not None:
            return "skewed-403", None, lambda: self._send_error_xml(
                403, "Forbidden", skew_error, seq, proxy)
        if fault == "injected-500":
            return fault, None, lambda: self._send_error_xml(
                500, "Internal Server Error", _error_xml(
                    "InternalError", "We encountered an internal error. Please try again.", seq),
                seq, proxy)
        if fault == "injected-503":
            return fault, None, lambda: self._send_error_xml(
                503, "Slow Down", _error_xml("SlowDown", "Please reduce your request rate.", seq),
                seq, proxy)
        try:
            status, reason, headers, payload = self._forward(body, trailers, proxy)
        except (OSError, http.client.HTTPException, UnicodeError) as error:
            message = f"fault proxy: upstream failed: {error}"
            return "upstream-error", None, lambda: self._send_error_xml(
                502, "Bad Gateway", _error_xml("BadGateway", message, seq), seq, proxy)
        if fault == "dropped-after-forward":
            return fault, status, self._reset_connection
        return status, status, lambda: self._send(status, reason, headers, payload, proxy)

    def _read_body(self) -> tuple[bytes, bytes | None]:
        """Returns the request body and, for a chunked body, its raw trailer
        section (None otherwise)."""
        if self.headers.get("Expect", "").lower() == "100-continue":
            self.send_response_only(100)
            self.end_headers()
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length), None

    def _read_chunked(self) -> tuple[bytes, bytes]:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF after the chunk data
        trailers = b""
        while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
            trailers += line
        return b"".join(chunks), trailers

    def _forward(self, body: bytes, trailers: bytes | None, proxy: FaultProxy):
        connection = http.client.HTTPConnection(*proxy.upstream, timeout=proxy.upstream_timeout)
        try:
            connection.putrequest(self.command, self.path, skip_host=True,
                                  skip_accept_encoding=True)
            for name, value in self.headers.items():
                connection.putheader(name, value)
            connection.endheaders()
            if trailers is None:
                connection.send(body)
            else:
                # Re-framed as one chunk; SigV4 signs the payload, not the framing.
                if body:
                    connection.send(b"%x\r\n%s\r\n" % (len(body), body))
                connection.send(b"0\r\n" + trailers + b"\r\n")
            response = connection.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            connection.close()

    def _send(self, status: int, reason: str, headers: list[tuple[str, str]], payload: bytes,
              proxy: FaultProxy) -> None:
        self.send_response_only(status, reason)
        self.send_header("Date", _http_date(proxy.now()))
        has_length = False
        for name, value in headers:
            lower = name.lower()
            if lower in HOP_BY_HOP or lower == "date":
                continue
            has_length = has_length or lower == "content-length"
            self.send_header(name, value)
        if not has_length and status not in (204, 304):
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _send_error_xml(self, status: int, reason: str, xml: str, seq: int,
                        proxy: FaultProxy) -> None:
        payload = xml.encode()
        self._send(status, reason, [("Content-Type", "application/xml"),
                                    ("x-amz-request-id", _request_id(seq)),
                                    ("Content-Length", str(len(payload)))], payload, proxy)

    def _skew_error(self, proxy: FaultProxy) -> str | None:
        """The RequestTimeTooSkewed body if the request's X-Amz-Date is too far
        from the proxy's clock, else None."""
        stamp = self.headers.get("X-Amz-Date")
        if stamp is None:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            stamp = next(iter(query.get("X-Amz-Date", [])), None)
        if stamp is None:
            return None
        server_now = proxy.now()
        try:
            request_time = calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            request_time = None  # unreadable: refused like a skewed one
        if request_time is not None and abs(request_time - server_now) <= MAX_SKEW_SECONDS:
            return None
        server_time = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(server_now))
        return (
            "<Error><Code>RequestTimeTooSkewed</Code>"
            "<Message>The difference between the request time and the current time is too "
            f"large.</Message><RequestTime>{_xml_text(stamp)}</RequestTime>"
            f"<ServerTime>{server_time}</ServerTime>"
            f"<MaxAllowedSkewMilliseconds>{MAX_SKEW_SECONDS * 1000}"
            "</MaxAllowedSkewMilliseconds></Error>"
        )

    def _reset_connection(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client gets no response byte.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


def _error_xml(code: str, message: str, seq: int) -> str:
    return (f"<Error><Code>{code}</Code><Message>{_xml_text(message)}</Message>"
            f"<RequestId>{_request_id(seq)}</RequestId></Error>")


def _request_id(seq: int) -> str:
    return f"FAULTPROXY{seq:08d}"


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="http://HOST:PORT of the peer")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any)")
    parser.add_argument("--seed", type=int, default=0)
    for name in ("p500", "p503", "pdrop", "pdrop-after", "delay-seconds", "skew-seconds"):
        parser.add_argument(f"--{name}", type=float, default=0.0)
    parser.add_argument("--methods", help="comma-separated methods the faults apply to "
                                          "(default: all)")
    parser.add_argument("--log", help="write the request log here as JSON on exit")
    args = parser.parse_args()

    proxy = FaultProxy(
        args.upstream, seed=args.seed, port=args.port, p500=args.p500, p503=args.p503,
        pdrop=args.pdrop, pdrop_after=args.pdrop_after, delay_seconds=args.delay_seconds,
        skew_seconds=args.skew_seconds,
        methods=args.methods.split(",") if args.methods else None)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    with proxy:
        print(proxy.url, flush=True)
        stopped.wait()
    if args.log:
        proxy.dump_log(args.log)


if __name__ == "__main__":
    main()
