"""The local cloud's conversion pipeline: a real non-MP4 clip uploaded through the API becomes a
playable, faststart H.264/AAC MP4 with a JPEG thumbnail; a file that is not a video fails with a
message a person understands; a conversion interrupted by SIGKILL finishes after a restart."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from support.files import FFPROBE, make_clip
from support.local_cloud import LocalCloud, api_call, media_cookies, media_get, register_user
from support.pipeline import get_video, require_binary, upload, wait_for

TEMP = "video-temp-conversion"
MAIN = "video-main"
ORDER = {"uploading": 0, "queued": 1, "converting": 2, "ready": 3, "failed": 3}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    started = LocalCloud(require_binary(), tmp_path_factory.mktemp("cloud")).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def user(cloud):
    return register_user(cloud, f"pipeline-{uuid.uuid4().hex[:6]}@example.com")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    require_binary()
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.avi", 4, "320x240", quality=5)


# -- helpers ---------------------------------------------------------------------------------------
def ffprobe(path: Path) -> dict:
    result = subprocess.run([FFPROBE, "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                            capture_output=True, text=True, check=True, timeout=60)
    return json.loads(result.stdout)


def top_level_boxes(data: bytes) -> list[str]:
    """The types of the top-level ISO BMFF boxes, in file order."""
    boxes, offset = [], 0
    while offset < len(data):
        assert offset + 8 <= len(data), f"truncated box header at {offset}"
        size = int.from_bytes(data[offset:offset + 4], "big")
        kind = data[offset + 4:offset + 8].decode("latin-1")
        header = 8
        if size == 1:
            size = int.from_bytes(data[offset + 8:offset + 16], "big")
            header = 16
        elif size == 0:
            size = len(data) - offset
        assert size >= header, f"box {kind!r} at {offset} has size {size}"
        boxes.append(kind)
        offset += size
    assert offset == len(data), "the last box runs past the end of the file"
    return boxes


def check_mp4(path: Path, seconds: float) -> dict:
    data = path.read_bytes()
    boxes = top_level_boxes(data)
    assert boxes[0] == "ftyp", boxes
    assert "moov" in boxes and "mdat" in boxes, boxes
    assert boxes.index("moov") < boxes.index("mdat"), f"moov after mdat (not faststart): {boxes}"
    probe = ffprobe(path)
    codecs = {s["codec_type"]: s["codec_name"] for s in probe["streams"]}
    assert codecs.get("video") == "h264", probe["streams"]
    assert codecs.get("audio") == "aac", probe["streams"]
    assert abs(float(probe["format"]["duration"]) - seconds) < 0.5, probe["format"]
    return probe


def assert_temp_object_gone(cloud, key: str, grace: float = 5.0):
    s3 = cloud.s3()
    deadline = time.monotonic() + grace
    while True:
        try:
            s3.head_object(Bucket=TEMP, Key=key)
        except ClientError as error:
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404, error.response
            return
        assert time.monotonic() < deadline, f"{TEMP}/{key} is still there after the video became ready"
        time.sleep(0.5)


def mentions(document, text: str) -> bool:
    return text in json.dumps(document, ensure_ascii=False)


# -- tests -----------------------------------------------------------------------------------------
def test_avi_upload_becomes_a_playable_faststart_mp4_with_thumbnail(cloud, user, clip, tmp_path):
    created = upload(cloud, user, clip, "Test Clip.avi", "video/x-msvideo")
    video_id, key = created["videoId"], created["key"]
    history: list = []
    video = wait_for(cloud, user, video_id, {"ready", "failed"}, 120, history)
    print("status history:", history)
    assert video["status"] == "ready", video

    statuses = [status for status, _ in history]
    assert statuses[-1] == "ready"
    assert "uploading" not in statuses[1:], history
    assert [ORDER[s] for s in statuses] == sorted(ORDER[s] for s in statuses), f"statuses went back: {history}"
    progress = [p for s, p in history if s == "converting" and p is not None]
    assert all(0 <= p <= 1 for p in progress), history
    assert progress == sorted(progress), f"progress went back: {history}"
    assert all(p is None for s, p in history if s != "converting"), history

    assert video["title"] == "Test Clip"
    assert video["sizeBytes"] == clip.stat().st_size
    assert video["error"] is None and video["progress"] is None
    assert video["durationSeconds"] is not None and abs(video["durationSeconds"] - 4) < 0.5, video

    # The playback path is on the cloud's origin and opens with the session's cookies, with a range too.
    assert video["playbackUrl"] == f"/media/videos/{user['sub']}/{video_id}/video.mp4", video
    cookies = media_cookies(cloud, user["tokens"]["AccessToken"])
    played = media_get(cloud, video["playbackUrl"], cookies)
    assert played.status == 200, played
    mp4 = tmp_path / "played.mp4"
    mp4.write_bytes(played.body)
    check_mp4(mp4, 4)
    assert played.headers["Cache-Control"] == "private, max-age=86400"
    ranged = media_get(cloud, video["playbackUrl"], cookies, headers={"Range": "bytes=0-99"})
    assert ranged.status == 206, ranged
    assert ranged.body == played.body[:100]
    assert ranged.headers["Content-Range"] == f"bytes 0-99/{len(played.body)}"

    assert video["thumbnailUrl"], video
    thumbnail = media_get(cloud, video["thumbnailUrl"], cookies)
    assert thumbnail.status == 200, thumbnail
    print("thumbnail Content-Type:", thumbnail.headers.get("Content-Type"), len(thumbnail.body), "bytes")
    assert thumbnail.body[:2] == b"\xff\xd8", thumbnail.body[:16]
    assert thumbnail.body.rstrip(b"\x00")[-2:] == b"\xff\xd9", thumbnail.body[-16:]

    # The upload is gone from the temporary bucket; the outputs live under the user's sub.
    assert_temp_object_gone(cloud, key)
    outputs = [o["Key"] for o in cloud.s3().list_objects_v2(Bucket=MAIN).get("Contents", []) if video_id in o["Key"]]
    assert len(outputs) >= 2, outputs
    assert all(user["sub"] in k for k in outputs), outputs

    # The overview knows the video and its job.
    state = cloud.state()
    assert {"users", "videos", "jobs", "mailbox"} <= set(state), list(state)
    assert mentions(state["videos"], video_id), state["videos"]
    assert mentions(state["jobs"], video_id), state["jobs"]

    # Without the cookies, the media path is CloudFront's 403.
    refused = media_get(cloud, video["playbackUrl"], None)
    assert refused.status == 403 and b"<Code>MissingKey</Code>" in refused.body, refused


def test_a_text_file_named_mp4_fails_with_an_understandable_error(cloud, user, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("These are my meeting notes, not a video.\n" * 200)
    created = upload(cloud, user, notes, "notes.mp4", "video/mp4")
    history: list = []
    video = wait_for(cloud, user, created["videoId"], {"ready", "failed"}, 120, history)
    print("status history:", history)
    print("error:", video["error"])
    assert video["status"] == "failed", video
    error = video["error"]
    assert isinstance(error, str) and error.strip(), video
    lowered = error.lower()
    assert any(phrase in lowered for phrase in ("no video stream", "not a video", "isn't a video",
                                                "not a valid video", "no video")), error
    assert "\n" not in error.strip() and len(error) <= 300, error
    assert str(cloud.data) not in error and "/tmp/" not in error, error
    assert video["playbackUrl"] is None and video["progress"] is None, video
    assert video["title"] == "notes"
    # It stays failed.
    time.sleep(2)
    assert get_video(cloud, user, created["videoId"])["status"] == "failed"
    assert mentions(cloud.state()["jobs"], created["videoId"])


def test_a_playlist_named_mp4_cannot_make_the_pipeline_read_other_files(cloud, user, clip, tmp_path):
    # An HLS playlist is a text file ffmpeg recognises by its content, whatever its name; this one
    # names a video elsewhere on the machine (here the test's clip; it could be another user's
    # upload or the data folder's keys). The pipeline must not read it into a "converted" video.
    playlist = tmp_path / "holiday.mp4"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n{clip}\n#EXT-X-ENDLIST\n")
    created = upload(cloud, user, playlist, "holiday.mp4", "video/mp4")
    video = wait_for(cloud, user, created["videoId"], {"ready", "failed"}, 120, [])
    assert video["status"] == "failed", f"the pipeline read {clip} through the playlist: {video}"
    assert "not a video" in video["error"].lower() or "no video" in video["error"].lower(), video["error"]
    assert str(clip) not in video["error"] and video["playbackUrl"] is None, video


def test_ctrl_c_during_a_conversion_stops_at_once_and_the_conversion_resumes_at_the_next_start(tmp_path):
    """The server's own SIGINT handling: ffmpeg (which inherits the ignored SIGINT) is killed rather
    than waited for, and the job is queued again when the cloud starts next."""
    own = LocalCloud(require_binary(), tmp_path / "data")
    (tmp_path / "data").mkdir()
    own.start()
    try:
        person = register_user(own, f"ctrl-c-{uuid.uuid4().hex[:6]}@example.com")
        created = upload(own, person, make_clip(tmp_path / "take.avi", 20, "1280x720", quality=5), "take.avi", "video/x-msvideo")
        history: list = []
        video = wait_for(own, person, created["videoId"], {"converting", "ready", "failed"}, 120, history)
        assert video["status"] == "converting", f"conversion was not caught running: {history}"
        began = time.monotonic()
        assert own.stop(signal.SIGINT, timeout=30) == 0, own.output[-5:]
        assert time.monotonic() - began < 10, f"Ctrl-C took {time.monotonic() - began:.1f} s"
        leftovers = subprocess.run(["pgrep", "-af", "ffmpeg"], capture_output=True, text=True).stdout
        assert str(tmp_path) not in leftovers, leftovers
        assert any("stopped with the server" in line for line in own.output), own.output[-5:]
        own.start()
        assert wait_for(own, person, created["videoId"], {"ready", "failed"}, 300, history)["status"] == "ready", history
    finally:
        own.stop()


def test_a_conversion_killed_by_sigkill_finishes_after_a_restart(tmp_path):
    binary = require_binary()
    long_clip = make_clip(tmp_path / "long.avi", 60, "1280x720", quality=5)
    own = LocalCloud(binary, tmp_path / "data")
    (tmp_path / "data").mkdir()
    own.start()
    try:
        person = register_user(own, f"restart-{uuid.uuid4().hex[:6]}@example.com")
        created = upload(own, person, long_clip, "long take.avi", "video/x-msvideo")
        video_id = created["videoId"]
        history: list = []
        video = wait_for(own, person, video_id, {"converting", "ready", "failed"}, 120, history)
        assert video["status"] == "converting", f"conversion was not caught running: {history}"
        time.sleep(1.0)  # let ffmpeg write some output
        before = get_video(own, person, video_id)
        print("before the kill:", before["status"], before["progress"])
        own.kill()

        own.start()
        after_restart = get_video(own, person, video_id)
        print("after the restart:", after_restart["status"], after_restart["progress"])
        assert after_restart["status"] in {"queued", "converting", "ready"}, after_restart
        video = wait_for(own, person, video_id, {"ready", "failed"}, 400, history)
        print("status history:", history)
        assert video["status"] == "ready", video
        assert abs(video["durationSeconds"] - 60) < 1, video

        cookies = media_cookies(own, person["tokens"]["AccessToken"])
        played = media_get(own, video["playbackUrl"], cookies, timeout=120)
        assert played.status == 200, played
        mp4 = tmp_path / "long.mp4"
        mp4.write_bytes(played.body)
        check_mp4(mp4, 60)
        assert media_get(own, video["thumbnailUrl"], cookies).body[:2] == b"\xff\xd8"
        assert_temp_object_gone(own, created["key"])

        state = own.state()
        assert mentions(state["jobs"], video_id), state["jobs"]
        assert mentions(state["videos"], video_id), state["videos"]
        leftovers = subprocess.run(["pgrep", "-af", "ffmpeg"], capture_output=True, text=True).stdout
        print("ffmpeg processes still running:", [line for line in leftovers.splitlines() if str(tmp_path) in line])
    finally:
        own.stop()


def test_a_video_longer_than_the_longest_is_cut_there_and_its_owner_told(tmp_path):
    """`--longest-minutes 0.05`: three seconds. A 7-second clip is converted up to 3 s (the MP4 and
    the ladder), its minutes count 3 s, and the video says how long the original was."""
    own = LocalCloud(require_binary(), tmp_path / "data", extra_args=("--longest-minutes", "0.05"))
    (tmp_path / "data").mkdir()
    own.start()
    try:
        person = register_user(own, f"longest-{uuid.uuid4().hex[:6]}@example.com")
        created = upload(own, person, make_clip(tmp_path / "long.avi", 7, "320x240", quality=5), "long.avi", "video/x-msvideo")
        video = wait_for(own, person, created["videoId"], {"ready", "failed"}, 120, [])
        assert video["status"] == "ready", video
        assert abs(video["durationSeconds"] - 3) < 0.01, video
        assert abs(video["cutFromSeconds"] - 7) < 0.5, video
        cookies = media_cookies(own, person["tokens"]["AccessToken"])
        mp4 = tmp_path / "cut.mp4"
        mp4.write_bytes(media_get(own, video["playbackUrl"], cookies).body)
        assert abs(float(ffprobe(mp4)["format"]["duration"]) - 3) < 0.3, ffprobe(mp4)["format"]
        playlist = media_get(own, video["streamUrl"].replace("index.m3u8", "index_240p.m3u8"), cookies).body.decode()
        listed = sum(float(line.split(":")[1].rstrip(",")) for line in playlist.splitlines() if line.startswith("#EXTINF:"))
        assert abs(listed - 3) < 0.3, playlist
        usage = api_call(own, "GET", "/videos/usage", person["tokens"]["AccessToken"]).json()
        assert usage["usage"]["convertedMinutes"] == 1 and usage["limits"]["longestMinutes"] == 0.05, usage
        # A video shorter than the cap is converted whole and says nothing of a cut.
        short = upload(own, person, make_clip(tmp_path / "short.avi", 2, "320x240", quality=5), "short.avi", "video/x-msvideo")
        whole = wait_for(own, person, short["videoId"], {"ready", "failed"}, 120, [])
        assert whole["status"] == "ready" and whole["cutFromSeconds"] is None and abs(whole["durationSeconds"] - 2) < 0.5, whole
    finally:
        own.stop()


def test_the_sweeper_settles_a_video_whose_conversion_ended_without_it(tmp_path):
    """A completion that never reached the video (here written into the database while the cloud is
    stopped: a done job beside a video still `converting`, and a `queued` video with no job at all)
    is settled by the sweeper after the next start: ready, and failed with its reason."""
    own = LocalCloud(require_binary(), tmp_path / "data", extra_args=("--sweep-every", "0.5", "--sweep-after", "0"))
    (tmp_path / "data").mkdir()
    own.start()
    try:
        person = register_user(own, f"sweep-{uuid.uuid4().hex[:6]}@example.com")
        first = upload(own, person, make_clip(tmp_path / "a.avi", 2, "320x240", quality=5), "a.avi", "video/x-msvideo")
        second = upload(own, person, make_clip(tmp_path / "b.avi", 2, "320x240", quality=5), "b.avi", "video/x-msvideo")
        for created in (first, second):
            assert wait_for(own, person, created["videoId"], {"ready", "failed"}, 120, [])["status"] == "ready"
        own.stop()
        with sqlite3.connect(tmp_path / "data" / "cloud.sqlite") as db:
            db.execute("UPDATE videos SET status = 'converting', progress = 0.5 WHERE id = ?", (first["videoId"],))
            db.execute("UPDATE videos SET status = 'queued' WHERE id = ?", (second["videoId"],))
            db.execute("DELETE FROM jobs WHERE videoId = ?", (second["videoId"],))
        own.start()
        assert get_video(own, person, first["videoId"])["status"] in {"converting", "ready"}
        settled = wait_for(own, person, first["videoId"], {"ready", "failed"}, 30, [])
        assert settled["status"] == "ready" and settled["progress"] is None, settled
        lost = wait_for(own, person, second["videoId"], {"ready", "failed"}, 30, [])
        assert lost["status"] == "failed" and "lost" in lost["error"], lost
        assert any("sweep:" in line for line in own.output), own.output[-10:]
    finally:
        own.stop()
