#!/usr/bin/env python3
"""Compare `site serve` with `hugo server` on the same generated site: live-reload latency, cold
start and static throughput, side by side in one run.

Usage: bench/serve.py [--pages 1000] [--edits 30] [--starts 5] [--duration 5] [--site-binary PATH]
                   [--work DIR]

It writes the seeded site of bench/build.py into <work>/serve (our layout in site-N, Hugo's in
hugo-N), plus a home page for each (`/` must answer 200) and the same 1 MiB of incompressible bytes
as a file each serves unmodified: ours as assets/media/blob.bin (fingerprinted; its URL is read from
dist/.site/manifest.json), Hugo's as static/media/blob.bin. The servers run as a developer runs
them: `site serve --port P --no-cloud` (inotify) in the project folder, and `hugo server --bind
127.0.0.1 --port P --baseURL http://127.0.0.1:P/` in Hugo's default mode (Fast Render, pages served
from memory).

  cold start  `starts` alternating launches of each: from spawning the process to the first 200 for
              `/` (a connection attempt every 5 ms), with no earlier output (our dist/ and its spare
              removed; Hugo's public/ and resources/ removed). Median and min, and the first
              build's time as each prints it. Ours writes dist/ to disk, Hugo renders to memory.
  edit        One server of each runs for the rest. Each gets one "browser": a GET of /posts/p1/
              (Hugo's Fast Render then re-renders the pages a browser has visited plus the changed
              ones) and a live-reload client that stays connected for the whole series: ours an SSE
              client of /_site/events (events `reload`, `styles`, `failure`), Hugo's a WebSocket
              client of /livereload speaking the livereload protocol (hello, then `reload`).
              `edits` times, alternately, a seeded random post gets one changed line (the same post
              in both sites), and separately the stylesheet assets/css/style.css gets one changed
              rule; timed from just before the write to the arrival of the first message on the
              client. After each message the client is drained until 300 ms pass without one, so
              edits never overlap, then a random 0-1 s pause puts the next edit at a random phase
              of any periodic timer (Hugo 0.111 batches file events on a 500 ms ticker, so a fixed
              rhythm would lock onto it); no message within 10 s counts as a missed notification.
              Median, p90 and min, and the servers' own rebuild times from their output (ours
              `rebuilt (…) in N ms`, Hugo's `Total in N ms`).
  throughput  `wrk -t2 -c2 -d<duration>s` (after a 1 s warm-up) on /posts/p1/ and on the 1 MiB
              file, alternately; requests/s and transfer/s. Both servers add their live-reload
              script to HTML; neither compresses (wrk sends no Accept-Encoding).

It prints a markdown table (measure | ours | hugo | ratio | target | met?) and a verdict, and keeps
the servers' output in <work>/serve/{site,hugo}-serve.log. It exits 1 only if a tool fails to run
(a server that does not start, answers wrongly, or a wrk error); missed targets and missed
notifications are reported, not fatal.
"""
import benchlib  # noqa: I001  (first: runs this benchmark on .venv/bin/python)
import argparse
import base64
import collections
import hashlib
import http.client
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import time

import build  # bench/build.py, for its generator of the benchmark site
from benchlib import REPO, Table, free_port, median, p90, verdict

EDIT_TIMEOUT = 10.0   # seconds for a server to notify after an edit before it counts as missed
SETTLE = 0.3          # seconds without a message after a notification before the next edit
PAUSE = 1.0           # at most this many seconds of random pause before each edit
START_TIMEOUT = 120.0
HTML_PAGE = "/posts/p1/"
BLOB_SIZE = 1 << 20
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TOOLS = ["site", "hugo"]


def write(path, data):
    """Writes text (UTF-8) or bytes to path, creating its folders."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# -- the servers ---------------------------------------------------------------------------------------
class Server(benchlib.Server):
    """A server on `port`, its output kept line by line."""

    def __init__(self, name, cmd, cwd, port):
        super().__init__(name, cmd, cwd)
        self.port = port

    def wait_ready(self, path="/"):
        """Polls path every 5 ms until it answers 200; returns the seconds since the spawn."""
        deadline = self.started + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                self.reader.join(timeout=2)
                self.fail(f"exited with {self.process.returncode} before serving {path}")
            if time.perf_counter() > deadline:
                self.fail(f"did not answer 200 for {path} within {START_TIMEOUT:.0f} s")
            try:
                status, _ = get(self.port, path)
            except OSError:
                time.sleep(0.005)
                continue
            if status == 200:
                return time.perf_counter() - self.started
            time.sleep(0.005)

    def peak_rss_mib(self):
        peak = self.status_kib("VmHWM")
        return float("nan") if peak is None else peak / 1024


def get(port, path, timeout=5):
    """One GET (no Accept-Encoding) on a fresh connection; (status, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Accept-Encoding": "identity"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def start(name, site_binary, root, port):
    if name == "site":
        cmd = [site_binary, "serve", "--port", str(port), "--no-cloud"]
    else:
        cmd = ["hugo", "server", "--bind", "127.0.0.1", "--port", str(port),
               "--baseURL", f"http://127.0.0.1:{port}/"]
    return Server(name, cmd, root, port)


# -- live-reload clients -------------------------------------------------------------------------------
class LiveClient:
    """A socket read on demand: next_message waits for one message and stamps it with its arrival."""

    def __init__(self, name, port):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.queue = collections.deque()  # (perf_counter, kind, payload)

    def read_head(self, request):
        """Sends request; returns (status, headers, bytes after the head)."""
        self.sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"{self.name}: closed before answering")
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        return status, headers, rest

    def next_message(self, deadline):
        """The next message, or None if none arrives before deadline (a perf_counter value)."""
        while not self.queue:
            remaining = max(0.0, deadline - time.perf_counter())  # a past deadline still reads what is there
            ready, _, _ = select.select([self.sock], [], [], remaining)
            if not ready:
                return None
            data = self.sock.recv(65536)
            arrived = time.perf_counter()
            if not data:
                raise ConnectionError(f"{self.name}: the live-reload connection closed")
            self.feed(data, arrived)
        return self.queue.popleft()

    def drain(self, quiet, limit=30.0):
        """Reads messages until none arrives for `quiet` seconds (at most `limit`); returns them."""
        extra, end = [], time.perf_counter() + limit
        while time.perf_counter() < end:
            message = self.next_message(min(end, time.perf_counter() + quiet))
            if message is None:
                break
            extra.append(message)
        return extra

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class EventSourceClient(LiveClient):
    """Server-sent events of our dev server, over HTTP/1.1 (chunked or not)."""

    def __init__(self, port, path="/_site/events"):
        super().__init__("site", port)
        status, headers, rest = self.read_head(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
            "Cache-Control: no-cache\r\n\r\n")
        if status != 200 or not headers.get("content-type", "").startswith("text/event-stream"):
            raise ConnectionError(f"site: {path} answered {status} {headers.get('content-type')}")
        self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self.raw, self.text = b"", ""
        if rest:
            self.feed(rest, time.perf_counter())

    def feed(self, data, arrived):
        self.raw += data
        if self.chunked:
            while True:
                line_end = self.raw.find(b"\r\n")
                if line_end < 0:
                    break
                size = int(self.raw[:line_end].split(b";")[0], 16)
                if size == 0:
                    raise ConnectionError("site: the event stream ended")
                if len(self.raw) < line_end + 2 + size + 2:
                    break
                self.text += self.raw[line_end + 2:line_end + 2 + size].decode()
                self.raw = self.raw[line_end + 2 + size + 2:]
        else:
            self.text += self.raw.decode()
            self.raw = b""
        self.text = self.text.replace("\r\n", "\n")
        while "\n\n" in self.text:
            block, self.text = self.text.split("\n\n", 1)
            event, data_lines = None, []
            for line in block.split("\n"):
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    event = value
                elif field == "data":
                    data_lines.append(value)
            if event is not None or data_lines:  # comments (": connected") and `retry:` are no message
                self.queue.append((arrived, event or "message", "\n".join(data_lines)))


class WebSocketClient(LiveClient):
    """Hugo's livereload: a WebSocket (RFC 6455) carrying the livereload protocol's JSON commands."""

    def __init__(self, port, path="/livereload"):
        super().__init__("hugo", port)
        key = base64.b64encode(os.urandom(16)).decode()
        status, headers, rest = self.read_head(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n\r\n")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        if status != 101 or headers.get("sec-websocket-accept") != accept:
            raise ConnectionError(f"hugo: {path} answered {status}, not a WebSocket upgrade")
        self.raw, self.fragments = b"", b""
        if rest:
            self.feed(rest, time.perf_counter())
        # Compact JSON: Hugo recognises the hello by the bytes `"command":"hello"`.
        self.send('{"command":"hello","protocols":["http://livereload.com/protocols/official-7"]}')
        hello = self.next_message(time.perf_counter() + 10)
        if hello is None or hello[1] != "hello":
            raise ConnectionError(f"hugo: no livereload hello (got {hello})")

    def send(self, text, opcode=0x1):
        payload = text.encode() if isinstance(text, str) else text
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def feed(self, data, arrived):
        self.raw += data
        while len(self.raw) >= 2:
            fin, opcode = self.raw[0] & 0x80, self.raw[0] & 0x0F
            masked, n, at = self.raw[1] & 0x80, self.raw[1] & 0x7F, 2
            if n == 126:
                if len(self.raw) < 4:
                    return
                n, at = int.from_bytes(self.raw[2:4], "big"), 4
            elif n == 127:
                if len(self.raw) < 10:
                    return
                n, at = int.from_bytes(self.raw[2:10], "big"), 10
            mask = b""
            if masked:
                mask, at = self.raw[at:at + 4], at + 4
            if len(self.raw) < at + n:
                return
            payload, self.raw = self.raw[at:at + n], self.raw[at + n:]
            if masked:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise ConnectionError("hugo: the livereload WebSocket was closed by the server")
            if opcode == 0x9:
                self.send(payload, opcode=0xA)
                continue
            if opcode not in (0x0, 0x1, 0x2):
                continue
            self.fragments += payload
            if fin:
                text, self.fragments = self.fragments.decode(), b""
                try:
                    message = json.loads(text)
                except ValueError:
                    message = {"command": text}
                self.queue.append((arrived, str(message.get("command")), text))

    def close(self):
        try:
            self.send(b"\x03\xe8", opcode=0x8)
        except OSError:
            pass
        super().close()


# -- the measures -------------------------------------------------------------------------------------
def prepare(work, pages):
    """Generates both sites with a home page and the 1 MiB file; returns (roots, blob bytes)."""
    ours, hugo = build.generate(work, pages)
    home = "The benchmark site's home page.\n"
    write(f"{ours}/site/pages/index.md", f"---\ntitle: Bench\n---\n{home}")
    write(f"{hugo}/content/_index.md", f'---\ntitle: "Bench"\n---\n{home}')
    blob = random.Random(20250).randbytes(BLOB_SIZE)
    write(f"{ours}/assets/media/blob.bin", blob)
    write(f"{hugo}/static/media/blob.bin", blob)
    return {"site": ours, "hugo": hugo}, blob


START_BUILD = {"site": r"^rebuilt \(start\) in (\d+) ms", "hugo": r"^Built in (\d+) ms"}


def cold_starts(site_binary, roots, starts):
    """`starts` alternating cold launches of each server; seconds to the first 200 for /, and the
    first build's time (ms) as the server printed it."""
    samples = {name: [] for name in TOOLS}
    builds = {name: [] for name in TOOLS}
    for r in range(starts):
        for name in (TOOLS if r % 2 == 0 else TOOLS[::-1]):
            benchlib.clean_outputs(name, roots[name])
            os.sync()
            server = start(name, site_binary, roots[name], free_port())
            try:
                samples[name].append(server.wait_ready("/"))
            finally:
                server.stop()
            builds[name] += [int(m.group(1)) for m in (re.match(START_BUILD[name], line.strip())
                                                       for _, line in server.lines) if m]
        print(f"   start {r + 1}/{starts}: " + ", ".join(f"{k} {v[-1] * 1000:.0f} ms" for k, v in samples.items()),
              file=sys.stderr)
    return samples, builds


def edit_series(kind, servers, clients, roots, edits, pages, rng):
    """`edits` alternating edits of a page or of the stylesheet; per server the latencies (s), the
    number of missed notifications, the kinds of first messages, extra messages, and the server's
    rebuild times (ms) printed meanwhile."""
    result = {name: {"latency": [], "missed": 0, "kinds": collections.Counter(), "extra": 0, "rebuilds": []}
              for name in TOOLS}
    first_line = {name: len(servers[name].lines) for name in TOOLS}
    originals = {}
    pauses = random.Random(rng.random())
    for k in range(edits):
        page = rng.randint(2, pages)
        for name in (TOOLS if k % 2 == 0 else TOOLS[::-1]):
            # A random pause, so that edits fall at random phases of any periodic timer (Hugo
            # batches file events on a 500 ms ticker); a fixed rhythm would lock onto it.
            time.sleep(pauses.uniform(0, PAUSE))
            if kind == "page":
                rel = f"site/pages/posts/p{page}.md" if name == "site" else f"content/posts/p{page}.md"
                line = f"\nEdited {k + 1} of {edits}: {rng.getrandbits(64):016x}.\n"
            else:
                rel = "assets/css/style.css"
                line = f"\n.bench-edit {{ margin: {k + 1}px {rng.randint(1, 99)}px; }}\n"
            path = os.path.join(roots[name], rel)
            if path not in originals:
                originals[path] = read(path)
            client = clients[name]
            client.drain(0)  # nothing stale counts for this edit
            started = time.perf_counter()
            with open(path, "w", encoding="utf-8") as f:
                f.write(originals[path] + line)
            message = client.next_message(started + EDIT_TIMEOUT)
            entry = result[name]
            if message is None:
                entry["missed"] += 1
            else:
                entry["latency"].append(message[0] - started)
                entry["kinds"][message[1]] += 1
            entry["extra"] += len(client.drain(SETTLE))
        print(f"   {kind} edit {k + 1}/{edits}: " + ", ".join(
            f"{name} {result[name]['latency'][-1] * 1000:.0f} ms" if result[name]["latency"] else f"{name} —"
            for name in TOOLS), file=sys.stderr)
    time.sleep(0.1)  # the last rebuild line follows its message
    for name in TOOLS:
        pattern = r"^rebuilt \(.*\) in (\d+) ms" if name == "site" else r"^Total in (\d+) ms"
        for _, line in servers[name].lines[first_line[name]:]:
            match = re.match(pattern, line.strip())
            if match:
                result[name]["rebuilds"].append(int(match.group(1)))
        failed = [line for _, line in servers[name].lines[first_line[name]:]
                  if line.startswith("build failed") or line.startswith("Error")]
        if failed:
            print(f"   warning: {name} reported failures during the {kind} edits: {failed[0]}", file=sys.stderr)
    return result


UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}


def wrk(url, duration):
    """Runs wrk; returns (requests/s, MiB/s). Exits on an error or a response other than 2xx/3xx."""
    cmd = ["wrk", "-t2", "-c2", f"-d{duration}s", url]
    result = subprocess.run(cmd, capture_output=True, text=True)
    out = result.stdout
    rps = re.search(r"^Requests/sec:\s*([\d.]+)", out, re.M)
    transfer = re.search(r"^Transfer/sec:\s*([\d.]+)([KMGT]?B)", out, re.M)
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if result.returncode != 0 or not rps or not transfer or bad or errors:
        sys.exit(f"error: `{' '.join(cmd)}` failed (exit {result.returncode}):\n{out}{result.stderr}")
    return float(rps.group(1)), float(transfer.group(1)) * UNITS[transfer.group(2)] / (1 << 20)


def throughput(servers, urls, duration):
    """wrk on each (target, server), alternately, after a 1 s warm-up of each."""
    results = {}
    for target in ("html", "blob"):
        for name in TOOLS:
            wrk(f"http://127.0.0.1:{servers[name].port}{urls[name][target]}", 1)
        for name in TOOLS:
            results[(target, name)] = wrk(f"http://127.0.0.1:{servers[name].port}{urls[name][target]}", duration)
            rps, mib = results[(target, name)]
            print(f"   {target} {name}: {rps:,.0f} req/s, {mib:,.1f} MiB/s", file=sys.stderr)
    return results


def blob_url(root):
    """Our URL of assets/media/blob.bin, from the manifest (site serve answers from memory before
    the first build is on disk, so wait for it)."""
    path = f"{root}/dist/.site/manifest.json"
    deadline = time.monotonic() + 60
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.exit(f"error: {path} did not appear within 60 s")
        time.sleep(0.02)
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    for entry in manifest["files"]:
        if entry.get("source") == "assets/media/blob.bin":
            return "/" + entry["path"]
    sys.exit("error: assets/media/blob.bin is not in dist/.site/manifest.json")


# -- the report ---------------------------------------------------------------------------------------
def report(args, cold, start_builds, edits, tput, sizes, rss):
    """The table of medians and ratios, and the verdict."""
    table = Table("measure", "ours (site serve)", "hugo server", "ratio", "target", "met?", align="lrrrll")
    row, verdicts = table.row, []

    def ms(values):
        return f"{median(values) * 1000:.0f} / {p90(values) * 1000:.0f} / {min(values) * 1000:.0f} ms" if values else "—"

    for kind, label in (("page", "page edit (a post's .md)"), ("css", "CSS edit (assets/css/style.css)")):
        ours, hugo = edits[kind]["site"], edits[kind]["hugo"]
        if ours["latency"] and hugo["latency"]:
            ratio = median(ours["latency"]) / median(hugo["latency"])
            met = ratio <= 1
            row(f"{label} → notified, median / p90 / min of {args.edits}", ms(ours["latency"]), ms(hugo["latency"]),
                f"{ratio:.2f}", "≤ 1 (≤ Hugo's)", met=met)
            verdicts.append((f"{kind} edit→notified {ratio:.2f} ≤ 1", met))
        else:
            row(f"{label} → notified, median / p90 / min of {args.edits}", ms(ours["latency"]), ms(hugo["latency"]),
                "—", "≤ 1 (≤ Hugo's)", met=False)
            verdicts.append((f"{kind} edit→notified (no samples)", False))
        verdicts.append((f"{kind} edits notified: ours {args.edits - ours['missed']}/{args.edits}, "
                         f"hugo {args.edits - hugo['missed']}/{args.edits}", ours["missed"] == 0))

        def notified(entry):
            kinds = ", ".join(f"{k} ×{v}" for k, v in sorted(entry["kinds"].items()))
            return f"{args.edits - entry['missed']}/{args.edits} ({kinds}; +{entry['extra']} extra)"
        row(f"{label}: notified within {EDIT_TIMEOUT:g} s (first messages; extra messages)", notified(ours),
            notified(hugo), "—", "all of ours", met=ours["missed"] == 0)

        def rebuilt(entry):
            r = entry["rebuilds"]
            return f"{median(r):.0f} ms (×{len(r)})" if r else "—"
        row(f"{label}: rebuild time the server prints, median (count)", rebuilt(ours), rebuilt(hugo),
            f"{median(ours['rebuilds']) / median(hugo['rebuilds']):.2f}"
            if ours["rebuilds"] and hugo["rebuilds"] and median(hugo["rebuilds"]) else "—")

    ours, hugo = cold["site"], cold["hugo"]
    ratio = median(ours) / median(hugo)
    row(f"cold start → first 200 for /, median / min of {args.starts}",
        f"{median(ours) * 1000:.0f} / {min(ours) * 1000:.0f} ms", f"{median(hugo) * 1000:.0f} / {min(hugo) * 1000:.0f} ms",
        f"{ratio:.2f}", "≤ 1 (≤ Hugo's)", met=ratio <= 1)
    verdicts.append((f"cold start {ratio:.2f} ≤ 1", ratio <= 1))
    ours, hugo = start_builds["site"], start_builds["hugo"]
    if ours and hugo:
        row("cold start: first build time the server prints (ours `rebuilt (start)`, Hugo's `Built in`), median",
            f"{median(ours):.0f} ms", f"{median(hugo):.0f} ms", f"{median(ours) / median(hugo):.2f}")

    for target, label in (("html", f"HTML page {HTML_PAGE}"), ("blob", "1 MiB file")):
        (our_rps, our_mib), (hugo_rps, hugo_mib) = tput[(target, "site")], tput[(target, "hugo")]
        ratio = our_rps / hugo_rps
        row(f"throughput, {label} ({sizes[(target, 'site')]:,} B / {sizes[(target, 'hugo')]:,} B), "
            f"wrk -t2 -c2 -d{args.duration:g}s", f"{our_rps:,.0f} req/s ({our_mib:,.1f} MiB/s)",
            f"{hugo_rps:,.0f} req/s ({hugo_mib:,.1f} MiB/s)", f"{ratio:.2f}", "≥ 1 (≥ Hugo's)", met=ratio >= 1)
        verdicts.append((f"{target} throughput {ratio:.2f} ≥ 1", ratio >= 1))

    row("server peak RSS (VmHWM) at the end of the run", f"{rss['site']:.0f} MiB", f"{rss['hugo']:.0f} MiB",
        f"{rss['site'] / rss['hugo']:.2f}")

    print()
    print(table)
    print()
    print(verdict(verdicts))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000, help="pages of the generated site (default 1000)")
    parser.add_argument("--edits", type=int, default=30, help="page edits and CSS edits per server (default 30)")
    parser.add_argument("--starts", type=int, default=5, help="cold starts per server (default 5)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run (default 5)")
    benchlib.add_site_binary_option(parser)
    parser.add_argument("--work", default=os.path.join(REPO, "bench", "out"),
                        help="work folder; the sites go in its serve/ (default bench/out)")
    args = parser.parse_args()
    if args.pages < 2 or args.edits < 1 or args.starts < 1 or args.duration < 1:
        parser.error("--pages must be at least 2, --edits and --starts at least 1, --duration at least 1")
    sys.stdout.reconfigure(line_buffering=True)  # keep the table in order with progress on stderr
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below on SIGTERM too

    benchlib.install_deps("bench")
    site_binary = benchlib.site_binary(args.site_binary)
    work = os.path.join(os.path.abspath(args.work), "serve")
    os.makedirs(work, exist_ok=True)

    print(f"== generating the {args.pages}-page site in {work}", file=sys.stderr)
    roots, blob = prepare(work, args.pages)

    servers, clients = {}, {}
    try:
        print(f"== cold starts ({args.starts} each, alternately)", file=sys.stderr)
        cold, start_builds = cold_starts(site_binary, roots, args.starts)

        print("== starting both servers for the edits and throughput", file=sys.stderr)
        for name in TOOLS:
            servers[name] = start(name, site_binary, roots[name], free_port())
            servers[name].wait_ready("/")
        urls = {"site": {"html": HTML_PAGE, "blob": blob_url(roots["site"])},
                "hugo": {"html": HTML_PAGE, "blob": "/media/blob.bin"}}
        sizes = {}
        for name in TOOLS:
            for target, url in urls[name].items():
                status, body = get(servers[name].port, url)
                if status != 200 or (target == "blob" and body != blob):
                    servers[name].fail(f"{url} answered {status} with {len(body)} bytes"
                                       + (" (not the file written)" if target == "blob" and status == 200 else ""))
                sizes[(target, name)] = len(body)
        clients["site"] = EventSourceClient(servers["site"].port)
        clients["hugo"] = WebSocketClient(servers["hugo"].port)
        for client in clients.values():
            client.drain(SETTLE)

        rng = random.Random(20251)
        edits = {}
        for kind in ("page", "css"):
            print(f"== {kind} edits ({args.edits} each, alternately)", file=sys.stderr)
            edits[kind] = edit_series(kind, servers, clients, roots, args.edits, args.pages, rng)

        print(f"== throughput (wrk -t2 -c2 -d{args.duration:g}s)", file=sys.stderr)
        tput = throughput(servers, urls, args.duration)
        rss = {name: servers[name].peak_rss_mib() for name in TOOLS}
        for name in TOOLS:
            if servers[name].process.poll() is not None:
                servers[name].fail(f"exited with {servers[name].process.returncode} during the run")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except ConnectionError as error:
        sys.exit(f"error: {error}")
    finally:
        for client in clients.values():
            client.close()
        for name, server in servers.items():
            server.stop()
            server.save_log(os.path.join(work, f"{name}-serve.log"))

    hugo_version = subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.strip()
    site_version = subprocess.run([site_binary, "--version"], capture_output=True, text=True).stdout.strip()
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    print(f"nproc: {len(os.sched_getaffinity(0))}")
    print(f"site: {site_binary} {site_version}: `site serve --port P --no-cloud` (inotify)")
    print(f"hugo: {hugo_version}: `hugo server --bind 127.0.0.1 --port P --baseURL http://127.0.0.1:P/` "
          "(default mode: Fast Render, served from memory)")
    print(f"wrk: {(wrk_version.stdout or wrk_version.stderr).strip().splitlines()[0]}")
    print(f"{args.pages} pages; edit → notified is write → first live-reload message on a connected client "
          "(ours SSE /_site/events, Hugo's livereload WebSocket)")
    report(args, cold, start_builds, edits, tput, sizes, rss)


if __name__ == "__main__":
    main()
