#!/usr/bin/env python3
"""Streaming, measured: the HLS ladder against the progressive MP4 of the same upload, in headless
Chromium with emulated bandwidth, side by side in one run; and what the ladder costs to make.

Usage: bench/stream.py [--seconds 60] [--runs 2] [--site-binary PATH]
(without --site-binary it builds .build/release/site first)

One clip of --seconds at 1080p30 with audio (ffmpeg's testsrc2 with grain, so it compresses like a
camera's footage rather than a cartoon) is uploaded to `site serve`'s local cloud and converted
there (MP4 + ladder). The real player page then opens it signed in, once per way of playing
(`&playback=native|mse|mp4`: Chromium's own HLS, the app's MSE player, the MP4), at 4 Mbit/s and at
1.5 Mbit/s (DevTools' Network.emulateNetworkConditions, 40 ms latency, the browser cache off), the
cases of a run alternating. Autoplay starts each as soon as the page gives the <video> its source.

  first frame   from the first request for the stream (the master playlist, or the MP4) to the
                first frame presented (requestVideoFrameCallback), in DevTools' network clock
  bytes before  body bytes of the video's media requests received before that frame
  stalls        `waiting` events after the first `playing`, and the seconds until playing again,
                over the whole clip (1.5 Mbit/s only; the run waits for `ended`, at most three times
                the clip's length: a play still stalling then is stopped and says where it stood)

Then the conversion's cost: bench/convert.py's comparison (the whole conversion against the old
single-MP4 ffmpeg run on the same clip).

Targets (issue: adaptive streaming): HLS first frame ≤ 1.0 s at 4 Mbit/s; no stall after the start
at 1.5 Mbit/s; at least 3× fewer bytes before the first frame than the MP4.
Prints markdown tables.
"""

from __future__ import annotations

import benchlib  # noqa: I001  (first: runs this benchmark on .venv/bin/python)
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import Table, median

benchlib.use_test_support()

# Installed before the page's own scripts: autoplay (muted) once the player gives the <video> a
# source, and the media events the measures need, on the page's clock.
PROBE = """
window.__stream = { firstFrame: null, playing: [], waiting: [], ended: null, errors: [] };
document.addEventListener('loadstart', (event) => {
  const video = event.target;
  if (!(video instanceof HTMLVideoElement) || video.dataset.probed) return;
  video.dataset.probed = 'yes';
  video.muted = true;
  video.play().catch(() => {});
  video.requestVideoFrameCallback?.((now) => {
    if (window.__stream.firstFrame == null) window.__stream.firstFrame = performance.timeOrigin + now;
  });
}, true);
for (const name of ['playing', 'waiting']) {
  document.addEventListener(name, () => window.__stream[name].push(performance.timeOrigin + performance.now()), true);
}
document.addEventListener('ended', () => { window.__stream.ended = performance.timeOrigin + performance.now(); }, true);
document.addEventListener('error', (event) => {
  if (event.target instanceof HTMLVideoElement) window.__stream.errors.push(String(event.target.error?.message || event.target.error?.code));
}, true);
"""

PATHS = {"native": "Chromium's HLS", "mse": "the app's MSE player", "mp4": "progressive MP4"}


def make_clip(path: Path, seconds: int):
    subprocess.run(["ffmpeg", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                    "-t", str(seconds), "-vf", "noise=alls=6:allf=t",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "128k", "-shortest", str(path)], check=True)


class Case:
    """One playback: its path, its bandwidth, and what the page and the network log said."""

    def __init__(self, path: str, kbps: int):
        self.path, self.kbps = path, kbps
        self.first_frame = None  # seconds from the first stream request
        self.bytes_before = None
        self.stalls = None
        self.stalled_seconds = None
        self.heights = []  # renditions fetched, in order
        self.rendition = None
        self.stopped_at = None  # where a whole play stood when it was stopped unfinished


def media_log(entries, video_id: str):
    """From Chromium's performance log: the clock offset (wall − monotonic), the stream's requests
    (id → url, start), and the bytes received per request as (monotonic time, bytes)."""
    offset, requests, received = None, {}, []
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            if offset is None and "wallTime" in params:
                offset = params["wallTime"] - params["timestamp"]
            url = params["request"]["url"]
            if "/media/videos/" in url and f"/{video_id}/" in url and "thumbnail" not in url:
                requests.setdefault(params["requestId"], (url, params["timestamp"]))
        elif message["method"] == "Network.dataReceived":
            received.append((params["requestId"], params["timestamp"], params.get("dataLength", 0)))
    return offset, requests, [(rid, at, size) for rid, at, size in received if rid in requests]


def play(driver, server, video_id: str, case: Case, seconds: int, whole: bool):
    bps = case.kbps * 1000
    if driver.current_url.startswith(server.url):
        driver.execute_script("localStorage.clear()")  # no saved position: every case starts at 0
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 40, "downloadThroughput": bps / 8, "uploadThroughput": bps / 8})
    driver.get("about:blank")
    driver.get_log("performance")  # drop what came before
    driver.get(f"{server.url}/player/?id={video_id}&playback={case.path}")
    # A whole play gets three times the clip's length (plus the start); one that stalls longer is
    # stopped there, its stalls counted up to that moment.
    deadline = time.monotonic() + (seconds * 3 + 30 if whole else 60)
    while True:
        state = driver.execute_script("return window.__stream")
        if state and state["errors"]:
            raise RuntimeError(f"{case.path} at {case.kbps} kbit/s: media error {state['errors']}")
        if state and state["firstFrame"] and (not whole or state["ended"]):
            break
        if time.monotonic() > deadline:
            if whole and state and state["firstFrame"]:
                case.stopped_at = driver.execute_script("return document.getElementById('video').currentTime")
                state["ended"] = driver.execute_script("return performance.timeOrigin + performance.now()")
                break
            raise RuntimeError(f"{case.path} at {case.kbps} kbit/s: no first frame within the time allowed ({state})")
        time.sleep(0.25)
    case.rendition = driver.execute_script("return document.getElementById('player').dataset.rendition || null")
    entries = driver.get_log("performance")
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    offset, requests, received = media_log(entries, video_id)
    assert offset is not None and requests, f"{case.path}: no media request in the network log"
    start = min(at for _, at in requests.values())
    frame = state["firstFrame"] / 1000 - offset
    case.first_frame = frame - start
    case.bytes_before = sum(size for _, at, size in received if at <= frame)
    for url, _ in sorted(requests.values(), key=lambda item: item[1]):
        name = url.rsplit("/", 1)[-1]
        if name.startswith("index_") and name.endswith("p.cmfv"):
            height = int(name[len("index_"):-len("p.cmfv")])
            if not case.heights or case.heights[-1] != height:
                case.heights.append(height)
    if whole:
        first_playing = state["playing"][0] if state["playing"] else state["firstFrame"]
        waits = [at for at in state["waiting"] if at > first_playing]
        case.stalls = len(waits)
        stalled = 0.0
        for at in waits:
            resumed = [p for p in state["playing"] if p > at]
            stalled += ((resumed[0] if resumed else state["ended"]) - at) / 1000
        case.stalled_seconds = stalled


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60, help="the clip's length (default 60)")
    parser.add_argument("--runs", type=int, default=2, help="rounds of every case (default 2)")
    parser.add_argument("--skip-conversion-cost", action="store_true", help="leave out bench/convert.py's comparison")
    benchlib.add_site_binary_option(parser)
    options = parser.parse_args()
    binary = benchlib.site_binary(options.site_binary)
    os.environ["SITE_BIN"] = binary  # the binary AppServer starts

    from support.app_browser import AppServer, new_browser, sign_in
    from support.local_cloud import api_call, http_request, media_cookies, media_get, register_user
    from support.files import sha256_b64

    root = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    clip = root / "clip.mp4"
    print(f"making a {options.seconds} s 1080p clip", file=sys.stderr)
    make_clip(clip, options.seconds)
    server = AppServer(root)
    driver = new_browser()
    user = register_user(server.cloud, "bench-stream@example.com")
    cases = []
    try:
        data = clip.read_bytes()
        checksum = sha256_b64(data)
        access = user["tokens"]["AccessToken"]
        created = api_call(server.cloud, "POST", "/videos/upload-url", access, body={
            "fileName": "clip.mp4", "contentType": "video/mp4", "size": len(data), "checksumSHA256": checksum}).json()
        put = http_request("PUT", created["uploadUrl"], data, {"Content-Type": "video/mp4", "x-amz-checksum-sha256": checksum},
                           timeout=300)
        assert put.status == 200, put
        video_id = created["videoId"]
        began = time.monotonic()
        while True:
            video = api_call(server.cloud, "GET", f"/videos/{video_id}", access).json()
            if video["status"] in ("ready", "failed"):
                break
            if time.monotonic() - began > 1800:
                raise RuntimeError("the conversion took over 30 minutes")
            time.sleep(0.5)
        assert video["status"] == "ready" and video.get("streamUrl"), video
        print(f"converted in {time.monotonic() - began:.1f} s", file=sys.stderr)

        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
        sign_in(driver, server, user["email"], user["password"], user["secret"], user["used"])
        for run in range(options.runs):
            for kbps, whole in ((4000, False), (1500, True)):
                for path in PATHS:
                    case = Case(path, kbps)
                    play(driver, server, video_id, case, options.seconds, whole)
                    cases.append(case)
                    print(f"run {run + 1}: {path} at {kbps / 1000:g} Mbit/s: first frame {case.first_frame:.2f} s, "
                          f"{case.bytes_before / 1e6:.2f} MB before it"
                          + (f", {case.stalls} stalls ({case.stalled_seconds:.1f} s)" if whole else "")
                          + (f", stopped unfinished at {case.stopped_at:.1f} s" if case.stopped_at is not None else "")
                          + (f", renditions {case.heights}" if case.heights else ""), file=sys.stderr)
        head = media_get(server.cloud, video["playbackUrl"], media_cookies(server.cloud, access), {"Range": "bytes=0-0"})
        mp4_size = int(head.headers["Content-Range"].rsplit("/", 1)[1])
    finally:
        driver.quit()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    def pick(path, kbps):
        return [case for case in cases if case.path == path and case.kbps == kbps]

    print(f"A {options.seconds} s 1080p30 clip with audio (the MP4 {mp4_size * 8 / options.seconds / 1e6:.1f} Mbit/s); "
          f"{options.runs} runs of every case, alternating ({time.strftime('%Y-%m-%d')}, {binary}, "
          f"{os.cpu_count()} cores)\n")
    table = Table("playback", "bandwidth", "first frame (median)", "bytes before it (median)", "stalls after start",
                  "seconds stalled", "renditions fetched")
    for kbps in (4000, 1500):
        for path, name in PATHS.items():
            chosen = pick(path, kbps)
            stalls = "—" if chosen[0].stalls is None else " / ".join(str(case.stalls) for case in chosen)
            stalled = "—" if chosen[0].stalled_seconds is None else " / ".join(
                f"{case.stalled_seconds:.1f}" + ("" if case.stopped_at is None else f" (stopped at {case.stopped_at:.0f} s of {options.seconds})")
                for case in chosen)
            heights = " / ".join("→".join(f"{h}p" for h in case.heights) for case in chosen if case.heights) or "—"
            table.row(name, f"{kbps / 1000:g} Mbit/s", f"{median([c.first_frame for c in chosen]):.2f} s",
                      f"{median([c.bytes_before for c in chosen]) / 1e6:.2f} MB", stalls, stalled, heights)
    print(table)
    print()
    targets = Table("measure", "value", "target", "met?")
    for path in ("native", "mse"):
        first = median([c.first_frame for c in pick(path, 4000)])
        targets.row(f"{PATHS[path]}: first frame at 4 Mbit/s", f"{first:.2f} s", "≤ 1.0 s", met=first <= 1.0)
        stalls = max(c.stalls for c in pick(path, 1500))
        targets.row(f"{PATHS[path]}: stalls after start at 1.5 Mbit/s (worst run)", str(stalls), "0", met=stalls == 0)
        for kbps in (4000, 1500):
            ratio = median([c.bytes_before for c in pick("mp4", kbps)]) / max(1, median([c.bytes_before for c in pick(path, kbps)]))
            targets.row(f"{PATHS[path]}: MP4's bytes before first frame ÷ these, {kbps / 1000:g} Mbit/s", f"{ratio:.1f}×",
                        "≥ 3×", met=ratio >= 3)
    mp4_stalls = max(c.stalls for c in pick("mp4", 1500))
    targets.row("progressive MP4: stalls after start at 1.5 Mbit/s (worst run)", str(mp4_stalls), "(for comparison)")
    print(targets)

    if not options.skip_conversion_cost:
        print("\nThe conversion's cost (bench/convert.py):\n", flush=True)
        subprocess.run([sys.executable, os.path.join(benchlib.REPO, "bench", "convert.py"), "--seconds", str(options.seconds)],
                       check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
