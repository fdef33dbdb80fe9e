#!/usr/bin/env python3
"""Measure the local cloud (`site cloud`): a big presigned upload, SRP sign-in latency, and the
conversion pipeline's overhead over bare ffmpeg.

Usage: bench/cloud.py [--site-binary PATH] [--work DIR] [--upload-gib 2] [--signins 50]
                   [--clip-seconds 60] [--runs 3]

Each section starts its own `site cloud --port 0` with a fresh data folder under <work> (default
bench/out/cloud, on disk: the bench refuses a tmpfs work folder, as it would measure memory, not
the disk), through Tests/EndToEnd/support/local_cloud.py, and registers its users untimed.

  upload      A file of --upload-gib GiB (made untimed, its SHA-256 too) is sent `runs` times with
              `curl -sS -X PUT -T FILE -H "Content-Type: video/mp4" -H "x-amz-checksum-sha256: …" URL`
              to the presigned URL of POST /videos/upload-url (the server hashes the body as it
              stores it); each video is deleted right after its upload, so its
              conversion job never competes for the CPU. Alternately, `runs` times, the reference:
              `dd if=FILE of=<work>/dd.out bs=8M conv=fsync` on the same filesystem (the server
              fsyncs its objects too). Medians of the wall time → MiB/s. The server's VmRSS is
              sampled every 50 ms during each upload; growth = peak − RSS just before the PUT
              (the largest of the runs is reported).
  sign-in     --signins users (plus one for warm-up) each sign in once with pycognito's AWSSRP:
              USER_SRP_AUTH → PASSWORD_VERIFIER → SOFTWARE_TOKEN_MFA → tokens (a TOTP code is
              accepted once per 30 s step and user, hence one sign-in per user). Timed: from
              creating the AWSSRP object (the client's A) to the tokens, including the client's
              SRP arithmetic; the TOTP code is computed before the clock starts. Median and p90,
              split into the password part (until the MFA challenge), the MFA step, and the time
              spent inside the three requests.
  conversion  A --clip-seconds 1280x720 30 fps mpeg4 + mp2 AVI (made untimed) is uploaded `runs`
              times; pipeline time = from the PUT's end to status `ready` (GET /videos/{id} every
              100 ms). Alternately, bare ffmpeg: the conversion command the pipeline ran (from
              /_local/'s jobs) on the clip into a temp file, alone (the thumbnail-free reference of
              the target), and the pipeline's whole tool chain (ffprobe + that command + the
              thumbnail) for information. Overhead = median pipeline / median bare − 1.

It prints a markdown table (measure | ours | reference | ratio | target | met?) and a verdict,
and removes its big files. It exits 1 only if a tool or the server fails; missed targets are
reported, not fatal.
"""
import benchlib  # noqa: I001  (first: runs this benchmark on .venv/bin/python)
import argparse
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import time

from benchlib import MIB, REPO, RssSampler, Table, median, p90, timed, verdict

benchlib.use_test_support()  # support.local_cloud, imported where it is used (after boto3 is there)
TARGETS = {"upload": 0.5, "rss": 64.0, "signin": 100.0, "overhead": 0.10}
PASSWORD = "Correct-Horse-9"


def fail(message, cloud=None):
    """Exits 1 with `message`, and the end of the server's output if there is a server."""
    benchlib.fail(message, cloud.output if cloud is not None else None, "site cloud")


def run(cmd, what):
    """Runs cmd (at most 30 minutes); returns its wall time. Exits with its output if it fails."""
    return timed(cmd, what=what, timeout=1800)


def filesystem(path):
    """The type of the filesystem holding path (ext4, tmpfs, ...)."""
    found = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", path], capture_output=True, text=True)
    if found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip()
    return subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True).stdout.strip()


# -- the local cloud ---------------------------------------------------------------------------------
def start_cloud(binary, data):
    from support.local_cloud import LocalCloud
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    try:
        return LocalCloud(binary, data).start()
    except RuntimeError as error:
        fail(str(error))


def user_for(cloud, email):
    from support.local_cloud import register_user
    try:
        user = register_user(cloud, email, PASSWORD)
    except Exception as error:  # noqa: BLE001 - any failure here is the server's
        fail(f"registering {email} failed: {error!r}", cloud)
    user["last_step"] = int(time.time() // 30)  # the step its MFA set-up spent (or a later one)
    return user


def api(cloud, method, path, user, body=None, expect=200):
    from support.local_cloud import api_call
    response = api_call(cloud, method, path, user["tokens"]["AccessToken"], body=body)
    if response.status != expect:
        fail(f"{method} {path} answered HTTP {response.status} (expected {expect}): {response.body[:500]!r}", cloud)
    return response.json() if response.body else None


def sha256_b64(path):
    """The file's `x-amz-checksum-sha256`: the base64 of its SHA-256 digest (read 8 MiB at a time)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 * MIB):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def put(cloud, user, path, file_name, content_type, extra=(), checksum=None):
    """POST /videos/upload-url, then the curl PUT (with `extra` curl arguments). `checksum` is the
    file's SHA-256 (computed here, untimed, when not given). Returns (video id, wall time of the PUT)."""
    checksum = checksum or sha256_b64(path)
    created = api(cloud, "POST", "/videos/upload-url", user,
                  {"fileName": file_name, "contentType": content_type, "size": os.path.getsize(path),
                   "checksumSHA256": checksum})
    cmd = ["curl", "-sS", "-X", "PUT", "-T", path, "-H", f"Content-Type: {content_type}",
           "-H", f"x-amz-checksum-sha256: {checksum}", *extra,
           "-o", os.devnull, "-w", "%{http_code}", created["uploadUrl"]]
    start = time.perf_counter()
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - start
    if result.returncode != 0 or result.stdout.strip() != "200":
        fail(f"the presigned PUT of {os.path.basename(path)} failed: curl exit {result.returncode}, "
             f"HTTP {result.stdout.strip() or '-'} {result.stderr.strip()}", cloud)
    return created["videoId"], wall


# -- the sections ----------------------------------------------------------------------------------
def bench_upload(binary, work, size, runs):
    big = os.path.join(work, "upload.bin")
    print(f"== upload: writing a {size / MIB:.0f} MiB file (untimed)", file=sys.stderr)
    benchlib.incompressible_file(big, size)
    checksum = sha256_b64(big)
    cloud = start_cloud(binary, os.path.join(work, "data-upload"))
    samples = {"put": [], "put-no-expect": [], "dd": [], "rss": [], "base": []}
    try:
        user = user_for(cloud, "bench-upload@example.com")
        for r in range(runs):
            dd_out = os.path.join(work, "dd.out")
            samples["dd"].append(run(["dd", f"if={big}", f"of={dd_out}", "bs=8M", "conv=fsync"], "dd"))
            os.remove(dd_out)
            subprocess.run(["sync"], check=False)
            for kind, extra in (("put", ()), ("put-no-expect", ("-H", "Expect:"))):
                sampler = RssSampler(cloud.process.pid)
                before = sampler.peak
                sampler.start()
                try:
                    video_id, wall = put(cloud, user, big, "upload.mp4", "video/mp4", extra, checksum)
                finally:
                    peak = sampler.finish()
                api(cloud, "DELETE", f"/videos/{video_id}", user, expect=204)
                subprocess.run(["sync"], check=False)
                samples[kind].append(wall)
                samples["rss"].append((peak - before) / 1024)
                samples["base"].append(before / 1024)
            print(f"   run {r + 1}/{runs}: dd {size / MIB / samples['dd'][-1]:.0f} MiB/s, "
                  f"PUT {size / MIB / samples['put'][-1]:.0f} MiB/s, without Expect "
                  f"{size / MIB / samples['put-no-expect'][-1]:.0f} MiB/s, RSS {samples['base'][-1]:.1f} MiB "
                  f"+ {max(samples['rss'][-2:]):.1f} MiB", file=sys.stderr)
    finally:
        cloud.stop()
        os.remove(big)
    return samples


def bench_signin(binary, work, count):
    import boto3
    from botocore.config import Config
    from pycognito.aws_srp import AWSSRP
    from support.local_cloud import totp
    cloud = start_cloud(binary, os.path.join(work, "data-signin"))
    try:
        print(f"== sign-in: registering {count + 1} users (untimed)", file=sys.stderr)
        users = [user_for(cloud, f"bench-signin-{i}@example.com") for i in range(count + 1)]
        client = boto3.client("cognito-idp", region_name="us-east-1", endpoint_url=cloud.cognito_url,
                              aws_access_key_id="unused", aws_secret_access_key="unused",
                              config=Config(retries={"total_max_attempts": 1}))
        samples = []
        for index, user in enumerate(users):
            # A step this user has not spent: the current one, else the next (the server allows ±1).
            while True:
                now = int(time.time() // 30)
                step = max(now, user["last_step"] + 1)
                if step <= now + 1:
                    break
                time.sleep(30 - time.time() % 30 + 0.1)
            code = totp(user["secret"], at=step * 30)
            requests = []
            t0 = time.perf_counter()
            srp = AWSSRP(username=user["email"], password=PASSWORD, pool_id=cloud.user_pool_id,
                         client_id=cloud.client_id, client=client)
            parameters = srp.get_auth_params()
            try:
                r0 = time.perf_counter()
                started = client.initiate_auth(ClientId=cloud.client_id, AuthFlow="USER_SRP_AUTH",
                                               AuthParameters=parameters)
                requests.append(time.perf_counter() - r0)
                if started.get("ChallengeName") != "PASSWORD_VERIFIER":
                    fail(f"USER_SRP_AUTH answered {started!r}", cloud)
                answer = srp.process_challenge(started["ChallengeParameters"], parameters)
                r0 = time.perf_counter()
                verified = client.respond_to_auth_challenge(ClientId=cloud.client_id, ChallengeName="PASSWORD_VERIFIER",
                                                            ChallengeResponses=answer)
                t1 = time.perf_counter()
                requests.append(t1 - r0)
                if verified.get("ChallengeName") != "SOFTWARE_TOKEN_MFA":
                    fail(f"PASSWORD_VERIFIER answered {verified!r}", cloud)
                r0 = time.perf_counter()
                done = client.respond_to_auth_challenge(
                    ClientId=cloud.client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=verified["Session"],
                    ChallengeResponses={"USERNAME": user["email"], "SOFTWARE_TOKEN_MFA_CODE": code})
                t2 = time.perf_counter()
                requests.append(t2 - r0)
            except SystemExit:
                raise
            except Exception as error:  # noqa: BLE001 - botocore's ClientError and transport errors
                fail(f"the SRP sign-in of {user['email']} failed: {error!r}", cloud)
            user["last_step"] = step
            if "AccessToken" not in done.get("AuthenticationResult", {}):
                fail(f"SOFTWARE_TOKEN_MFA answered no tokens: {done!r}", cloud)
            if index > 0:  # the first is the warm-up
                samples.append((t2 - t0, t1 - t0, t2 - t1, requests))
        full = [s[0] * 1000 for s in samples]
        print(f"   {len(samples)} sign-ins: median {median(full):.1f} ms, p90 {p90(full):.1f} ms", file=sys.stderr)
        return samples
    finally:
        cloud.stop()


def make_clip(path, seconds):
    run(["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=1280x720:rate=30",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-c:v", "mpeg4", "-q:v", "5", "-c:a", "mp2", path], "making the clip")


def bare_command(command, clip, output, cloud):
    """The pipeline's ffmpeg command line (`ffmpeg ... -i INPUT -map ... +faststart OUTPUT`, joined
    with spaces, unquoted; INPUT is the stored object in the data folder) as an argument list with
    the input and output replaced."""
    head, found, rest = command.partition(" -i ")
    source, found_map, tail = rest.partition(" -map ")
    arguments, found_end, target = ("-map " + tail).rpartition(" ")
    if not (found and found_map and found_end and source.startswith(str(cloud.data)) and target.endswith(".mp4")):
        fail(f"the pipeline's command has an unexpected shape: {command}", cloud)
    return head.split() + ["-i", clip] + arguments.split() + [output]


def wait_ready(cloud, user, video_id, timeout):
    """Polls GET /videos/{id} every 100 ms until `ready`; returns the video and the seconds until
    it was first seen past `queued`."""
    start = time.perf_counter()
    deadline = time.monotonic() + timeout
    picked = None
    while True:
        video = api(cloud, "GET", f"/videos/{video_id}", user)
        if picked is None and video["status"] not in ("uploading", "queued"):
            picked = time.perf_counter() - start
        if video["status"] == "ready":
            return video, picked
        if video["status"] == "failed":
            fail(f"the conversion of video {video_id} failed: {video.get('error')}", cloud)
        if time.monotonic() > deadline:
            fail(f"video {video_id} is still {video['status']} after {timeout:.0f} s", cloud)
        time.sleep(0.1)


def bench_conversion(binary, work, seconds, runs):
    clip = os.path.join(work, "clip.avi")
    bare_out = os.path.join(work, "bare.mp4")
    thumb = os.path.join(work, "bare.jpg")
    print(f"== conversion: making the {seconds} s 720p clip (untimed)", file=sys.stderr)
    make_clip(clip, seconds)
    cloud = start_cloud(binary, os.path.join(work, "data-conversion"))
    samples = {"pipeline": [], "picked": [], "bare": [], "chain": []}
    command = None
    try:
        user = user_for(cloud, "bench-conversion@example.com")
        for r in range(runs):
            video_id, _ = put(cloud, user, clip, "clip.avi", "video/x-msvideo")
            start = time.perf_counter()
            video, picked = wait_ready(cloud, user, video_id, timeout=120 + 20 * seconds)
            samples["pipeline"].append(time.perf_counter() - start)
            samples["picked"].append(picked)
            jobs = [job for job in cloud.state()["jobs"] if job["videoId"] == video_id and job.get("command")]
            if not jobs:
                fail(f"/_local/ shows no job with a command for video {video_id}", cloud)
            command = jobs[0]["command"]
            api(cloud, "DELETE", f"/videos/{video_id}", user, expect=204)

            cmd = bare_command(command, clip, bare_out, cloud)
            probe = run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type",
                         "-of", "json", clip], "ffprobe")
            samples["bare"].append(run(cmd, "bare ffmpeg"))
            frame_at = min(1.0, (video.get("durationSeconds") or 0) / 2)
            shot = run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{frame_at:.3f}", "-i", bare_out,
                        "-frames:v", "1", "-vf", "scale='min(640,iw)':-2", "-q:v", "4", thumb], "the thumbnail")
            samples["chain"].append(probe + samples["bare"][-1] + shot)
            print(f"   run {r + 1}/{runs}: pipeline {samples['pipeline'][-1]:.2f} s, bare ffmpeg "
                  f"{samples['bare'][-1]:.2f} s (+ ffprobe {probe:.2f} s, thumbnail {shot:.2f} s)", file=sys.stderr)
    finally:
        cloud.stop()
        for path in (clip, bare_out, thumb):
            if os.path.exists(path):
                os.remove(path)
    return samples, command


# -- the report ------------------------------------------------------------------------------------
def report(args, size, upload, signin, conversion, command):
    table = Table("measure", "ours", "reference", "ratio", "target", "met?", align="lrrrll")
    row, verdicts = table.row, []

    put_speed = size / MIB / median(upload["put"])
    dd_speed = size / MIB / median(upload["dd"])
    ratio = put_speed / dd_speed
    row(f"upload {args.upload_gib:g} GiB, presigned PUT (curl), median of {args.runs}", f"{put_speed:.0f} MiB/s",
        f"dd conv=fsync {dd_speed:.0f} MiB/s", f"{ratio:.2f}", f"≥ {TARGETS['upload']}", met=ratio >= TARGETS["upload"])
    verdicts.append((f"upload/dd {ratio:.2f} ≥ {TARGETS['upload']}", ratio >= TARGETS["upload"]))
    plain = size / MIB / median(upload["put-no-expect"])
    row("upload, the same curl PUT with `-H \"Expect:\"` (no 100-continue wait)", f"{plain:.0f} MiB/s",
        f"dd conv=fsync {dd_speed:.0f} MiB/s", f"{plain / dd_speed:.2f}")
    growth = max(upload["rss"])
    row("server RSS growth during the upload (max of runs)", f"{growth:.1f} MiB",
        f"RSS before {median(upload['base']):.1f} MiB", "—", f"< {TARGETS['rss']:.0f} MiB", met=growth < TARGETS["rss"])
    verdicts.append((f"RSS growth {growth:.1f} MiB < {TARGETS['rss']:.0f}", growth < TARGETS["rss"]))

    full = [s[0] * 1000 for s in signin]
    n = len(full)
    row(f"sign-in, full SRP + TOTP, median of {n} users", f"{median(full):.1f} ms", "—", "—",
        f"< {TARGETS['signin']:.0f} ms", met=median(full) < TARGETS["signin"])
    verdicts.append((f"sign-in median {median(full):.1f} ms < {TARGETS['signin']:.0f}", median(full) < TARGETS["signin"]))
    row("sign-in, full, p90", f"{p90(full):.1f} ms")
    row("sign-in, password part (to the MFA challenge), median", f"{median(s[1] * 1000 for s in signin):.1f} ms")
    row("sign-in, MFA step (TOTP answer to tokens), median", f"{median(s[2] * 1000 for s in signin):.1f} ms")
    inside = [sum(s[3]) * 1000 for s in signin]
    parts = " + ".join(f"{name} {median(s[3][i] * 1000 for s in signin):.1f}"
                       for i, name in enumerate(("InitiateAuth", "PASSWORD_VERIFIER", "SOFTWARE_TOKEN_MFA")))
    row("sign-in, inside the 3 requests (the rest is client SRP), median", f"{median(inside):.1f} ms", parts + " ms")

    pipeline, bare, chain = median(conversion["pipeline"]), median(conversion["bare"]), median(conversion["chain"])
    overhead = pipeline / bare - 1
    row(f"conversion, {args.clip_seconds:g} s 720p clip, upload end → ready, median of {args.runs}", f"{pipeline:.2f} s",
        f"bare ffmpeg {bare:.2f} s", f"{pipeline / bare:.3f} ({overhead:+.1%})", f"overhead < {TARGETS['overhead']:.0%}",
        met=overhead < TARGETS["overhead"])
    verdicts.append((f"conversion overhead {overhead:+.1%} < {TARGETS['overhead']:.0%}", overhead < TARGETS["overhead"]))
    row("conversion, upload end → first seen `converting`, median", f"{median(conversion['picked']):.2f} s")
    row("conversion vs bare ffprobe + ffmpeg + thumbnail", f"{pipeline:.2f} s", f"bare chain {chain:.2f} s",
        f"{pipeline / chain:.3f} ({pipeline / chain - 1:+.1%})")

    print(f"pipeline command: {command}")
    print()
    print(table)
    print()
    print(verdict(verdicts))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    benchlib.add_site_binary_option(parser)
    parser.add_argument("--work", default=os.path.join(REPO, "bench", "out", "cloud"),
                        help="work folder, on disk (default bench/out/cloud)")
    parser.add_argument("--upload-gib", type=float, default=2, help="size of the uploaded file in GiB (default 2, at most 5)")
    parser.add_argument("--signins", type=int, default=50, help="timed sign-ins, one user each (default 50)")
    parser.add_argument("--clip-seconds", type=float, default=60, help="length of the converted clip (default 60)")
    parser.add_argument("--runs", type=int, default=3, help="uploads and conversions, each against its reference (default 3)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # keep the table in order with progress on stderr
    size = int(args.upload_gib * 1024 * MIB)
    if not 0 < size <= 5 * 1024 * MIB or args.signins < 1 or args.clip_seconds <= 0 or args.runs < 1:
        parser.error("--upload-gib must be in (0, 5]; --signins, --clip-seconds and --runs must be positive")

    missing = [tool for tool in ("curl", "dd", "ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        sys.exit(f"error: {', '.join(missing)} not on PATH (apt-get install curl ffmpeg)")
    try:
        import boto3  # noqa: F401
        import pycognito  # noqa: F401
    except ImportError:
        benchlib.install_deps("test")
    site_binary = benchlib.site_binary(args.site_binary)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    fs = filesystem(work)
    if fs in ("tmpfs", "ramfs"):
        sys.exit(f"error: {work} is on {fs}; the upload must be measured against a disk (use --work)")
    free = shutil.disk_usage(work).free
    if free < 2.5 * size + 256 * MIB:
        sys.exit(f"error: {work} has {free / MIB:.0f} MiB free; the upload needs about {2.5 * size / MIB:.0f} MiB")

    ffmpeg_version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    print(f"nproc: {len(os.sched_getaffinity(0))}")
    print(f"site: {site_binary}; {ffmpeg_version}")
    print(f"work: {work} ({fs})")
    load_before = f"{os.getloadavg()[0]:.2f}"
    try:
        upload = bench_upload(site_binary, work, size, args.runs)
        signin = bench_signin(site_binary, work, args.signins)
        conversion, command = bench_conversion(site_binary, work, args.clip_seconds, args.runs)
    finally:
        for name in ("upload.bin", "dd.out", "clip.avi", "bare.mp4", "bare.jpg"):
            if os.path.exists(os.path.join(work, name)):
                os.remove(os.path.join(work, name))
        for name in ("data-upload", "data-signin", "data-conversion"):
            shutil.rmtree(os.path.join(work, name), ignore_errors=True)
    report(args, size, upload, signin, conversion, command)
    print(f"load average (1 min): {load_before} before, {os.getloadavg()[0]:.2f} after "
          "(other work on the machine skews every measure)")


if __name__ == "__main__":
    main()
