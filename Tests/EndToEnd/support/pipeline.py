"""The local cloud's conversion pipeline as its suites drive it: the `site` binary with ffmpeg
beside it, a video uploaded through the API (one presigned PUT with its SHA-256), and its record
read and polled until it reaches a status."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .files import FFMPEG, FFPROBE, sha256_b64
from .local_cloud import api_call, http_request
from .site import built_site


def require_binary() -> Path:
    binary = built_site()
    if not Path(FFMPEG).exists() or not Path(FFPROBE).exists():
        pytest.fail("ffmpeg/ffprobe are not installed: scripts/install-deps test installs them")
    return binary


def get_video(cloud, user, video_id) -> dict:
    response = api_call(cloud, "GET", f"/videos/{video_id}", user["tokens"]["AccessToken"])
    assert response.status == 200, response
    video = response.json()
    assert set(video) == {"id", "title", "status", "sizeBytes", "durationSeconds", "createdAt", "playbackUrl",
                          "thumbnailUrl", "streamUrl", "error", "progress", "cutFromSeconds"}, video
    return video


def upload(cloud, user, path: Path, file_name: str, content_type: str) -> dict:
    data = path.read_bytes()
    checksum = sha256_b64(data)
    response = api_call(cloud, "POST", "/videos/upload-url", user["tokens"]["AccessToken"],
                        body={"fileName": file_name, "contentType": content_type, "size": len(data), "checksumSHA256": checksum})
    assert response.status == 200, response
    created = response.json()
    put = http_request("PUT", created["uploadUrl"], data, {"Content-Type": content_type, "x-amz-checksum-sha256": checksum},
                       timeout=300)
    assert put.status == 200, put
    return created


def wait_for(cloud, user, video_id, statuses, timeout: float, history: list | None = None) -> dict:
    """Polls the video until its status is in `statuses`; records (status, progress) changes."""
    history = [] if history is None else history
    deadline = time.monotonic() + timeout
    while True:
        video = get_video(cloud, user, video_id)
        step = (video["status"], video["progress"])
        if not history or history[-1] != step:
            history.append(step)
        if video["status"] in statuses:
            return video
        if time.monotonic() > deadline:
            raise AssertionError(f"video {video_id} still {video['status']} after {timeout:.0f} s; "
                                 f"history {history}; server output:\n{''.join(cloud.output[-40:])}")
        time.sleep(0.2)
