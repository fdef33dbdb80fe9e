"""The HLS ladder the local cloud makes beside every MP4, read back as a player would.

A real clip with sound (1280x720, 7 s) uploaded through the API becomes, under
`videos/<sub>/<id>/hls/`, a master `index.m3u8`, `index_<H>p.m3u8` + `index_<H>p.cmfv` for 360p,
480p and 720p (never above the source) and `index_audio.m3u8` + `index_audio.cmfa`. Read back
through `/media/` with the user's cookies and checked with ffprobe: each rendition's size, H.264
without sound (the sound is its own rendition), keyframes at the same times in every rendition and
every 2 s only; each media playlist's 2-second segments (the last shorter) as byte ranges that tile
its one file; the master's BANDWIDTH, RESOLUTION, CODECS and audio group, lowest first. A byte range
of a `.cmfv` is served as a 206. Deleting the video removes every file of its folder. A small
silent clip gets one rendition at its own height and no audio group.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from support import REPO
from support.files import FFMPEG, FFPROBE, make_clip
from support.local_cloud import LocalCloud, api_call, media_cookies, media_get, register_user
from support.pipeline import get_video, require_binary, upload, wait_for

MAIN = "video-main"
SEGMENT = 2.0
SECONDS = 7


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    started = LocalCloud(require_binary(), tmp_path_factory.mktemp("cloud")).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def user(cloud):
    return register_user(cloud, f"ladder-{uuid.uuid4().hex[:6]}@example.com")


@pytest.fixture(scope="module")
def cookies(cloud, user):
    return media_cookies(cloud, user["tokens"]["AccessToken"])


@pytest.fixture(scope="module")
def ladder(cloud, user, cookies, tmp_path_factory):
    """The 720p clip converted: (video, {file name: bytes} of its hls/ folder read through /media/)."""
    folder = tmp_path_factory.mktemp("ladder")
    clip = make_clip(folder / "clip.avi", SECONDS, "1280x720", quality=4)
    created = upload(cloud, user, clip, "Ladder.avi", "video/x-msvideo")
    video = wait_for(cloud, user, created["videoId"], {"ready", "failed"}, 240)
    assert video["status"] == "ready", video
    return video, read_ladder(cloud, video, cookies, folder)


def read_ladder(cloud, video, cookies, folder: Path) -> dict[str, bytes]:
    """Every file the master names, and the files their playlists name, through /media/."""
    base = video["streamUrl"].rsplit("/", 1)[0] + "/"
    files: dict[str, bytes] = {}

    def fetch(name: str) -> bytes:
        assert "/" not in name and ":" not in name, f"not a relative URI in the same folder: {name}"
        if name not in files:
            answer = media_get(cloud, base + name, cookies)
            assert answer.status == 200, (name, answer)
            files[name] = answer.body
            (folder / name).write_bytes(answer.body)
        return files[name]

    master = fetch("index.m3u8").decode()
    for name in uris(master):
        for media in set(uris(fetch(name).decode())):
            fetch(media)
    return files


def uris(playlist: str) -> list[str]:
    """The URIs a playlist names: its URI lines and URI="…" attributes."""
    found = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    return found + re.findall(r'URI="([^"]+)"', playlist)


def attributes(line: str) -> dict[str, str]:
    """The attribute list of a tag line, quotes removed."""
    text = line.split(":", 1)[1]
    return {k: v.strip('"') for k, v in re.findall(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', text)}


def master_variants(master: str) -> list[tuple[dict[str, str], str]]:
    lines = master.splitlines()
    return [(attributes(line), lines[i + 1]) for i, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF:")]


def ffprobe_json(path: Path, *extra: str) -> dict:
    result = subprocess.run([FFPROBE, "-v", "error", *extra, "-of", "json", str(path)],
                            capture_output=True, text=True, check=True, timeout=120)
    return json.loads(result.stdout)


def keyframes(path: Path) -> list[float]:
    frames = ffprobe_json(path, "-select_streams", "v:0", "-skip_frame", "nokey", "-show_entries", "frame=pts_time")["frames"]
    return [float(f["pts_time"]) for f in frames]


def segments(playlist: str) -> tuple[tuple[int, int], list[tuple[float, int, int]]]:
    """A media playlist's init section (length, offset) and its segments (duration, length, offset)."""
    map_line = next(line for line in playlist.splitlines() if line.startswith("#EXT-X-MAP:"))
    length, offset = attributes(map_line)["BYTERANGE"].split("@")
    found, duration = [], None
    for line in playlist.splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",")[0])
        elif line.startswith("#EXT-X-BYTERANGE:"):
            size, start = line.split(":", 1)[1].split("@")
            found.append((duration, int(size), int(start)))
    return (int(length), int(offset)), found


def bench_convert():
    """bench/convert.py as a module, without its benchlib (which would set up the benchmarks' run)."""
    import importlib.util
    import sys
    import types
    spec = importlib.util.spec_from_file_location("bench_convert", REPO / "bench" / "convert.py")
    module = importlib.util.module_from_spec(spec)
    real = sys.modules.get("benchlib")
    sys.modules["benchlib"] = types.SimpleNamespace(REPO=str(REPO), Table=None, fail=None, median=None)
    try:
        spec.loader.exec_module(module)
    finally:
        if real is None:
            del sys.modules["benchlib"]
        else:
            sys.modules["benchlib"] = real
    return module


# -- tests -----------------------------------------------------------------------------------------
def test_the_api_names_the_master_playlist_beside_the_mp4(cloud, user, ladder):
    video, _ = ladder
    folder = f"/media/videos/{user['sub']}/{video['id']}/"
    assert video["playbackUrl"] == folder + "video.mp4"
    assert video["streamUrl"] == folder + "hls/index.m3u8"
    assert get_video(cloud, user, video["id"])["streamUrl"] == video["streamUrl"]


def test_the_folder_holds_exactly_the_layout(cloud, user, ladder):
    video, _ = ladder
    prefix = f"videos/{user['sub']}/{video['id']}/"
    keys = {o["Key"][len(prefix):] for o in cloud.s3().list_objects_v2(Bucket=MAIN, Prefix=prefix).get("Contents", [])}
    expected = {"video.mp4", "thumbnail.0000000.jpg", "hls/index.m3u8", "hls/index_audio.m3u8", "hls/index_audio.cmfa"}
    for height in (360, 480, 720):
        expected |= {f"hls/index_{height}p.m3u8", f"hls/index_{height}p.cmfv"}
    assert keys == expected


def test_the_master_lists_each_rendition_lowest_first_with_its_audio_group(ladder):
    _, files = ladder
    master = files["index.m3u8"].decode()
    lines = master.splitlines()
    assert lines[0] == "#EXTM3U" and any(line.startswith("#EXT-X-VERSION:") for line in lines)
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in lines
    media = [attributes(line) for line in lines if line.startswith("#EXT-X-MEDIA:")]
    assert len(media) == 1 and media[0]["TYPE"] == "AUDIO" and media[0]["GROUP-ID"] == "audio", media
    assert media[0]["DEFAULT"] == "YES" and media[0]["AUTOSELECT"] == "YES" and media[0]["URI"] == "index_audio.m3u8"
    variants = master_variants(master)
    assert [uri for _, uri in variants] == ["index_360p.m3u8", "index_480p.m3u8", "index_720p.m3u8"]
    assert [v["RESOLUTION"] for v, _ in variants] == ["640x360", "854x480", "1280x720"]
    bandwidths = [int(v["BANDWIDTH"]) for v, _ in variants]
    assert bandwidths == sorted(bandwidths) and bandwidths[0] > 128_000
    for attrs, _ in variants:
        codecs = attrs["CODECS"].split(",")
        assert re.fullmatch(r"avc1\.[0-9a-f]{6}", codecs[0]) and codecs[1] == "mp4a.40.2", attrs
        assert attrs["AUDIO"] == "audio"


def test_each_rendition_is_h264_at_its_size_with_its_declared_profile_and_no_sound(ladder, tmp_path_factory):
    _, files = ladder
    folder = tmp_path_factory.mktemp("probe")
    profiles = {"avc1.4d": "Main", "avc1.64": "High"}
    for attrs, playlist in master_variants(files["index.m3u8"].decode()):
        name = playlist.replace(".m3u8", ".cmfv")
        (folder / name).write_bytes(files[name])
        streams = ffprobe_json(folder / name, "-show_streams")["streams"]
        assert [s["codec_type"] for s in streams] == ["video"], (name, streams)
        width, height = map(int, attrs["RESOLUTION"].split("x"))
        assert (streams[0]["codec_name"], streams[0]["width"], streams[0]["height"]) == ("h264", width, height)
        codecs = attrs["CODECS"].split(",")[0]
        assert streams[0]["profile"] == profiles[codecs[:7]], (name, streams[0]["profile"])
        assert streams[0]["level"] == int(codecs[-2:], 16), (name, streams[0]["level"])
    (folder / "index_audio.cmfa").write_bytes(files["index_audio.cmfa"])
    streams = ffprobe_json(folder / "index_audio.cmfa", "-show_streams")["streams"]
    assert [(s["codec_type"], s["codec_name"]) for s in streams] == [("audio", "aac")]


def test_keyframes_fall_every_two_seconds_at_the_same_times_in_every_rendition(ladder, tmp_path_factory):
    _, files = ladder
    folder = tmp_path_factory.mktemp("keys")
    times = {}
    for name in ("index_360p.cmfv", "index_480p.cmfv", "index_720p.cmfv"):
        (folder / name).write_bytes(files[name])
        times[name] = keyframes(folder / name)
    first = times["index_360p.cmfv"]
    print("keyframes:", first)
    assert len(first) == math.ceil(SECONDS / SEGMENT), first
    for name, found in times.items():
        assert found == pytest.approx(first, abs=0.001), (name, found, first)
    gaps = [b - a for a, b in zip(first, first[1:])]
    assert gaps == pytest.approx([SEGMENT] * len(gaps), abs=0.05), gaps


def test_media_playlists_are_vod_byte_ranges_of_two_second_segments_tiling_one_file(ladder):
    _, files = ladder
    for name in ("index_360p.m3u8", "index_480p.m3u8", "index_720p.m3u8", "index_audio.m3u8"):
        playlist = files[name].decode()
        lines = playlist.splitlines()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines and lines[-1] == "#EXT-X-ENDLIST", (name, playlist)
        target = int(next(line for line in lines if line.startswith("#EXT-X-TARGETDURATION:")).split(":")[1])
        assert target == int(SEGMENT), (name, target)
        media = name.replace(".m3u8", ".cmfa" if "audio" in name else ".cmfv")
        assert set(uris(playlist)) == {media}, (name, uris(playlist))
        (init_length, init_offset), parts = segments(playlist)
        assert init_offset == 0 and len(parts) == math.ceil(SECONDS / SEGMENT), (name, parts)
        durations = [d for d, _, _ in parts]
        assert durations[:-1] == pytest.approx([SEGMENT] * (len(parts) - 1), abs=0.05), (name, durations)
        assert 0 < durations[-1] <= SEGMENT + 0.05 and sum(durations) == pytest.approx(SECONDS, abs=0.1), (name, durations)
        # The init section, then each segment right after the one before, to the end of the file.
        offset = init_length
        for _, length, start in parts:
            assert start == offset, (name, parts)
            assert files[media][start + 4:start + 8] in (b"moof", b"styp", b"sidx"), (name, files[media][start:start + 8])
            offset += length
        assert offset == len(files[media]), (name, offset, len(files[media]))


def test_a_byte_range_of_a_rendition_is_served_through_media_with_the_cookies(cloud, ladder, cookies):
    video, files = ladder
    _, parts = segments(files["index_480p.m3u8"].decode())
    _, length, start = parts[1]
    url = video["streamUrl"].replace("index.m3u8", "index_480p.cmfv")
    ranged = media_get(cloud, url, cookies, headers={"Range": f"bytes={start}-{start + length - 1}"})
    assert ranged.status == 206, ranged
    assert ranged.body == files["index_480p.cmfv"][start:start + length]
    assert ranged.headers["Content-Range"] == f"bytes {start}-{start + length - 1}/{len(files['index_480p.cmfv'])}"
    master = media_get(cloud, video["streamUrl"], cookies)
    assert master.headers["Content-Type"].startswith("application/vnd.apple.mpegurl"), master.headers
    assert media_get(cloud, video["streamUrl"], None).status == 403


def converted_test_pattern(cloud, user, folder: Path, name: str, seconds: int, size: str) -> dict:
    """A silent test pattern of `size` made by ffmpeg (MPEG-4 part 2 in Matroska), uploaded and converted."""
    clip = folder / name
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size={size}:rate=25",
                    "-c:v", "mpeg4", "-q:v", "5", str(clip)], check=True, timeout=120)
    created = upload(cloud, user, clip, name, "video/x-matroska")
    video = wait_for(cloud, user, created["videoId"], {"ready", "failed"}, 180)
    assert video["status"] == "ready", video
    return video


def test_a_small_silent_clip_gets_one_rendition_at_its_own_height_and_no_audio(cloud, user, cookies, tmp_path):
    video = converted_test_pattern(cloud, user, tmp_path, "small.mkv", 3, "320x240")
    files = read_ladder(cloud, video, cookies, tmp_path)
    master = files["index.m3u8"].decode()
    assert "#EXT-X-MEDIA" not in master and "AUDIO=" not in master, master
    variants = master_variants(master)
    assert [(v["RESOLUTION"], uri) for v, uri in variants] == [("320x240", "index_240p.m3u8")]
    assert "," not in variants[0][0]["CODECS"]
    assert sorted(files) == ["index.m3u8", "index_240p.cmfv", "index_240p.m3u8"]


def test_no_mp4_above_1080p_a_portrait_1440p_source_is_scaled_to_1080_by_1920(cloud, user, cookies, tmp_path):
    video = converted_test_pattern(cloud, user, tmp_path, "tall.mkv", 1, "1440x2560")
    answer = media_get(cloud, video["playbackUrl"], cookies)
    assert answer.status == 200, answer
    (tmp_path / "video.mp4").write_bytes(answer.body)
    stream = ffprobe_json(tmp_path / "video.mp4", "-show_streams", "-select_streams", "v:0")["streams"][0]
    assert (stream["width"], stream["height"]) == (1080, 1920), stream
    # The ladder's top rung is the 1080p one, at the source's shape.
    master = read_ladder(cloud, video, cookies, tmp_path)["index.m3u8"].decode()
    assert [v["RESOLUTION"] for v, _ in master_variants(master)][-1] == "608x1080", master


def test_bench_convert_reproduces_the_command_the_pipeline_ran(cloud, ladder):
    """bench/convert.py times the pipeline's ffmpeg command with its own copy of the arguments:
    that copy is the command the local cloud recorded for this job, and its MP4 part is the
    single-MP4 command's."""
    bench = bench_convert()
    video, _ = ladder
    job = next(j for j in cloud.state()["jobs"] if j["videoId"] == video["id"])
    recorded = job["command"].split(" ")
    assert Path(recorded[0]).name == "ffmpeg", recorded
    arguments = recorded[1:]
    source = arguments[arguments.index("-i") + 1]
    mp4 = next(a for a in arguments if a.endswith("/video.mp4"))
    folder = str(Path(next(a for a in arguments if a.endswith(".m3u8"))).parent)
    assert arguments == bench.ladder_arguments(source, mp4, folder, bench.renditions(1280, 720))
    single = bench.single_arguments(source, mp4)
    assert arguments[arguments.index("[mp4]") + 1:arguments.index(mp4) + 1] == single[single.index("0:a:0") - 1:]


def test_deleting_the_video_removes_its_whole_folder(cloud, user, ladder):
    video, _ = ladder
    prefix = f"videos/{user['sub']}/{video['id']}/"
    assert cloud.s3().list_objects_v2(Bucket=MAIN, Prefix=prefix).get("KeyCount", 0) > 5
    assert api_call(cloud, "DELETE", f"/videos/{video['id']}", user["tokens"]["AccessToken"]).status == 204
    assert cloud.s3().list_objects_v2(Bucket=MAIN, Prefix=prefix).get("KeyCount", 0) == 0
