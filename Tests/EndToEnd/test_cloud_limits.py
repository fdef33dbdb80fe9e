"""Per-user limits on both hosts (the local cloud, and the production host of support/lambda_cloud.py):
`GET /videos/usage`, and the `403 LimitExceeded` refusals when an upload is asked for, when a
multipart upload completes and when a single PUT lands (its video fails before any conversion).

Everyone's limits in the suites are above the API's own sizes (local_cloud.LARGE_LIMITS); each test
gives its user their own lower limits as the owner does (`site cloud limits`, `infra/limits`'s item)."""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timezone

import pytest

from support.files import sha256_b64
from support.local_cloud import LocalCloud, api_call, http_request, register_user, token

GiB = 1024 ** 3
MiB = 1024 ** 2
LIMIT_FIELDS = {"error", "code", "limit", "allowed", "used", "requested"}


@pytest.fixture(scope="module")
def cloud(api_host):
    return api_host


def new_user(cloud, name: str) -> dict:
    return register_user(cloud, f"{name}-{uuid.uuid4().hex[:6]}@example.com")


def call(cloud, method, path, user, **kwargs):
    response = api_call(cloud, method, path, token(user), **kwargs)
    assert response.status < 500, (method, path, response)
    return response


def usage(cloud, user) -> dict:
    response = call(cloud, "GET", "/videos/usage", user)
    assert response.status == 200, response
    return response.json()


def upload_url(cloud, user, data: bytes | None = None, size: int | None = None):
    size = len(data) if size is None else size
    return call(cloud, "POST", "/videos/upload-url", user,
                body={"fileName": "clip.mp4", "contentType": "video/mp4", "size": size,
                      "checksumSHA256": sha256_b64(data if data is not None else b"never sent")})


def limit_refusal(response, limit: str) -> dict:
    assert response.status == 403, response
    body = response.json()
    assert set(body) == LIMIT_FIELDS and body["code"] == "LimitExceeded" and body["limit"] == limit, body
    assert isinstance(body["error"], str) and body["error"].strip(), body
    return body


def test_usage_reports_the_callers_own_videos_and_the_limits(cloud):
    ana, ben = new_user(cloud, "ana"), new_user(cloud, "ben")
    report = usage(cloud, ana)
    assert report["usage"] == {"storedBytes": 0, "videos": 0, "convertedMinutes": 0,
                               "month": datetime.now(timezone.utc).strftime("%Y-%m")}, report
    assert report["limits"] == {"storedBytes": 1048576 * GiB, "videos": 1000, "fileBytes": 5120 * GiB,
                                "convertedMinutesPerMonth": 600, "longestMinutes": 180}, report
    assert upload_url(cloud, ana, size=3000).status == 200
    assert usage(cloud, ana)["usage"]["storedBytes"] == 3000 and usage(cloud, ana)["usage"]["videos"] == 1
    assert usage(cloud, ben)["usage"]["storedBytes"] == 0
    cloud.set_user_limits(ana, stored_gib=7, minutes=30)
    assert usage(cloud, ana)["limits"] == {"storedBytes": 7 * GiB, "videos": 1000, "fileBytes": 5120 * GiB,
                                           "convertedMinutesPerMonth": 30, "longestMinutes": 180}
    assert usage(cloud, ben)["limits"]["storedBytes"] == 1048576 * GiB
    assert api_call(cloud, "GET", "/videos/usage", None).status == 401


def test_uploads_past_a_limit_are_refused_with_the_numbers(cloud):
    cleo = new_user(cloud, "cleo")
    cloud.set_user_limits(cleo, largest_gib=1, videos=2, stored_gib=2)
    body = limit_refusal(upload_url(cloud, cleo, size=GiB + 1), "fileBytes")
    assert (body["allowed"], body["used"], body["requested"]) == (GiB, 0, GiB + 1), body
    assert upload_url(cloud, cleo, size=GiB).status == 200
    multipart = call(cloud, "POST", "/videos/multipart", cleo,
                     body={"fileName": "b.mov", "contentType": "video/quicktime", "size": GiB + 1, "checksumAlgorithm": "SHA256"})
    limit_refusal(multipart, "fileBytes")
    cloud.set_user_limits(cleo, stored_gib=1)
    body = limit_refusal(upload_url(cloud, cleo, size=1), "storedBytes")
    assert (body["allowed"], body["used"], body["requested"]) == (GiB, GiB, 1), body
    cloud.set_user_limits(cleo, stored_gib=2)
    assert upload_url(cloud, cleo, size=1).status == 200
    body = limit_refusal(upload_url(cloud, cleo, size=1), "videos")
    assert (body["allowed"], body["used"], body["requested"]) == (2, 2, 1), body


def test_no_upload_is_taken_once_the_months_minutes_are_spent(cloud):
    dora = new_user(cloud, "dora")
    cloud.set_user_limits(dora, minutes=0)
    body = limit_refusal(upload_url(cloud, dora, size=10), "convertedMinutes")
    assert (body["allowed"], body["used"], body["requested"]) == (0, 0, 0), body


def test_a_single_put_that_lands_past_the_limit_fails_its_video(cloud):
    eve = new_user(cloud, "eve")
    data = os.urandom(2000)
    answer = upload_url(cloud, eve, data)
    assert answer.status == 200, answer
    upload = answer.json()
    # Lowered between the request and the upload: the landed object is checked again.
    cloud.set_user_limits(eve, stored_gib=0)
    put = http_request("PUT", upload["uploadUrl"], data, {"Content-Type": "video/mp4", "x-amz-checksum-sha256": sha256_b64(data)})
    assert put.status == 200, put
    deadline = time.monotonic() + 30
    while True:
        video = call(cloud, "GET", f"/videos/{upload['videoId']}", eve).json()
        if video["status"] in ("failed", "ready") or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert video["status"] == "failed" and "storage limit" in video["error"], video


def test_a_multipart_completion_past_the_limit_is_refused_and_removed(cloud):
    finn = new_user(cloud, "finn")
    data = os.urandom(6 * MiB)
    started = call(cloud, "POST", "/videos/multipart", finn,
                   body={"fileName": "b.mov", "contentType": "video/quicktime", "size": len(data), "checksumAlgorithm": "SHA256"})
    assert started.status == 200, started
    upload = started.json()
    size = upload["partSize"]
    chunks = [data[start:start + size] for start in range(0, len(data), size)]
    urls = call(cloud, "POST", "/videos/multipart/parts", finn,
                body={"key": upload["key"], "uploadId": upload["uploadId"],
                      "parts": [{"partNumber": n, "checksumSHA256": sha256_b64(c)} for n, c in enumerate(chunks, 1)]}).json()
    parts = []
    for entry, chunk in zip(urls["urls"], chunks):
        sent = http_request("PUT", entry["url"], chunk, {"x-amz-checksum-sha256": sha256_b64(chunk)})
        assert sent.status == 200, sent
        parts.append({"partNumber": entry["partNumber"], "etag": sent.headers["ETag"], "checksumSHA256": sha256_b64(chunk)})
    cloud.set_user_limits(finn, stored_gib=0)
    body = limit_refusal(call(cloud, "POST", "/videos/multipart/complete", finn,
                              body={"key": upload["key"], "uploadId": upload["uploadId"], "parts": parts}), "storedBytes")
    assert (body["allowed"], body["used"], body["requested"]) == (0, 0, len(data)), body
    assert call(cloud, "GET", f"/videos/{upload['videoId']}", finn).status == 404
    assert usage(cloud, finn)["usage"]["videos"] == 0


def test_a_completed_conversion_counts_its_minutes_rounded_up(cloud, tmp_path):
    """The local cloud converts (the production host of these suites runs no completion; there
    test_lambda_functions.py sends the job's end to `complete`)."""
    if not isinstance(cloud, LocalCloud):
        pytest.skip("the production host of the contract suites runs no conversion to its end")
    from support.files import make_clip
    from support.pipeline import upload as upload_file, wait_for
    gus = new_user(cloud, "gus")
    created = upload_file(cloud, gus, make_clip(tmp_path / "clip.avi", seconds=3, size="160x90"), "clip.avi", "video/x-msvideo")
    video = wait_for(cloud, gus, created["videoId"], {"ready", "failed"}, timeout=240)
    assert video["status"] == "ready", video
    assert usage(cloud, gus)["usage"]["convertedMinutes"] == 1
    cloud.set_user_limits(gus, minutes=0)
    body = limit_refusal(upload_url(cloud, gus, size=10), "convertedMinutes")
    assert (body["allowed"], body["used"]) == (0, 1), body
