#!/usr/bin/env python3
"""Compare `site publish` with `hugo deploy` and `aws s3 sync` on the 1,000-page benchmark site.

Usage: bench/publish.py [--pages 1000] [--runs 3] [--site-binary PATH] [--work DIR]

It generates the seeded site of bench/build.py (our layout in <work>/site-N, Hugo's in
<work>/hugo-N), builds both, and starts moto_server on loopback wrapped in a request counter (its S3
API, the same server code as `moto_server`; signatures are not checked, as no tool's cost should
depend on that).
Each run makes fresh buckets, one per contender, and times, alternately:

  first       publish into the empty bucket
  no change   publish again
  rebuild     rebuild with no source change (untimed), publish
  one page    edit one page, rebuild (untimed), publish

`site publish` publishes our dist/; `hugo deploy` (--invalidateCDN=false) and `aws s3 sync` publish
Hugo's public/. The floor is a bare concurrent PUT loop (16 keep-alive connections, bodies in memory,
no signing, no checks) of our objects into its own fresh bucket: for the first publish it PUTs every
object; with no change it lists the bucket (any safe sync must learn what is there); for one page it
lists the bucket and PUTs that page. PUT counts come from the peer's counter.
It prints medians, the ratios the targets speak of and a verdict; it exits 1 only if a tool fails.
"""
import benchlib  # noqa: I001  (first: runs this benchmark on .venv/bin/python)
import argparse
import http.client
import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid

import build  # bench/build.py, for its generator of the benchmark site
from benchlib import REPO, at_most, free_port, median, timed, verdict

REGION = "us-east-1"
FLOOR_CONNECTIONS = 16
# The peer does not check signatures but treats a request without Authorization as anonymous,
# and anonymous writes over an existing object are refused: the floor sends this unsigned one.
FLOOR_AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/s3/aws4_request, "
                       "SignedHeaders=host, Signature=" + "0" * 64)
SCENARIOS = ["first", "no change", "rebuild", "one page"]
TOOLS = ["site", "hugo", "aws", "floor"]

# The peer: moto's WSGI application behind a counter of requests per bucket and method. Run as
# `python3 -c PEER PORT`; GET /_bench/counts/BUCKET answers {"PUT": n, ...} for that bucket, with
# requests for keys under .site/ (our deploy records) counted apart as "PUT .site/" and so on.
PEER = r"""
import collections, json, sys, threading
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

counts = collections.defaultdict(collections.Counter)
lock = threading.Lock()
moto = DomainDispatcherApplication(create_backend_app)

def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith("/_bench/counts/"):
        with lock:
            body = json.dumps(counts[path.rsplit("/", 1)[1]]).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    bucket, _, key = path.lstrip("/").partition("/")
    method = environ["REQUEST_METHOD"]
    with lock:
        counts[bucket][method + " .site/" if key.startswith(".site/") else method] += 1
    return moto(environ, start_response)

run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True)
"""


class Peer:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.devnull, "w")
        self.process = subprocess.Popen([sys.executable, "-c", PEER, str(self.port)],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.counts("probe")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    sys.exit("error: the moto peer did not start (is moto[server] installed?)")
                time.sleep(0.1)

    def counts(self, bucket):
        with urllib.request.urlopen(f"{self.url}/_bench/counts/{bucket}", timeout=10) as response:
            return json.load(response)

    def create_bucket(self, name):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("PUT", f"/{name}", body=b"")
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != 200:
            sys.exit(f"error: creating bucket {name} answered HTTP {response.status}")

    def stop(self):
        self.process.terminate()
        self.process.wait()


def environment(peer):
    """What every contender runs with: test keys for the peer, and no AWS settings of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret",
                "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": peer.url,
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true", "NO_COLOR": "1"})
    return env


def our_objects(dist, keys=None):
    """(key, body, content type, content encoding) of every object `site publish` would upload,
    or of those in `keys`."""
    with open(os.path.join(dist, ".site", "manifest.json"), encoding="utf-8") as f:
        files = json.load(f)["files"]
    objects = []
    for entry in files:
        if keys is not None and entry["path"] not in keys:
            continue
        source = (entry.get("gzip") or entry)["path"]
        with open(os.path.join(dist, source), "rb") as f:
            objects.append((entry["path"], f.read(), entry["contentType"], "gzip" if entry.get("gzip") else None))
    return objects


def put_loop(peer, bucket, objects):
    """The floor: PUTs `objects` over FLOOR_CONNECTIONS keep-alive connections; returns wall time."""
    work = queue.Queue()
    for item in objects:
        work.put(item)
    failures = []

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", peer.port, timeout=60)
        while True:
            try:
                key, body, content_type, encoding = work.get_nowait()
            except queue.Empty:
                break
            headers = {"Content-Type": content_type, "Content-Length": str(len(body)),
                       "Authorization": FLOOR_AUTHORIZATION}
            if encoding:
                headers["Content-Encoding"] = encoding
            connection.request("PUT", f"/{bucket}/{urllib.parse.quote(key)}", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(f"{key}: HTTP {response.status}")
        connection.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(FLOOR_CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    if failures:
        sys.exit("error: the floor's PUT loop failed: " + "; ".join(failures[:5]))
    return wall


def list_then_put(peer, bucket, objects):
    """The floor of a publish after the first: list the whole bucket, then PUT what changed."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", peer.port, timeout=60)
    token = None
    while True:
        query = "list-type=2" + (f"&continuation-token={urllib.parse.quote(token, safe='')}" if token else "")
        connection.request("GET", f"/{bucket}?{query}", headers={"Authorization": FLOOR_AUTHORIZATION})
        response = connection.getresponse()
        body = response.read().decode()
        if response.status != 200:
            sys.exit(f"error: listing {bucket} answered HTTP {response.status}")
        if "<IsTruncated>true</IsTruncated>" not in body:
            break
        token = body.split("<NextContinuationToken>", 1)[1].split("<", 1)[0]
    connection.close()
    listed = time.perf_counter() - start
    return listed + put_loop(peer, bucket, objects)


def hugo_config(base, peer, buckets):
    """Hugo's config with one deployment target per run's bucket."""
    targets = "".join(
        f'\n[[deployment.targets]]\nname = "{name}"\n'
        f'URL = "s3://{bucket}?region={REGION}&endpoint={peer.url}&disableSSL=true&s3ForcePathStyle=true"\n'
        for name, bucket in buckets)
    return base + "\n[deployment]\n" + targets


def edit_page(ours, hugo, run_number):
    """Appends one paragraph to post 17 in both sites."""
    line = f"\nEdited for run {run_number} of the publish benchmark.\n"
    for path in (f"{ours}/site/pages/posts/p17.md", f"{hugo}/content/posts/p17.md"):
        with open(path, "a", encoding="utf-8") as f:
            f.write(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000, help="pages of the generated site (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of the four scenarios (default 3)")
    benchlib.add_site_binary_option(parser)
    parser.add_argument("--work", default=os.path.join(REPO, "bench", "out", "publish"),
                        help="work folder (default bench/out/publish)")
    args = parser.parse_args()
    if args.runs < 1 or args.pages < 20:
        parser.error("--runs must be at least 1 and --pages at least 20")
    sys.stdout.reconfigure(line_buffering=True)

    benchlib.install_deps("bench")
    site_binary = benchlib.site_binary(args.site_binary)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)

    print(f"== generating the {args.pages}-page site in {work}", file=sys.stderr)
    ours, hugo = build.generate(work, args.pages)
    with open(f"{ours}/site/site.yml", "a", encoding="utf-8") as f:
        f.write(f"environments:\n  bench:\n    publish:\n      bucket: placeholder-bucket\n      region: {REGION}\n")
    with open(f"{hugo}/config.toml", encoding="utf-8") as f:
        hugo_base = f.read()

    peer = Peer()
    try:
        env = environment(peer)
        tag = uuid.uuid4().hex[:6]
        buckets = [{tool: f"bench-{tool}-{tag}-{r}" for tool in TOOLS} for r in range(args.runs)]
        with open(f"{hugo}/config.toml", "w", encoding="utf-8") as f:
            f.write(hugo_config(hugo_base, peer, [(f"run{r}", b["hugo"]) for r, b in enumerate(buckets)]))

        def build_both():
            timed([site_binary, "build", "--quiet", "--env", "bench", "--site", ours], env)
            timed(["hugo", "--quiet", "-s", hugo, "-d", f"{hugo}/public"], env)

        def publish(tool, r):
            bucket = buckets[r][tool]
            if tool == "site":
                return timed([site_binary, "publish", "--env", "bench", "--site", ours],
                           {**env, "SITE_PUBLISH_BUCKET": bucket})
            if tool == "hugo":
                return timed(["hugo", "deploy", "-s", hugo, "--target", f"run{r}", "--invalidateCDN=false"], env)
            return timed(["aws", "s3", "sync", f"{hugo}/public", f"s3://{bucket}", "--endpoint-url", peer.url,
                        "--only-show-errors"], env)

        build_both()
        samples = {s: {t: [] for t in TOOLS} for s in SCENARIOS}
        for r in range(args.runs):
            for bucket in buckets[r].values():
                peer.create_bucket(bucket)
            for scenario in SCENARIOS:
                if scenario == "rebuild":
                    build_both()
                elif scenario == "one page":
                    edit_page(ours, hugo, r)
                    build_both()
                for tool in TOOLS:
                    bucket = buckets[r][tool]
                    before = peer.counts(bucket)
                    if tool != "floor":
                        wall = publish(tool, r)
                    elif scenario == "first":
                        wall = put_loop(peer, bucket, our_objects(f"{ours}/dist"))
                    elif scenario == "one page":
                        wall = list_then_put(peer, bucket, our_objects(f"{ours}/dist", {"posts/p17/index.html"}))
                    else:
                        wall = list_then_put(peer, bucket, [])
                    after = peer.counts(bucket)
                    samples[scenario][tool].append(
                        (wall, after.get("PUT", 0) - before.get("PUT", 0),
                         after.get("PUT .site/", 0) - before.get("PUT .site/", 0)))
                print(f"   run {r + 1}/{args.runs} {scenario}: " + ", ".join(
                    f"{t} {v[-1][0]:.2f}s/{v[-1][1]} PUT" for t, v in samples[scenario].items() if v), file=sys.stderr)
    finally:
        peer.stop()
    report(args, site_binary, ours, samples)


def report(args, site_binary, ours, samples):
    """The table of medians, the ratios and the verdict."""
    hugo_version = subprocess.run(["hugo", "version"], capture_output=True, text=True).stdout.strip()
    aws_version = subprocess.run(["aws", "--version"], capture_output=True, text=True)
    with open(f"{ours}/dist/.site/manifest.json", encoding="utf-8") as f:
        objects = len(json.load(f)["files"])
    print(f"nproc: {len(os.sched_getaffinity(0))}")
    print(f"site: {site_binary}; hugo: {hugo_version}; aws: {(aws_version.stdout or aws_version.stderr).strip()}")
    print(f"{args.pages} pages ({objects} objects of ours), {args.runs} runs: median wall s, PUT requests "
          f"(+ PUTs of our deploy record under .site/)")
    print(f"{'':<11}" + "".join(f"{t:>18}" for t in TOOLS))
    medians = {}
    for scenario in SCENARIOS:
        cells = ""
        for tool in TOOLS:
            runs = samples[scenario][tool]
            if runs:
                wall = median(w for w, _, _ in runs)
                puts = median(p for _, p, _ in runs)
                records = median(p for _, _, p in runs)
                medians[(scenario, tool)] = (wall, puts)
                cells += f"{wall:>9.3f}s {puts:>5g}" + (f"+{records:g}" if records else "  ")
            else:
                cells += f"{'-':>18}"
        print(f"{scenario:<11}{cells}")

    checks = []
    for scenario in ("no change", "rebuild"):
        ours_wall = medians[(scenario, "site")][0]
        faster = min(medians[(scenario, "hugo")][0], medians[(scenario, "aws")][0])
        checks.append(at_most(f"{scenario} site/faster peer", ours_wall / faster, 0.5, ".3g"))
        checks.append(at_most(f"{scenario} site/floor", ours_wall / medians[(scenario, "floor")][0], 1.2, ".3g"))
        checks.append(at_most(f"{scenario} PUTs", medians[(scenario, "site")][1], 0, ".3g"))
    for scenario in ("first", "one page"):
        ours_wall = medians[(scenario, "site")][0]
        checks.append(at_most(f"{scenario} site/floor", ours_wall / medians[(scenario, "floor")][0], 1.2, ".3g"))
        faster = min(medians[(scenario, "hugo")][0], medians[(scenario, "aws")][0])
        checks.append(at_most(f"{scenario} site/faster peer", ours_wall / faster, 1.0, ".3g"))
    checks.append(at_most("one page PUTs", medians[("one page", "site")][1], 1, ".3g"))
    print(verdict(checks))

if __name__ == "__main__":
    main()
