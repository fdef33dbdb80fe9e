#!/usr/bin/env python3
"""Measure what `site serve`'s forwarding of /api and /media/ to the local cloud costs: an API
call's latency and a 1 GiB media read, through the dev server and directly on the cloud, side by
side in one run. (`site serve` runs its cloud in its own process and hands it forwarded requests
directly; the HTTP proxy, used with `--cloud-url` for a cloud run on its own, is the relay's kind.)

Usage: bench/proxy.py [--calls 500] [--rounds 3] [--media-gib 1] [--site-binary PATH] [--work DIR]

It copies the starter app (site/, assets/) into <work>/proxy/project (default bench/out) and starts
`site serve --port P --cloud-port C --cloud-data <work>/proxy/cloud` there (a fresh data folder),
as a developer runs it, then registers a user through the cloud's Cognito
(Tests/EndToEnd/support/local_cloud.py's register_user: sign-up, the mailbox's code, TOTP set-up),
untimed.

  api    `calls` calls of each of two requests, on one keep-alive connection to each server
         (http.client), alternately (A B, then B A, …) after 50 untimed of each:
         `GET /api/openapi.yaml` (the contract, no authentication) and an authenticated
         `GET /api/videos` (Authorization: Bearer <the user's access token>). Timed from just before
         the request to the last byte of the answer. Median and p90 of each side, and the proxy's
         cost: the difference of the medians.
  media  A --media-gib GiB object (incompressible bytes, made untimed) is put into the cloud's main
         bucket `video-main` at `videos/<sub>/<26-char id>/video.mp4` with boto3's upload_file (the
         cloud's S3 and the credentials file it prints, profile localcloud; SHA-256 checksums). The signed cookies come from
         `POST /api/session` with the user's access token: once through the dev server (cookies for
         its origin) and once on the cloud's own origin (cookies for that one; the policy names the
         origin the browser called). Then `rounds` times, in turn (the order rotating each round),
         `curl -s -o /dev/null -w '%{speed_download}' -H 'Cookie: …'` reads the whole object through
         the dev server, directly, and through a bare TCP relay in front of the cloud (the
         reference: a thread per direction doing recv_into/sendall with 1 MiB buffers, the least
         any proxy in between does); the medians' ratios. Also site serve's CPU time per GiB read
         (/proc/PID/stat; the cloud runs in the same process) through the dev server and directly,
         and its VmRSS growth while it forwards, sampled every 50 ms (a proxy that buffered would
         grow by the object's size).

It prints a markdown table (measure | forwarded | direct on the cloud | cost | target | met?)
and a verdict. Targets: the proxy adds at most 1 ms to an API call's median, and media read
through it at 0.9× the direct throughput or better. If bench/results/ exists, the table is saved
there too as proxy-<date>.md. It exits 1 only if a tool or a server fails; missed targets are
reported, not fatal.
"""
import benchlib  # noqa: I001  (first: runs this benchmark on .venv/bin/python)
import argparse
import base64
import datetime
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchlib import MIB, REPO, RssSampler, Table, free_port, median, p90, verdict

benchlib.use_test_support()
from support.local_cloud import LocalCloud, register_user  # noqa: E402
from support.site import starter_copy  # noqa: E402

WARMUP = 50
TARGET_MS = 1.0
TARGET_RATIO = 0.9
START_TIMEOUT = 120.0


# -- site serve with its cloud -----------------------------------------------------------------------------
class Serve(benchlib.Server):
    """`site serve` with the local cloud on free ports, once it answers, its cloud too, and its first
    build has ended."""

    def __init__(self, binary, project, data):
        self.port, self.cloud_port = free_port(), free_port()
        super().__init__("site serve", [binary, "serve", "--port", self.port, "--cloud-port", self.cloud_port,
                                        "--cloud-data", data], project)
        self.wait_for(lambda lines: any(line.startswith("site: ") for line in lines)
                      and any(line.startswith("mailbox: ") for line in lines)
                      and any(line.startswith(("rebuilt (start)", "build failed (start)")) for line in lines),
                      "it started", START_TIMEOUT)
        self.site = f"http://127.0.0.1:{self.port}"
        self.cloud = f"http://127.0.0.1:{self.cloud_port}"

    def client(self, data):
        """A LocalCloud client (mailbox, Cognito, boto3) of the cloud site serve started."""
        return LocalCloud.attached(data, self.texts())

    def stop(self, timeout=20):
        super().stop(timeout)


# -- api latency ---------------------------------------------------------------------------------------------
class KeepAlive:
    """One keep-alive connection; `call` times a request to the last byte of its answer (ms)."""

    def __init__(self, origin):
        port = int(origin.rsplit(":", 1)[1])
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, target, headers, expect):
        start = time.perf_counter_ns()
        self.connection.request("GET", target, headers=headers)
        response = self.connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter_ns() - start) / 1e6
        if response.status != expect:
            raise SystemExit(f"error: GET {target} answered {response.status} (expected {expect}): {body[:300]!r}")
        return elapsed, body

    def close(self):
        self.connection.close()


def api_latency(serve, calls, token):
    requests = {
        "GET /api/openapi.yaml": ("/api/openapi.yaml", {}),
        "GET /api/videos (authenticated)": ("/api/videos", {"Authorization": f"Bearer {token}"}),
    }
    results = {}
    for name, (target, headers) in requests.items():
        sides = {"proxy": KeepAlive(serve.site), "direct": KeepAlive(serve.cloud)}
        times = {"proxy": [], "direct": []}
        bodies = {}
        try:
            for index in range(WARMUP + calls):
                order = ("proxy", "direct") if index % 2 == 0 else ("direct", "proxy")
                for side in order:
                    elapsed, body = sides[side].call(target, headers, 200)
                    bodies.setdefault(side, body)
                    if index >= WARMUP:
                        times[side].append(elapsed)
        finally:
            for connection in sides.values():
                connection.close()
        if name.startswith("GET /api/openapi") and bodies["proxy"] != bodies["direct"]:
            serve.fail(f"{name}: the dev server's answer differs from the cloud's")
        results[name] = times
        print(f"   {name}: proxy median {median(times['proxy']):.3f} ms, direct {median(times['direct']):.3f} ms", file=sys.stderr)
    return results


# -- media throughput ----------------------------------------------------------------------------------------
def session_cookies(origin, token):
    """The Cookie header that POST /api/session on `origin` sets, for that origin."""
    port = int(origin.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/api/session", body=b"", headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        body = response.read()
        cookies = response.headers.get_all("Set-Cookie") or []
    finally:
        connection.close()
    if response.status != 200 or len(cookies) != 3:
        raise SystemExit(f"error: POST {origin}/api/session answered {response.status} with {len(cookies)} cookies: {body[:300]!r}")
    return "; ".join(cookie.split(";", 1)[0] for cookie in cookies)


def curl_read(url, cookie, size, host=None):
    """curl's bytes per second reading `url` whole (sending `host` as Host when given)."""
    extra = ["-H", f"Host: {host}"] if host else []
    result = subprocess.run(["curl", "-s", "-o", os.devnull, "-H", f"Cookie: {cookie}", *extra,
                             "-w", "%{speed_download} %{http_code} %{size_download}", url],
                            capture_output=True, text=True, timeout=600)
    fields = result.stdout.split()
    if result.returncode != 0 or len(fields) != 3 or fields[1] != "200" or int(fields[2]) != size:
        raise SystemExit(f"error: curl {url} failed (exit {result.returncode}): {result.stdout} {result.stderr}")
    return float(fields[0])


class Relay:
    """The reference: a bare TCP relay in front of the cloud (a thread per direction, recv_into and
    sendall with a 1 MiB buffer), the least any proxy in between does. It passes bytes unread, so
    the client names the cloud in Host."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        buffer = bytearray(MIB)
        view = memoryview(buffer)
        try:
            while count := source.recv_into(buffer):
                target.sendall(view[:count])
        except OSError:
            pass
        finally:
            for sock, how in ((target, socket.SHUT_WR), (source, socket.SHUT_RD)):
                try:
                    sock.shutdown(how)
                except OSError:
                    pass

    def close(self):
        self.server.close()


def cpu_seconds(pid):
    """User and system CPU time of process `pid` so far."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def media_throughput(serve, cloud, user, size, rounds, work):
    path = os.path.join(work, "video.mp4")
    print(f"   making {size / MIB:.0f} MiB of incompressible bytes", file=sys.stderr)
    benchlib.incompressible_file(path, size)
    video_id = base64.b32encode(os.urandom(16)).decode().rstrip("=").lower()
    key = f"videos/{user['sub']}/{video_id}/video.mp4"
    print(f"   putting it at video-main/{key}", file=sys.stderr)
    try:
        cloud.s3().upload_file(path, cloud.main_bucket, key, ExtraArgs={"ContentType": "video/mp4", "ChecksumAlgorithm": "SHA256"})
    finally:
        os.remove(path)
    token = user["tokens"]["AccessToken"]
    # The policy names the origin the browser called: the dev server's cookies open it there only.
    own = session_cookies(serve.cloud, token)
    relay = Relay(serve.cloud_port)
    reads = {
        "proxy": (f"{serve.site}/media/{key}", session_cookies(serve.site, token), None),
        "direct": (f"{serve.cloud}/media/{key}", own, None),
        "relay": (f"http://127.0.0.1:{relay.port}/media/{key}", own, f"127.0.0.1:{serve.cloud_port}"),
    }
    speeds = {side: [] for side in reads}
    cpu = {"proxy": [], "direct": []}
    growth = 0
    try:
        for round in range(rounds):
            order = list(reads)[round % 3:] + list(reads)[:round % 3]
            for side in order:
                url, cookie, host = reads[side]
                sampler = RssSampler(serve.process.pid)
                before = sampler.peak
                sampler.start()
                started = cpu_seconds(serve.process.pid)
                speeds[side].append(curl_read(url, cookie, size, host))
                used = cpu_seconds(serve.process.pid) - started
                peak = sampler.finish()
                if side in cpu:
                    cpu[side].append(used / (size / (1 << 30)))
                if side == "proxy":
                    growth = max(growth, peak - before)
                print(f"   round {round + 1} {side}: {speeds[side][-1] / MIB:.0f} MiB/s", file=sys.stderr)
    finally:
        relay.close()
    return speeds, cpu, growth / 1024


# -- report --------------------------------------------------------------------------------------------------
def report(api, speeds, cpu, growth, size):
    table = Table("measure", "forwarded", "direct on the cloud", "cost", "target", "met?")
    verdicts = []
    for name, times in api.items():
        added = median(times["proxy"]) - median(times["direct"])
        met = added <= TARGET_MS
        verdicts.append((f"{name} +{added:.3f} ms", met))
        table.row(f"{name} through site serve: median", f"{median(times['proxy']):.3f} ms",
                  f"{median(times['direct']):.3f} ms", f"{added:+.3f} ms", f"≤ +{TARGET_MS:g} ms", met=met)
        table.row(f"{name} through site serve: p90", f"{p90(times['proxy']):.3f} ms", f"{p90(times['direct']):.3f} ms",
                  f"{p90(times['proxy']) - p90(times['direct']):+.3f} ms")
    proxy, direct, relay = (median(speeds[side]) for side in ("proxy", "direct", "relay"))
    ratio = proxy / direct
    met = ratio >= TARGET_RATIO
    verdicts.append((f"media {ratio:.2f}×", met))
    gib = f"{size / (1 << 30):g} GiB"
    table.row(f"{gib} media read through site serve (curl, median of {len(speeds['proxy'])})", f"{proxy / MIB:.0f} MiB/s",
              f"{direct / MIB:.0f} MiB/s", f"{ratio:.2f}×", f"≥ {TARGET_RATIO:g}×", met=met)
    table.row("the same through a bare TCP relay instead (reference: the least any proxy does)", f"{relay / MIB:.0f} MiB/s",
              f"{direct / MIB:.0f} MiB/s", f"{relay / direct:.2f}×")
    table.row("site serve's CPU time per GiB read (median; the cloud runs in it too)", f"{median(cpu['proxy']):.2f} s",
              f"{median(cpu['direct']):.2f} s", f"{median(cpu['proxy']) - median(cpu['direct']):+.2f} s")
    table.row(f"site serve's RSS growth while forwarding {gib}", f"{growth:.1f} MiB")
    return f"{table}\n\n{verdict(verdicts)}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=500, help="timed calls of each API request on each side (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="media reads on each side (default 3)")
    parser.add_argument("--media-gib", type=float, default=1.0, help="the media object's size in GiB (default 1)")
    benchlib.add_site_binary_option(parser)
    parser.add_argument("--work", default=os.path.join(REPO, "bench", "out"),
                        help="work folder; the project and the cloud's data go in its proxy/ (default bench/out)")
    args = parser.parse_args()
    if args.calls < 2 or args.rounds < 1 or args.media_gib <= 0:
        parser.error("--calls must be at least 2, --rounds at least 1, --media-gib above 0")
    sys.stdout.reconfigure(line_buffering=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below on SIGTERM too

    benchlib.install_deps("bench")
    binary = benchlib.site_binary(args.site_binary)
    work = os.path.join(os.path.abspath(args.work), "proxy")
    project, data = os.path.join(work, "project"), os.path.join(work, "cloud")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    starter_copy(Path(project))
    size = int(args.media_gib * (1 << 30))

    serve = None
    try:
        print("== starting site serve with its cloud", file=sys.stderr)
        serve = Serve(binary, project, data)
        cloud = serve.client(data)
        user = register_user(cloud, "bench-proxy@example.com")
        print(f"== API latency ({args.calls} calls of each request on each side, alternately)", file=sys.stderr)
        api = api_latency(serve, args.calls, user["tokens"]["AccessToken"])
        print(f"== media read ({args.rounds} rounds, alternately)", file=sys.stderr)
        speeds, cpu, growth = media_throughput(serve, cloud, user, size, args.rounds, work)
        if serve.process.poll() is not None:
            serve.fail(f"exited with {serve.process.returncode} during the run")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    finally:
        if serve is not None:
            serve.stop()
        shutil.rmtree(data, ignore_errors=True)

    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    curl = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    header = [
        f"date: {datetime.date.today().isoformat()}",
        f"nproc: {len(os.sched_getaffinity(0))}",
        f"site: {binary} {version}: `site serve --port P --cloud-port C --cloud-data DIR` (the dev server forwards /api and /media/ to the cloud)",
        f"curl: {curl}",
        f"api: {args.calls} timed calls per request and side on keep-alive connections (http.client), alternating, after {WARMUP} untimed",
        "",
    ]
    table = report(api, speeds, cpu, growth, size)
    print("\n".join(header) + table)
    results = os.path.join(REPO, "bench", "results")
    if os.path.isdir(results):
        path = os.path.join(results, f"proxy-{datetime.date.today().isoformat()}.md")
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(header) + table + "\n")
        print(f"saved: {os.path.relpath(path, REPO)}")


if __name__ == "__main__":
    main()
