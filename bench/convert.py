#!/usr/bin/env python3
"""Measure what the HLS ladder costs the local cloud's conversion: the single-MP4 ffmpeg command
the pipeline ran before the ladder against the one it runs now (the same MP4, plus every rendition
of the ladder and the sound as CMAF, from one decode), on the same clip, side by side in one run.

Usage: bench/convert.py [--seconds 60] [--size 1920x1080] [--rounds 2] [--work DIR]

It makes a --seconds clip at --size, 30 frames a second, with ffmpeg's testsrc2 pattern and a sine
tone (H.264 + AAC in MP4, as a phone would upload; made untimed), into <work>/convert (default
bench/out). Then `rounds` times, alternately (single, ladder; then ladder, single; …), it runs:

  single  ffmpeg's arguments of `ConversionSettings.ffmpegArguments` (the MP4 only: libx264
          veryfast CRF 23, AAC 128k, faststart);
  ladder  those of `ConversionSettings.ladderArguments` for the clip's renditions (`split` +
          `scale`, one libx264 veryfast encode per rung with its peak rate, profile and level,
          keyframes forced every 2 s, HLS fMP4 single files), as the pipeline runs it.

Both are reproduced here (`single_arguments`, `ladder_arguments`); test_cloud_ladder.py checks
that the ladder's are the command the local cloud records for a job, and that the MP4 part is the
single command's. Each run is timed (wall) with its CPU time (user + system of the ffmpeg child).
It prints the medians, the ratio ladder ÷ single of each, and the ladder's bytes per rendition; if
bench/results/ exists the table is saved there as convert-<date>.md. No targets: it measures.
"""
import benchlib  # noqa: I001  (first: runs this benchmark on .venv/bin/python)
import argparse
import datetime
import json
import os
import resource
import shutil
import subprocess
import time

from benchlib import REPO, Table, fail, median

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"

# ConversionSettings and StreamLadder (Sources/VideoService), as the pipeline uses them.
AUDIO_KBPS = 128
INPUT_FORMATS = "mov,matroska,avi,mpegts,mpeg,flv,asf,ogg,mxf,dv"
# height, peak kbit/s, profile, level: highest first.
RUNGS = [(1080, 5000, "high", "4.2"), (720, 2800, "high", "3.2"), (480, 1200, "main", "3.1"), (360, 700, "main", "3.1")]
SEGMENT = 2


def input_restrictions():
    return ["-protocol_whitelist", "file", "-format_whitelist", INPUT_FORMATS]


def mp4_encoding(has_audio):
    return (["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
            + (["-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k"] if has_audio else []) + ["-movflags", "+faststart"])


def single_arguments(source, mp4, has_audio=True):
    """ConversionSettings.ffmpegArguments: the MP4 alone."""
    return (["-nostdin", "-v", "error", "-y"] + input_restrictions() + ["-i", source, "-map", "0:v:0"]
            + (["-map", "0:a:0"] if has_audio else []) + mp4_encoding(has_audio) + [mp4])


# UsageLimits.defaultLongestMinutes, in seconds.
LONGEST_SECONDS = 180 * 60


def renditions(width, height):
    """StreamLadder.renditions: (rung, width, height) lowest first, never above the source."""
    def scaled(target, rung):
        even = max(2, target - target % 2)
        return rung, max(2, round(width * even / height / 2) * 2), even
    fitting = [rung for rung in RUNGS if rung[0] <= height]
    return [scaled(rung[0], rung) for rung in reversed(fitting)] if fitting else [scaled(height, RUNGS[-1])]


def ladder_arguments(source, mp4, folder, rungs, has_audio=True, longest_seconds=LONGEST_SECONDS):
    """ConversionSettings.ladderArguments: the MP4 and the ladder in one run, reading no further
    than the longest video converted (`-t` before `-i`, the local cloud's default cap)."""
    folder = folder if folder.endswith("/") else folder + "/"
    graph = f"[0:v:0]split={len(rungs) + 1}[mp4]" + "".join(f"[s{i}]" for i in range(len(rungs)))
    for i, (_, w, h) in enumerate(rungs):
        graph += f";[s{i}]scale={w}:{h},setsar=1[r{i}]"
    cap = ["-t", f"{longest_seconds:.3f}"] if longest_seconds else []
    args = ["-nostdin", "-v", "error", "-y"] + input_restrictions() + cap + ["-i", source, "-filter_complex", graph]
    args += ["-map", "[mp4]"] + (["-map", "0:a:0"] if has_audio else []) + mp4_encoding(has_audio) + [mp4]

    def hls(playlist, file):
        return ["-f", "hls", "-hls_time", str(SEGMENT), "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
                "-hls_flags", "single_file+independent_segments", "-hls_segment_filename", folder + file, folder + playlist]
    for i, ((_, rate, profile, level), _, h) in enumerate(rungs):
        args += ["-map", f"[r{i}]", "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                 "-maxrate", f"{rate}k", "-bufsize", f"{rate}k", "-profile:v", profile, "-level", level,
                 "-pix_fmt", "yuv420p", "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT})", "-sc_threshold", "0"]
        args += hls(f"index_{h}p.m3u8", f"index_{h}p.cmfv")
    if has_audio:
        args += ["-map", "0:a:0", "-vn", "-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k", "-ac", "2"]
        args += hls("index_audio.m3u8", "index_audio.cmfa")
    return args


def make_clip(path, seconds, size):
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "192k", "-shortest", path], check=True, timeout=1800)


def run(arguments):
    """Wall and CPU seconds (user + system of the child) of one ffmpeg run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([FFMPEG] + arguments, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        fail(f"ffmpeg exited with {result.returncode}: {result.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="the clip's length (default 60)")
    parser.add_argument("--size", default="1920x1080", help="the clip's size (default 1920x1080)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each command, alternating (default 2)")
    parser.add_argument("--work", default=os.path.join(REPO, "bench", "out"), help="the work folder (default bench/out)")
    options = parser.parse_args()

    work = os.path.join(os.path.abspath(options.work), "convert")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "hls"))
    clip = os.path.join(work, "clip.mp4")
    print(f"making a {options.seconds} s {options.size} clip …", flush=True)
    make_clip(clip, options.seconds, options.size)
    width, height = map(int, options.size.split("x"))
    rungs = renditions(width, height)
    commands = {
        "single": single_arguments(clip, os.path.join(work, "single.mp4")),
        "ladder": ladder_arguments(clip, os.path.join(work, "video.mp4"), os.path.join(work, "hls"), rungs),
    }
    times = {name: [] for name in commands}
    for round_ in range(options.rounds):
        order = ["single", "ladder"] if round_ % 2 == 0 else ["ladder", "single"]
        for name in order:
            wall, cpu = run(commands[name])
            times[name].append((wall, cpu))
            print(f"round {round_ + 1}: {name}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)

    wall = {name: median([w for w, _ in runs]) for name, runs in times.items()}
    cpu = {name: median([c for _, c in runs]) for name, runs in times.items()}
    table = Table("measure", "single MP4", "MP4 + ladder", "ladder ÷ single", align="lrrr")
    table.row("wall time (median)", f"{wall['single']:.1f} s", f"{wall['ladder']:.1f} s", f"{wall['ladder'] / wall['single']:.2f}×")
    table.row("CPU time (median)", f"{cpu['single']:.1f} s", f"{cpu['ladder']:.1f} s", f"{cpu['ladder'] / cpu['single']:.2f}×")
    table.row("× real time (wall ÷ clip)", f"{wall['single'] / options.seconds:.2f}", f"{wall['ladder'] / options.seconds:.2f}",
              "—")
    sizes = Table("file", "bytes", "kbit/s", align="lrr")
    for name in sorted(os.listdir(os.path.join(work, "hls"))):
        size = os.path.getsize(os.path.join(work, "hls", name))
        sizes.row(name, f"{size:,}", f"{size * 8 / options.seconds / 1000:,.0f}")
    size = os.path.getsize(os.path.join(work, "video.mp4"))
    sizes.row("video.mp4", f"{size:,}", f"{size * 8 / options.seconds / 1000:,.0f}")
    cores = os.cpu_count()
    probe = json.loads(subprocess.run([FFPROBE, "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "json", clip],
                                      capture_output=True, text=True, check=True).stdout)
    source = ", ".join(f"{s['codec_name']}" + (f" {s['width']}x{s['height']}" if "width" in s else "") for s in probe["streams"])
    heading = (f"{options.seconds} s clip ({source}), {options.rounds} rounds alternating, {cores} cores; "
               f"ladder rungs {', '.join(f'{w}x{h}' for _, w, h in rungs)}")
    report = [heading, "", str(table), "", "The ladder's files (last run):", "", str(sizes)]
    print("\n" + "\n".join(report))
    results = os.path.join(REPO, "bench", "results")
    if os.path.isdir(results):
        path = os.path.join(results, f"convert-{datetime.date.today().isoformat()}.md")
        with open(path, "w") as out:
            out.write(f"# `bench/convert`, {datetime.date.today().isoformat()}\n\n" + "\n".join(report) + "\n")
        print(f"\nsaved {os.path.relpath(path, REPO)}")


if __name__ == "__main__":
    main()
