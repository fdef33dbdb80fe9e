#!/usr/bin/env python3
"""A large upload, measured: the real upload page in headless Chromium against `curl`, side by side
in one run, both sending the same file to `site serve`'s local cloud (release build) as S3 multipart
with presigned part URLs, the same number of parts in flight, and every part's SHA-256 checked by
the store.

Usage: bench/upload.py [--size-mib 2048] [--runs 3] [--concurrency 4] [--site-binary PATH]
(without --site-binary it builds .build/release/site first)

  page   /upload/ of the signed-in app (the same code users run): from handing the file to the
         page's <input type=file> until its row says done. That covers hashing every part
         (WebCrypto, in the page's worker), presigning each part with its checksum, the PUTs (as
         many in flight as the page's pace chooses, shown in its details) and the completion. The
         browser's resident memory (all its processes, from /proc every 100 ms) is sampled: the
         peak above the idle page is reported.
  curl   the same file, the same API: POST /videos/multipart, each part's SHA-256 (hashlib, one
         part at a time as it is read), POST /videos/multipart/parts for every part with its
         checksum, then one `curl --parallel --parallel-max N` sending every part with its
         x-amz-checksum-sha256 header, then POST /videos/multipart/complete. The file is cut into
         part files before the clock starts (curl cannot send a slice of a file), so curl's time
         holds no copying.

Runs alternate page, curl, page, curl… on one server; each run's video is deleted after it.
Cores used by each side: CPU seconds over wall seconds of the sender's processes (the browser's
whole tree; curl plus this script's hashing) and of the server receiving, from /proc.
Targets: page throughput ≥ 0.8 × curl's (goal 0.9×); peak memory < 150 MiB above idle.
Prints a markdown table.
"""

from __future__ import annotations

import benchlib  # noqa: I001  (first: runs this benchmark on .venv/bin/python)
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import Table, median

benchlib.use_test_support()
MiB = 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4, help="curl's parts in flight (the page chooses its own, 2 to 6)")
    benchlib.add_site_binary_option(parser)
    options = parser.parse_args()
    if not shutil.which("curl"):
        print("curl is missing: apt-get install curl", file=sys.stderr)
        return 1
    binary = benchlib.site_binary(options.site_binary)
    os.environ["SITE_BIN"] = binary  # the binary AppServer starts

    from support.app_browser import AppServer, MemoryWatch, new_browser, ready, sign_in, wait_until
    from support.files import make_file, sha256_b64
    from support.local_cloud import api_call, register_user
    from selenium.webdriver.common.by import By

    root = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    size = options.size_mib * MiB
    source = make_file(root / "recording.mov", size)
    server = AppServer(root)
    driver = new_browser()
    user = register_user(server.cloud, "bench-upload@example.com")
    page_times, curl_times, memory_peaks = [], [], []
    cores = {"page": [], "curl": [], "server (page)": [], "server (curl)": []}
    page_details = []
    ticks = os.sysconf("SC_CLK_TCK")

    def tree_cpu(root_pid: int) -> dict[int, float]:
        """CPU seconds so far of `root_pid` and its descendants, by pid."""
        children: dict[int, list[int]] = {}
        stats: dict[int, list[str]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                stats[int(entry)] = fields
                children.setdefault(int(fields[1]), []).append(int(entry))
        found, stack = {}, [root_pid]
        while stack:
            pid = stack.pop()
            if pid in stats:
                found[pid] = (int(stats[pid][11]) + int(stats[pid][12])) / ticks  # utime + stime
            stack.extend(children.get(pid, []))
        return found

    def used(before: dict[int, float], after: dict[int, float]) -> float:
        return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())

    def token() -> str:
        result = server.cloud.cognito().initiate_auth(
            ClientId=server.cloud.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": user["tokens"]["RefreshToken"]})
        return result["AuthenticationResult"]["AccessToken"]

    def delete(video_id: str):
        response = api_call(server.cloud, "DELETE", f"/videos/{video_id}", token=token())
        assert response.status in (204, 404), response

    def run_page() -> float:
        driver.get(server.url + "/upload/")
        ready(driver)
        wait_until(lambda: driver.execute_script("return document.documentElement.dataset.uploadReady === 'true'"), 30, "the page")
        time.sleep(1.0)
        browser_before, server_before = tree_cpu(driver.service.process.pid), tree_cpu(server.served.process.pid)
        with MemoryWatch(driver) as memory:
            started = last_report = time.perf_counter()
            driver.find_element(By.ID, "files").send_keys(str(source))
            row = "#uploads li.upload-item"
            while True:
                state = driver.execute_script(f"const r = document.querySelector('{row}'); return r && [r.dataset.state, r.dataset.videoId]")
                if state and state[0] == "done":
                    break
                if state and state[0] in ("failed", "cancelled"):
                    raise RuntimeError(f"the page's upload ended {state[0]}")
                if time.perf_counter() - last_report > 10:
                    last_report = time.perf_counter()
                    shown = driver.execute_script("return document.getElementById('totals-text').textContent")
                    print(f"  page: {shown}", file=sys.stderr)
                if time.perf_counter() - started > 1800:
                    raise RuntimeError("the page's upload took over 30 minutes")
                time.sleep(0.1)  # a light poll: WebDriver calls run on the page's main thread
            elapsed = time.perf_counter() - started
        cores["page"].append(used(browser_before, tree_cpu(driver.service.process.pid)) / elapsed)
        cores["server (page)"].append(used(server_before, tree_cpu(server.served.process.pid)) / elapsed)
        page_details.append(driver.execute_script(f"return document.querySelector('{row} .upload-details').textContent"))
        memory_peaks.append((memory.peak - memory.baseline) / MiB)
        delete(state[1])
        return elapsed

    parts_dir = root / "parts"
    parts_dir.mkdir()
    started = api_call(server.cloud, "POST", "/videos/multipart", token=token(),
                       body={"fileName": "probe.mov", "contentType": "video/quicktime", "size": size, "checksumAlgorithm": "SHA256"}).json()
    part_size = started["partSize"]
    api_call(server.cloud, "DELETE", "/videos/multipart", token=token(), query={"key": started["key"], "uploadId": started["uploadId"]})
    count = (size + part_size - 1) // part_size
    with source.open("rb") as file:
        for number in range(1, count + 1):
            (parts_dir / f"{number}").write_bytes(file.read(part_size))

    def run_curl() -> float:
        access = token()
        server_before = tree_cpu(server.served.process.pid)
        children_before, own_before = os.times(), time.process_time()
        began = time.perf_counter()
        created = api_call(server.cloud, "POST", "/videos/multipart", token=access,
                           body={"fileName": source.name, "contentType": "video/quicktime", "size": size, "checksumAlgorithm": "SHA256"}).json()
        checksums = {}
        with source.open("rb") as file:
            for number in range(1, count + 1):
                checksums[number] = sha256_b64(file.read(part_size))
        urls = {}
        numbers = list(range(1, count + 1))
        for batch in range(0, count, 100):
            chosen = numbers[batch:batch + 100]
            answer = api_call(server.cloud, "POST", "/videos/multipart/parts", token=access, body={
                "key": created["key"], "uploadId": created["uploadId"],
                "parts": [{"partNumber": n, "checksumSHA256": checksums[n]} for n in chosen]}).json()
            urls.update({entry["partNumber"]: entry["url"] for entry in answer["urls"]})
        config = []
        for n in numbers:
            config += [f'url = "{urls[n]}"', f'upload-file = "{parts_dir / str(n)}"',
                       f'header = "x-amz-checksum-sha256: {checksums[n]}"', 'dump-header = "' + str(parts_dir / f"{n}.headers") + '"',
                       'output = "/dev/null"', "next"]
        (root / "curl.config").write_text("\n".join(config[:-1]) + "\n")
        subprocess.run(["curl", "--silent", "--no-progress-meter", "--show-error", "--fail", "--parallel", "--parallel-max", str(options.concurrency),
                        "--config", str(root / "curl.config")], check=True)
        parts = []
        for n in numbers:
            headers = (parts_dir / f"{n}.headers").read_text()
            etag = next(line.split(":", 1)[1].strip() for line in headers.splitlines() if line.lower().startswith("etag:"))
            parts.append({"partNumber": n, "etag": etag, "checksumSHA256": checksums[n]})
        done = api_call(server.cloud, "POST", "/videos/multipart/complete", token=access,
                        body={"key": created["key"], "uploadId": created["uploadId"], "parts": parts})
        assert done.status == 200, done
        elapsed = time.perf_counter() - began
        children_after = os.times()
        curl_cpu = (children_after.children_user - children_before.children_user
                    + children_after.children_system - children_before.children_system)
        cores["curl"].append((curl_cpu + time.process_time() - own_before) / elapsed)
        cores["server (curl)"].append(used(server_before, tree_cpu(server.served.process.pid)) / elapsed)
        delete(created["videoId"])
        return elapsed

    print(f"{options.size_mib} MiB file and its {count} parts written; signing in", file=sys.stderr)
    try:
        sign_in(driver, server, user["email"], user["password"], user["secret"], user["used"])
        for run in range(options.runs):
            page_times.append(run_page())
            curl_times.append(run_curl())
            print(f"run {run + 1}: page {page_times[-1]:.2f} s (+{memory_peaks[-1]:.0f} MiB), curl {curl_times[-1]:.2f} s",
                  file=sys.stderr)
    finally:
        driver.quit()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    page, curl = median(page_times), median(curl_times)
    rate = lambda seconds: options.size_mib / seconds
    ratio = rate(page) / rate(curl)
    peak = max(memory_peaks)
    print(f"Upload of {options.size_mib} MiB in {count} parts of {part_size // MiB} MiB, SHA-256 on every part; curl "
          f"{options.concurrency} in flight, the page as its details said: {'; '.join(sorted(set(page_details)))}; "
          f"{options.runs} runs each, {os.cpu_count()} cores ({time.strftime('%Y-%m-%d')}, {binary})\n")
    senders = Table("sender", "median time", "median throughput", "min", "max", "cores used: sender", "cores used: server")
    senders.row("upload page (Chromium)", f"{page:.2f} s", f"{rate(page):.0f} MiB/s", f"{min(page_times):.2f} s",
                f"{max(page_times):.2f} s", f"{median(cores['page']):.2f}", f"{median(cores['server (page)']):.2f}")
    senders.row("curl --parallel", f"{curl:.2f} s", f"{rate(curl):.0f} MiB/s", f"{min(curl_times):.2f} s",
                f"{max(curl_times):.2f} s", f"{median(cores['curl']):.2f}", f"{median(cores['server (curl)']):.2f}")
    targets = Table("measure", "value", "target", "met?")
    targets.row("page ÷ curl throughput", f"{ratio:.2f}×", "≥ 0.8× (goal 0.9×)", met=ratio >= 0.8)
    targets.row("browser memory, peak above idle", f"{peak:.0f} MiB", "< 150 MiB", met=peak < 150)
    print(senders)
    print()
    print(targets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
