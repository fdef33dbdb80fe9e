"""The video API (Sources/LocalCloud/Resources/openapi.yaml) over plain HTTP with
`Authorization: Bearer <access token>`: every operation, the presigned S3 URLs it hands out,
isolation between two users, and refused input and tokens (schemathesis runs of the document are
in test_cloud_api_schemathesis.py).

One contract suite, two hosts: every test runs against the local cloud (`/api`) and against the
production host (support/lambda_cloud.py: API Gateway's JWT authorizer and payload 2.0 events in front of
the static Lambda bootstrap, moto's DynamoDB and S3 behind). moto checks neither presigned
signatures nor SHA-256 checksums, so where a test asserts what S3 refuses, the production host
checks instead that the URL signs what S3 would check (`cloud.strict_s3`).

Contract: error bodies are `{"error": {"code", "message"}}` (a 401 from API Gateway's authorizer is
its own `{"message": "Unauthorized"}`, as the document says); no request is answered 5xx."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
import time
import urllib.parse
import uuid
from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from support.files import composite_sha256, sha256_b64
from support.local_cloud import LocalCloud, api_call, http_request, register_user, token

MiB = 1024 * 1024
GiB = 1024 * MiB
VIDEO_ID = re.compile(r"^[a-z2-7]{25}[aeimquy4]$")
VIDEO_FIELDS = {"id", "title", "status", "sizeBytes", "durationSeconds", "createdAt", "playbackUrl",
                "thumbnailUrl", "streamUrl", "error", "progress", "cutFromSeconds"}
STATUSES = {"uploading", "queued", "converting", "ready", "failed"}
ERROR_CODES = {"BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "PayloadTooLarge",
               "TooManyRequests", "InternalError"}


@pytest.fixture(scope="module")
def cloud(api_host):
    """Every test runs on both hosts: conftest's `api_host`."""
    return api_host


def signed_headers(url: str) -> set[str]:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return set(query["X-Amz-SignedHeaders"][0].split(";"))


@pytest.fixture(scope="module")
def alice(cloud):
    return register_user(cloud, f"alice-{uuid.uuid4().hex[:6]}@example.com")


@pytest.fixture(scope="module")
def bob(cloud):
    return register_user(cloud, f"bob-{uuid.uuid4().hex[:6]}@example.com")


# -- helpers ---------------------------------------------------------------------------------------
def call(cloud, method, path, user=None, *, auth: str | None = None, **kwargs):
    """One API call; never a 5xx. A 429 is waited out (Retry-After) and retried a few times."""
    headers = dict(kwargs.pop("headers", None) or {})
    if auth is not None:
        headers["Authorization"] = auth
    for _ in range(5):
        response = api_call(cloud, method, path, token(user) if user and auth is None else None,
                            headers=headers, **kwargs)
        assert response.status < 500, (method, path, response)
        if response.status != 429:
            return response
        assert response.headers.get("Retry-After"), response
        time.sleep(min(int(response.headers["Retry-After"]), 30))
    return response


def ok(response, status: int = 200):
    assert response.status == status, response
    if status == 204:
        assert response.body == b"", response
        return None
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    return response.json()


def refused(response, status: int, code: str | None = None) -> dict:
    """Asserts an error response of `status` with the documented body; returns its `error`."""
    assert response.status == status, response
    assert response.headers.get("Content-Type", "").startswith("application/json"), (response, response.headers)
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    error = body["error"]
    assert error.get("code") in ERROR_CODES, body
    assert isinstance(error.get("message"), str) and error["message"].strip(), body
    if code is not None:
        assert error["code"] == code, body
    return error


def assert_video(video: dict):
    assert set(video) == VIDEO_FIELDS, sorted(video)
    assert VIDEO_ID.match(video["id"]), video
    assert isinstance(video["title"], str) and 1 <= len(video["title"]) <= 255, video
    assert video["status"] in STATUSES, video
    assert isinstance(video["sizeBytes"], int) and video["sizeBytes"] >= 1, video
    assert datetime.fromisoformat(video["createdAt"].replace("Z", "+00:00")).tzinfo is not None, video
    assert (video["playbackUrl"] is not None) == (video["status"] == "ready"), video
    assert (video["error"] is not None) == (video["status"] == "failed"), video
    if video["status"] != "converting":
        assert video["progress"] is None, video
    elif video["progress"] is not None:
        assert 0 <= video["progress"] <= 1, video


# The checksum declared for a file or part that a test never sends.
UNSENT = sha256_b64(b"never sent")


def new_upload(cloud, user, file_name="clip.mp4", content_type="video/mp4", size=None, data: bytes | None = None) -> dict:
    """POST /videos/upload-url for `data` (or `size` bytes never sent); the answer, plus the
    checksum it declared as `declared`."""
    size = len(data) if size is None else size
    checksum = UNSENT if data is None else sha256_b64(data)
    body = ok(call(cloud, "POST", "/videos/upload-url", user,
                  body={"fileName": file_name, "contentType": content_type, "size": size, "checksumSHA256": checksum}))
    assert set(body) >= {"uploadUrl", "key", "expiresIn", "videoId"}, body
    return {**body, "declared": checksum}


def put_upload(upload: dict, data: bytes, content_type: str = "video/mp4", checksum: str | None = None):
    """The presigned PUT, with the declared checksum unless told another."""
    return http_request("PUT", upload["uploadUrl"], data,
                        {"Content-Type": content_type, "x-amz-checksum-sha256": checksum or upload["declared"]})


def wait_until_not_uploading(cloud, user, video_id, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        video = ok(call(cloud, "GET", f"/videos/{video_id}", user))
        if video["status"] != "uploading" or time.monotonic() > deadline:
            return video
        time.sleep(0.25)


def start_multipart(cloud, user, size, file_name="big.mov", content_type="video/quicktime") -> dict:
    body = ok(call(cloud, "POST", "/videos/multipart", user,
                  body={"fileName": file_name, "contentType": content_type, "size": size, "checksumAlgorithm": "SHA256"}))
    assert set(body) >= {"key", "uploadId", "partSize", "videoId", "checksumAlgorithm"}, body
    assert body["checksumAlgorithm"] == "SHA256", body
    return body


def presign(cloud, user, upload, numbers, checksums: dict | None = None):
    """POST /videos/multipart/parts for `numbers`, each with its checksum in `checksums` (else UNSENT)."""
    parts = [{"partNumber": n, "checksumSHA256": (checksums or {}).get(n, UNSENT)} for n in numbers]
    return call(cloud, "POST", "/videos/multipart/parts", user,
                body={"key": upload["key"], "uploadId": upload["uploadId"], "parts": parts})


def put_part(url: str, chunk: bytes, checksum: str | None = None):
    """A part's presigned PUT with its checksum header (the chunk's own unless told another)."""
    return http_request("PUT", url, chunk, {"x-amz-checksum-sha256": checksum or sha256_b64(chunk)})


def chunks_of(upload, data: bytes) -> list[bytes]:
    size = upload["partSize"]
    return [data[start:start + size] for start in range(0, len(data), size)]


def send_parts(cloud, user, upload, data: bytes) -> list[dict]:
    chunks = chunks_of(upload, data)
    numbers = range(1, len(chunks) + 1)
    urls = ok(presign(cloud, user, upload, numbers, {n: sha256_b64(c) for n, c in zip(numbers, chunks)}))
    assert [u["partNumber"] for u in urls["urls"]] == list(numbers), urls
    parts = []
    for entry in urls["urls"]:
        number = entry["partNumber"]
        chunk = chunks[number - 1]
        sent = put_part(entry["url"], chunk)
        assert sent.status == 200, (number, sent)
        assert sent.headers["ETag"].strip('"') == hashlib.md5(chunk).hexdigest()
        if cloud.strict_s3:
            assert sent.headers["x-amz-checksum-sha256"] == sha256_b64(chunk)
        parts.append({"partNumber": number, "etag": sent.headers["ETag"], "checksumSHA256": sha256_b64(chunk)})
    return parts


def multipart_query(upload) -> dict:
    return {"key": upload["key"], "uploadId": upload["uploadId"]}


def first_part_length(upload, size: int) -> int:
    return min(upload["partSize"], size)


@pytest.fixture(scope="module")
def part_size(cloud, alice) -> int:
    """The partSize the server picks for a small file (learned once, then the upload is aborted)."""
    upload = start_multipart(cloud, alice, 6 * MiB, "probe.mov")
    ok(call(cloud, "DELETE", "/videos/multipart", alice, query=multipart_query(upload)), 204)
    return upload["partSize"]


# -- createUploadUrl and the presigned PUT ----------------------------------------------------------
def test_upload_url_put_and_the_video_it_creates(cloud, alice):
    data = os.urandom(3000)
    upload = new_upload(cloud, alice, "Holiday 2024.mp4", "video/mp4", data=data)
    assert VIDEO_ID.match(upload["videoId"]), upload
    assert upload["key"] == f"uploads/{alice['sub']}/{upload['videoId']}/Holiday 2024.mp4"
    assert isinstance(upload["expiresIn"], int) and 1 <= upload["expiresIn"] <= 604800
    parsed = urllib.parse.urlsplit(upload["uploadUrl"])
    assert parsed.scheme == "http" and parsed.hostname == "127.0.0.1", upload
    assert f"/{cloud.temp_bucket}/" in parsed.path, upload
    assert "X-Amz-Signature=" in parsed.query, upload

    video = ok(call(cloud, "GET", f"/videos/{upload['videoId']}", alice))
    assert_video(video)
    assert video["id"] == upload["videoId"]
    assert video["status"] == "uploading"
    assert video["title"] == "Holiday 2024"
    assert video["sizeBytes"] == len(data)
    assert video["durationSeconds"] is None and video["thumbnailUrl"] is None

    put = put_upload(upload, data)
    assert put.status == 200, put
    assert put.headers["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"'
    if cloud.strict_s3:
        assert put.headers["x-amz-checksum-sha256"] == sha256_b64(data)

    video = wait_until_not_uploading(cloud, alice, upload["videoId"])
    assert_video(video)
    assert video["status"] in {"queued", "converting", "failed"}, video


def test_presigned_put_refuses_another_length_or_type(cloud, alice):
    data = os.urandom(2048)
    upload = new_upload(cloud, alice, "exact.mp4", "video/mp4", data=data)
    assert signed_headers(upload["uploadUrl"]) == {"content-length", "content-type", "host", "x-amz-checksum-sha256"}
    if not cloud.strict_s3:
        return
    for body, content_type in ((data + b"x", "video/mp4"), (data[:-1], "video/mp4"),
                               (data, "video/quicktime"), (data, "application/octet-stream")):
        put = put_upload(upload, body, content_type)
        assert put.status == 403, (len(body), content_type, put)
    put = http_request("PUT", upload["uploadUrl"], data, {"x-amz-checksum-sha256": upload["declared"]})  # no Content-Type
    assert put.status == 403, put
    with pytest.raises(ClientError) as absent:
        cloud.s3().head_object(Bucket=cloud.temp_bucket, Key=upload["key"])
    assert absent.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert ok(call(cloud, "GET", f"/videos/{upload['videoId']}", alice))["status"] == "uploading"

    assert put_upload(upload, data).status == 200
    head = cloud.s3().head_object(Bucket=cloud.temp_bucket, Key=upload["key"])
    assert head["ContentLength"] == len(data) and head["ContentType"] == "video/mp4"


def test_presigned_put_refuses_a_body_whose_sha256_differs(cloud, alice):
    """The URL signs the declared SHA-256: S3 hashes what arrives and keeps nothing else; the
    header must be sent, with the declared value."""
    data = os.urandom(4096)
    upload = new_upload(cloud, alice, "checked.mp4", "video/mp4", data=data)
    assert "x-amz-checksum-sha256" in signed_headers(upload["uploadUrl"])
    if not cloud.strict_s3:
        return
    corrupted = bytearray(data)
    corrupted[1000] ^= 0x01
    put = put_upload(upload, bytes(corrupted))
    assert put.status == 400, put
    assert b"<Code>BadDigest</Code>" in put.body, put
    other = put_upload(upload, bytes(corrupted), checksum=sha256_b64(bytes(corrupted)))
    assert other.status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in other.body, other
    bare = http_request("PUT", upload["uploadUrl"], data, {"Content-Type": "video/mp4"})
    assert bare.status == 403, bare
    with pytest.raises(ClientError) as absent:
        cloud.s3().head_object(Bucket=cloud.temp_bucket, Key=upload["key"])
    assert absent.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert ok(call(cloud, "GET", f"/videos/{upload['videoId']}", alice))["status"] == "uploading"

    assert put_upload(upload, data).status == 200
    try:
        head = cloud.s3().head_object(Bucket=cloud.temp_bucket, Key=upload["key"], ChecksumMode="ENABLED")
        assert head["ChecksumSHA256"] == sha256_b64(data), head
    except ClientError:  # the pipeline may already have taken it
        pass


def test_unicode_file_name_is_kept_in_the_key_and_the_title(cloud, alice):
    name = "vídeo 🎬.mp4"
    data = b"\x00\x01unicode" * 100
    raw = json.dumps({"fileName": name, "contentType": "video/mp4", "size": len(data), "checksumSHA256": sha256_b64(data)},
                     ensure_ascii=False)
    upload = ok(call(cloud, "POST", "/videos/upload-url", alice, raw=raw.encode("utf-8")))
    assert upload["key"] == f"uploads/{alice['sub']}/{upload['videoId']}/{name}", upload
    upload["uploadUrl"].encode("ascii")  # a URI: the key is percent-encoded in it
    assert put_upload(upload, data, checksum=sha256_b64(data)).status == 200
    assert cloud.s3().get_object(Bucket=cloud.temp_bucket, Key=upload["key"])["Body"].read() == data
    video = ok(call(cloud, "GET", f"/videos/{upload['videoId']}", alice))
    assert video["title"] == "vídeo 🎬"

    # \u escapes (surrogate pairs) mean the same name.
    escaped = new_upload(cloud, alice, name, "video/mp4", size=10)
    assert escaped["key"].endswith("/" + name)


@pytest.mark.parametrize("file_name, title", [
    ("no-extension", "no-extension"),
    ("archive.tar.mp4", "archive.tar"),
    ("x" * 251 + ".mp4", "x" * 251),
    ("é" * 255, "é" * 255),  # 255 code points (510 bytes) is within the limit
])
def test_valid_file_names(cloud, alice, file_name, title):
    upload = new_upload(cloud, alice, file_name, "video/webm", size=10)
    assert upload["key"] == f"uploads/{alice['sub']}/{upload['videoId']}/{file_name}"
    assert ok(call(cloud, "GET", f"/videos/{upload['videoId']}", alice))["title"] == title


def test_size_limits_of_a_single_put(cloud, alice):
    upload = new_upload(cloud, alice, "five-gib.mp4", "video/mp4", size=5 * GiB)
    assert ok(call(cloud, "GET", f"/videos/{upload['videoId']}", alice))["sizeBytes"] == 5 * GiB
    refused(call(cloud, "POST", "/videos/upload-url", alice,
                 body={"fileName": "big.mp4", "contentType": "video/mp4", "size": 5 * GiB + 1, "checksumSHA256": UNSENT}),
            413, "PayloadTooLarge")


def test_size_limits_of_a_multipart_upload(cloud, alice):
    most = 5 * 1024 * GiB
    upload = start_multipart(cloud, alice, most)
    assert 5 * MiB <= upload["partSize"] <= 5 * GiB
    assert math.ceil(most / upload["partSize"]) <= 10000, upload
    ok(call(cloud, "DELETE", "/videos/multipart", alice, query=multipart_query(upload)), 204)
    refused(call(cloud, "POST", "/videos/multipart", alice,
                 body={"fileName": "huge.mov", "contentType": "video/quicktime", "size": most + 1, "checksumAlgorithm": "SHA256"}),
            413, "PayloadTooLarge")


# -- multipart -------------------------------------------------------------------------------------
def test_multipart_upload_presign_list_complete(cloud, alice, part_size):
    data = os.urandom(2 * part_size + 1234)
    upload = start_multipart(cloud, alice, len(data), "wedding cam.mov")
    assert upload["key"] == f"uploads/{alice['sub']}/{upload['videoId']}/wedding cam.mov"
    assert 5 * MiB <= upload["partSize"] <= 5 * GiB
    count = math.ceil(len(data) / upload["partSize"])
    video = ok(call(cloud, "GET", f"/videos/{upload['videoId']}", alice))
    assert video["status"] == "uploading" and video["sizeBytes"] == len(data) and video["title"] == "wedding cam"

    assert ok(call(cloud, "GET", "/videos/multipart/parts", alice, query=multipart_query(upload)))["parts"] == []

    urls = ok(presign(cloud, alice, upload, [1]))
    assert isinstance(urls["expiresIn"], int) and 1 <= urls["expiresIn"] <= 604800
    assert [u["partNumber"] for u in urls["urls"]] == [1]
    # Part numbers past ceil(size / partSize) are refused.
    refused(presign(cloud, alice, upload, [count + 1]), 400, "BadRequest")
    refused(presign(cloud, alice, upload, []), 400, "BadRequest")
    refused(presign(cloud, alice, upload, [1, 1]), 400, "BadRequest")
    refused(presign(cloud, alice, upload, [0]), 400, "BadRequest")
    refused(presign(cloud, alice, upload, range(1, 102)), 400, "BadRequest")

    parts = send_parts(cloud, alice, upload, data)
    assert len(parts) == count
    listed = ok(call(cloud, "GET", "/videos/multipart/parts", alice, query=multipart_query(upload)))["parts"]
    assert [p["partNumber"] for p in listed] == list(range(1, count + 1))
    assert [p["etag"].strip('"') for p in listed] == [p["etag"].strip('"') for p in parts]
    if cloud.strict_s3:  # moto's ListParts has no checksums
        assert [p["checksumSHA256"] for p in listed] == [sha256_b64(c) for c in chunks_of(upload, data)]
    assert sum(p["size"] for p in listed) == len(data)
    assert all(p["size"] == upload["partSize"] for p in listed[:-1])

    complete = {"key": upload["key"], "uploadId": upload["uploadId"], "parts": parts}
    if count > 1:
        refused(call(cloud, "POST", "/videos/multipart/complete", alice, body={**complete, "parts": parts[:-1]}),
                400, "BadRequest")
        refused(call(cloud, "POST", "/videos/multipart/complete", alice,
                     body={**complete, "parts": list(reversed(parts))}), 400, "BadRequest")
    wrong = [dict(parts[0], etag='"' + "0" * 32 + '"')] + parts[1:]
    refused(call(cloud, "POST", "/videos/multipart/complete", alice, body={**complete, "parts": wrong}),
            400, "BadRequest")
    refused(call(cloud, "POST", "/videos/multipart/complete", alice,
                 body={**complete, "parts": parts + [dict(parts[0], partNumber=count + 1)]}),
            400, "BadRequest")
    # Each part's checksum must be the one S3 computed for it.
    if cloud.strict_s3:
        swapped = [dict(parts[-1], checksumSHA256=parts[0]["checksumSHA256"])]
        error = refused(call(cloud, "POST", "/videos/multipart/complete", alice, body={**complete, "parts": parts[:-1] + swapped}),
                        400, "BadRequest")
        assert f"part {count}" in error["message"], error

    # ETags may be sent with or without their quotes.
    unquoted = [dict(p, etag=p["etag"].strip('"')) for p in parts]
    done = ok(call(cloud, "POST", "/videos/multipart/complete", alice, body={**complete, "parts": unquoted}))
    assert done["videoId"] == upload["videoId"] and done["key"] == upload["key"], done
    if cloud.strict_s3:  # moto answers no checksum
        assert done["checksumSHA256"] == composite_sha256(chunks_of(upload, data)), done
    try:
        head = cloud.s3().head_object(Bucket=cloud.temp_bucket, Key=upload["key"])
        assert head["ContentLength"] == len(data)
    except ClientError:  # the pipeline may already have taken it
        pass
    # S3's event queues the conversion (in production through SNS and SQS, so a moment later).
    video = wait_until_not_uploading(cloud, alice, upload["videoId"])
    assert_video(video)
    assert video["status"] in {"queued", "converting", "failed"}, video

    refused(call(cloud, "POST", "/videos/multipart/complete", alice, body=complete), 409, "Conflict")


def test_multipart_parts_of_the_wrong_size_are_refused(cloud, alice, part_size):
    """The part URLs sign each part's length (partSize, the remainder for the last), so a part of
    another size never reaches S3, and the upload cannot be completed without every part."""
    declared = part_size + 3000
    upload = start_multipart(cloud, alice, declared, "short.mov")
    count = math.ceil(declared / upload["partSize"])
    if count != 2:
        pytest.skip(f"partSize {upload['partSize']} gives {count} part(s)")
    one, two = chunks_of(upload, os.urandom(declared))
    first, second = ok(presign(cloud, alice, upload, [1, 2], {1: sha256_b64(one), 2: sha256_b64(two)}))["urls"]
    assert signed_headers(first["url"]) == signed_headers(second["url"]) == {"content-length", "host", "x-amz-checksum-sha256"}
    if not cloud.strict_s3:
        return
    assert put_part(first["url"], one[:-1], sha256_b64(one)).status == 403
    assert put_part(second["url"], b"too short", sha256_b64(two)).status == 403
    assert put_part(second["url"], two + b"x", sha256_b64(two)).status == 403
    sent = put_part(first["url"], one)
    assert sent.status == 200, sent
    parts = [{"partNumber": 1, "etag": sent.headers["ETag"], "checksumSHA256": sha256_b64(one)}]
    refused(call(cloud, "POST", "/videos/multipart/complete", alice,
                 body={"key": upload["key"], "uploadId": upload["uploadId"], "parts": parts}), 400, "BadRequest")
    assert ok(call(cloud, "GET", f"/videos/{upload['videoId']}", alice))["status"] == "uploading"
    last = put_part(second["url"], two)
    assert last.status == 200, last
    parts.append({"partNumber": 2, "etag": last.headers["ETag"], "checksumSHA256": sha256_b64(two)})
    ok(call(cloud, "POST", "/videos/multipart/complete", alice,
            body={"key": upload["key"], "uploadId": upload["uploadId"], "parts": parts}))


def test_a_part_whose_body_is_not_its_checksum_is_bad_digest(cloud, alice):
    upload = start_multipart(cloud, alice, 6 * MiB, "checked.mov")
    chunk = os.urandom(first_part_length(upload, 6 * MiB))
    url = ok(presign(cloud, alice, upload, [1], {1: sha256_b64(chunk)}))["urls"][0]["url"]
    assert "x-amz-checksum-sha256" in signed_headers(url)
    if not cloud.strict_s3:
        ok(call(cloud, "DELETE", "/videos/multipart", alice, query=multipart_query(upload)), 204)
        return
    corrupted = bytearray(chunk)
    corrupted[-1] ^= 0x80
    sent = put_part(url, bytes(corrupted), sha256_b64(chunk))
    assert sent.status == 400, sent
    assert b"<Code>BadDigest</Code>" in sent.body, sent
    assert put_part(url, bytes(corrupted)).status == 403  # another checksum breaks the signature
    assert http_request("PUT", url, chunk).status == 403  # and so does none
    assert ok(call(cloud, "GET", "/videos/multipart/parts", alice, query=multipart_query(upload)))["parts"] == []
    assert put_part(url, chunk).status == 200
    listed = ok(call(cloud, "GET", "/videos/multipart/parts", alice, query=multipart_query(upload)))["parts"]
    assert [(p["partNumber"], p["checksumSHA256"]) for p in listed] == [(1, sha256_b64(chunk))]
    ok(call(cloud, "DELETE", "/videos/multipart", alice, query=multipart_query(upload)), 204)


def test_abort_multipart_upload(cloud, alice):
    upload = start_multipart(cloud, alice, 6 * MiB, "abandoned.mov")
    chunk = os.urandom(first_part_length(upload, 6 * MiB))
    urls = ok(presign(cloud, alice, upload, [1], {1: sha256_b64(chunk)}))["urls"]
    assert put_part(urls[0]["url"], chunk).status == 200
    ok(call(cloud, "DELETE", "/videos/multipart", alice, query=multipart_query(upload)), 204)

    refused(call(cloud, "GET", f"/videos/{upload['videoId']}", alice), 404, "NotFound")
    assert upload["videoId"] not in {v["id"] for v in ok(call(cloud, "GET", "/videos", alice))["videos"]}
    refused(call(cloud, "GET", "/videos/multipart/parts", alice, query=multipart_query(upload)), 404, "NotFound")
    refused(presign(cloud, alice, upload, [1]), 404, "NotFound")
    refused(call(cloud, "DELETE", "/videos/multipart", alice, query=multipart_query(upload)), 404, "NotFound")
    with pytest.raises(ClientError) as gone:
        cloud.s3().list_parts(Bucket=cloud.temp_bucket, Key=upload["key"], UploadId=upload["uploadId"])
    assert gone.value.response["Error"]["Code"] == "NoSuchUpload"


def test_multipart_queries_need_key_and_upload_id(cloud, alice):
    upload = start_multipart(cloud, alice, 6 * MiB, "queries.mov")
    for method in ("GET", "DELETE"):
        path = "/videos/multipart/parts" if method == "GET" else "/videos/multipart"
        refused(call(cloud, method, path, alice, query={"key": upload["key"]}), 400, "BadRequest")
        refused(call(cloud, method, path, alice, query={"uploadId": upload["uploadId"]}), 400, "BadRequest")
        refused(call(cloud, method, path, alice), 400, "BadRequest")
        refused(call(cloud, method, path, alice, query={"key": "not a key", "uploadId": upload["uploadId"]}),
                400, "BadRequest")
    ok(call(cloud, "DELETE", "/videos/multipart", alice, query=multipart_query(upload)), 204)


# -- listVideos, getVideo, deleteVideo ---------------------------------------------------------------
def test_list_videos_newest_first(cloud, alice):
    made = []
    for name in ("first.mp4", "second.mp4", "third.mp4"):
        made.append(new_upload(cloud, alice, name, "video/mp4", size=100)["videoId"])
        time.sleep(1.1)
    videos = ok(call(cloud, "GET", "/videos", alice))["videos"]
    for video in videos:
        assert_video(video)
    ids = [v["id"] for v in videos]
    assert set(made) <= set(ids)
    assert [i for i in ids if i in made] == list(reversed(made))
    created = [datetime.fromisoformat(v["createdAt"].replace("Z", "+00:00")) for v in videos]
    assert created == sorted(created, reverse=True)
    assert len(ids) == len(set(ids))


def test_get_video_unknown_and_malformed_ids(cloud, alice):
    unknown = base64.b32encode(os.urandom(16)).decode().lower().rstrip("=")
    assert VIDEO_ID.match(unknown)
    refused(call(cloud, "GET", f"/videos/{unknown}", alice), 404, "NotFound")
    refused(call(cloud, "DELETE", f"/videos/{unknown}", alice), 404, "NotFound")
    for bad in ("abc", "K7D2QZ5XW3MFA4HNC6PTRV2BYE", "k7d2qz5xw3mfa4hnc6ptrv2byb", "..", "%2e%2e", "x" * 300):
        response = call(cloud, "GET", f"/videos/{bad}", alice)
        assert response.status in (400, 404), (bad, response)
        refused(response, response.status)


def test_delete_video_removes_the_record_and_the_upload(cloud, alice):
    data = os.urandom(500)
    upload = new_upload(cloud, alice, "delete-me.mp4", "video/mp4", data=data)
    assert put_upload(upload, data).status == 200
    ok(call(cloud, "DELETE", f"/videos/{upload['videoId']}", alice), 204)
    refused(call(cloud, "GET", f"/videos/{upload['videoId']}", alice), 404, "NotFound")
    assert upload["videoId"] not in {v["id"] for v in ok(call(cloud, "GET", "/videos", alice))["videos"]}
    with pytest.raises(ClientError) as gone:
        cloud.s3().head_object(Bucket=cloud.temp_bucket, Key=upload["key"])
    assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    refused(call(cloud, "DELETE", f"/videos/{upload['videoId']}", alice), 404, "NotFound")


def test_delete_video_while_uploading_and_during_a_multipart_upload(cloud, alice):
    single = new_upload(cloud, alice, "never-sent.mp4", "video/mp4", size=10)
    ok(call(cloud, "DELETE", f"/videos/{single['videoId']}", alice), 204)
    refused(call(cloud, "GET", f"/videos/{single['videoId']}", alice), 404, "NotFound")

    multi = start_multipart(cloud, alice, 6 * MiB, "half-sent.mov")
    ok(call(cloud, "DELETE", f"/videos/{multi['videoId']}", alice), 204)
    refused(call(cloud, "GET", "/videos/multipart/parts", alice, query=multipart_query(multi)), 404, "NotFound")
    with pytest.raises(ClientError) as gone:
        cloud.s3().list_parts(Bucket=cloud.temp_bucket, Key=multi["key"], UploadId=multi["uploadId"])
    assert gone.value.response["Error"]["Code"] == "NoSuchUpload"


# -- isolation -------------------------------------------------------------------------------------
def test_a_second_user_cannot_reach_the_first_users_videos_or_uploads(cloud, alice, bob):
    assert alice["sub"] != bob["sub"]
    data = os.urandom(700)
    mine = new_upload(cloud, alice, "private.mp4", "video/mp4", data=data)
    assert put_upload(mine, data).status == 200
    multi = start_multipart(cloud, alice, 6 * MiB, "private.mov")
    chunk = os.urandom(first_part_length(multi, 6 * MiB))
    first = ok(presign(cloud, alice, multi, [1], {1: sha256_b64(chunk)}))["urls"][0]
    assert put_part(first["url"], chunk).status == 200

    # Bob does not see, read or delete Alice's video.
    assert not {mine["videoId"], multi["videoId"]} & {v["id"] for v in ok(call(cloud, "GET", "/videos", bob))["videos"]}
    for video_id in (mine["videoId"], multi["videoId"]):
        refused(call(cloud, "GET", f"/videos/{video_id}", bob), 404, "NotFound")
        refused(call(cloud, "DELETE", f"/videos/{video_id}", bob), 404, "NotFound")

    # Alice's key in Bob's hands: 403.
    refused(presign(cloud, bob, multi, [1]), 403, "Forbidden")
    refused(call(cloud, "GET", "/videos/multipart/parts", bob, query=multipart_query(multi)), 403, "Forbidden")
    refused(call(cloud, "POST", "/videos/multipart/complete", bob,
                 body={**multipart_query(multi), "parts": [{"partNumber": 1, "etag": "0" * 32, "checksumSHA256": UNSENT}]}),
            403, "Forbidden")
    refused(call(cloud, "DELETE", "/videos/multipart", bob, query=multipart_query(multi)), 403, "Forbidden")

    # Alice's upload id under Bob's own prefix, or ids that do not exist: 404.
    bobs_key = f"uploads/{bob['sub']}/{multi['videoId']}/private.mov"
    unknown_video = base64.b32encode(os.urandom(16)).decode().lower().rstrip("=")
    for query in ({"key": bobs_key, "uploadId": multi["uploadId"]},
                  {"key": f"uploads/{bob['sub']}/{unknown_video}/x.mov", "uploadId": multi["uploadId"]},
                  {"key": f"uploads/{bob['sub']}/{unknown_video}/x.mov", "uploadId": "NoSuchUpload" + uuid.uuid4().hex}):
        refused(call(cloud, "POST", "/videos/multipart/parts", bob,
                     body={**query, "parts": [{"partNumber": 1, "checksumSHA256": UNSENT}]}), 404, "NotFound")
        refused(call(cloud, "GET", "/videos/multipart/parts", bob, query=query), 404, "NotFound")
        refused(call(cloud, "POST", "/videos/multipart/complete", bob,
                     body={**query, "parts": [{"partNumber": 1, "etag": "0" * 32, "checksumSHA256": UNSENT}]}), 404, "NotFound")
        refused(call(cloud, "DELETE", "/videos/multipart", bob, query=query), 404, "NotFound")

    # Bob's URLs are for Bob's keys only; pointing one at Alice's key breaks its signature.
    his = new_upload(cloud, bob, "private.mp4", "video/mp4", data=b"x" * len(data))
    assert his["key"].startswith(f"uploads/{bob['sub']}/")
    his_path = "/" + urllib.parse.quote(his["key"])
    hers_path = "/" + urllib.parse.quote(mine["key"])
    assert his_path in his["uploadUrl"], his["uploadUrl"]
    if cloud.strict_s3:  # moto does not check the signature, so it would take the PUT
        hijack = http_request("PUT", his["uploadUrl"].replace(his_path, hers_path), b"x" * len(data),
                              {"Content-Type": "video/mp4", "x-amz-checksum-sha256": his["declared"]})
        assert hijack.status == 403, hijack

    # Alice's things are untouched.
    assert ok(call(cloud, "GET", f"/videos/{mine['videoId']}", alice))["id"] == mine["videoId"]
    assert cloud.s3().get_object(Bucket=cloud.temp_bucket, Key=mine["key"])["Body"].read() == data
    parts = ok(call(cloud, "GET", "/videos/multipart/parts", alice, query=multipart_query(multi)))["parts"]
    assert [p["partNumber"] for p in parts] == [1]
    ok(call(cloud, "DELETE", "/videos/multipart", alice, query=multipart_query(multi)), 204)


# -- bad input -------------------------------------------------------------------------------------
GOOD = {"fileName": "clip.mp4", "contentType": "video/mp4", "size": 1000}
# Each way to start an upload: the common properties and its own.
GOOD_BODIES = {"/videos/upload-url": {**GOOD, "checksumSHA256": UNSENT},
               "/videos/multipart": {**GOOD, "checksumAlgorithm": "SHA256"}}


def without(name):
    return lambda good: {k: v for k, v in good.items() if k != name}


def changed(**values):
    return lambda good: {**good, **values}


BAD_BODIES = {
    "missing fileName": without("fileName"),
    "missing contentType": without("contentType"),
    "missing size": without("size"),
    "empty object": lambda good: {},
    "unknown field": changed(title="extra"),
    "unknown field videoId": changed(videoId="k7d2qz5xw3mfa4hnc6ptrv2bye"),
    "size as string": changed(size="1000"),
    "size fractional": changed(size=1.5),
    "size boolean": changed(size=True),
    "size null": changed(size=None),
    "size zero": changed(size=0),
    "size negative": changed(size=-1),
    "fileName number": changed(fileName=123),
    "fileName null": changed(fileName=None),
    "fileName list": changed(fileName=["a.mp4"]),
    "contentType null": changed(contentType=None),
    "contentType number": changed(contentType=5),
    "fileName empty": changed(fileName=""),
    "fileName 256 chars": changed(fileName="a" * 252 + ".mp4"),
    "fileName key over 1024 bytes": changed(fileName="🎬" * 255),
    "fileName ../": changed(fileName="../clip.mp4"),
    "fileName ..": changed(fileName=".."),
    "fileName .": changed(fileName="."),
    "fileName slash": changed(fileName="a/b.mp4"),
    "fileName leading slash": changed(fileName="/clip.mp4"),
    "fileName backslash": changed(fileName="a\\b.mp4"),
    "fileName ..\\": changed(fileName="..\\clip.mp4"),
    "fileName NUL": changed(fileName="a\u0000b.mp4"),
    "fileName newline": changed(fileName="a\nb.mp4"),
    "fileName tab": changed(fileName="a\tb.mp4"),
    "fileName DEL": changed(fileName="a\u007fb.mp4"),
    "fileName C1 control": changed(fileName="a\u0085b.mp4"),
    "contentType image": changed(contentType="image/png"),
    "contentType text": changed(contentType="text/plain"),
    "contentType octet-stream": changed(contentType="application/octet-stream"),
    "contentType empty": changed(contentType=""),
    "contentType video/ only": changed(contentType="video/"),
    "contentType with parameters": changed(contentType="video/mp4; codecs=avc1"),
    "contentType too long": changed(contentType="video/" + "x" * 200),
}

# What only one of the two takes, and values it refuses.
BAD_OWN = {
    "/videos/upload-url": {
        "missing checksumSHA256": without("checksumSHA256"),
        "checksumAlgorithm instead": lambda good: {**without("checksumSHA256")(good), "checksumAlgorithm": "SHA256"},
        "checksumSHA256 null": changed(checksumSHA256=None),
        "checksumSHA256 number": changed(checksumSHA256=5),
        "checksumSHA256 hex": changed(checksumSHA256=hashlib.sha256(b"x").hexdigest()),
        "checksumSHA256 of 16 bytes": changed(checksumSHA256=base64.b64encode(b"0" * 16).decode()),
        "checksumSHA256 unpadded": changed(checksumSHA256=UNSENT.rstrip("=")),
        "checksumSHA256 base64url": changed(checksumSHA256=sha256_b64(b"\xfb\xff").replace("+", "-").replace("/", "_")),
        "checksumSHA256 composite": changed(checksumSHA256=UNSENT + "-2"),
    },
    "/videos/multipart": {
        "missing checksumAlgorithm": without("checksumAlgorithm"),
        "checksumSHA256 instead": lambda good: {**without("checksumAlgorithm")(good), "checksumSHA256": UNSENT},
        "checksumAlgorithm lowercase": changed(checksumAlgorithm="sha256"),
        "checksumAlgorithm CRC32": changed(checksumAlgorithm="CRC32"),
        "checksumAlgorithm null": changed(checksumAlgorithm=None),
        "checksumAlgorithm list": changed(checksumAlgorithm=["SHA256"]),
    },
}
assert set("+/") & set(sha256_b64(b"\xfb\xff")), "the base64url case needs a + or / to differ"


@pytest.mark.parametrize("path", sorted(GOOD_BODIES))
@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_new_upload_bodies_are_400(cloud, alice, path, case):
    refused(call(cloud, "POST", path, alice, body=BAD_BODIES[case](GOOD_BODIES[path])), 400, "BadRequest")


@pytest.mark.parametrize("path, case", [(path, case) for path in sorted(BAD_OWN) for case in sorted(BAD_OWN[path])])
def test_bad_checksum_properties_are_400(cloud, alice, path, case):
    refused(call(cloud, "POST", path, alice, body=BAD_OWN[path][case](GOOD_BODIES[path])), 400, "BadRequest")


@pytest.mark.parametrize("path", ["/videos/upload-url", "/videos/multipart", "/videos/multipart/parts",
                                  "/videos/multipart/complete"])
@pytest.mark.parametrize("raw", [b"", b"{", b'{"fileName": "a.mp4",}', b"[]", b'"text"', b"null", b"42",
                                 b"\xff\xfe\x00", b'{"fileName": "a.mp4", "fileName": "b.mp4"'],
                         ids=["empty", "open brace", "trailing comma", "array", "string", "null", "number",
                              "not utf-8", "unterminated"])
def test_malformed_json_is_400(cloud, alice, path, raw):
    refused(call(cloud, "POST", path, alice, raw=raw), 400, "BadRequest")


def test_huge_size_numbers_are_refused(cloud, alice):
    for size in (10 ** 20, 2 ** 63, 1e300):
        response = call(cloud, "POST", "/videos/upload-url", alice, body={**GOOD_BODIES["/videos/upload-url"], "size": size})
        assert response.status in (400, 413), (size, response)
        refused(response, response.status)


KEY = "uploads/SUB/k7d2qz5xw3mfa4hnc6ptrv2bye/a.mp4"
PART = {"partNumber": 1, "checksumSHA256": UNSENT}


@pytest.mark.parametrize("body", [
    {"uploadId": "x", "parts": [PART]},
    {"key": "uploads/x", "uploadId": "x", "parts": [PART]},
    {"KEY": "x", "uploadId": "x", "parts": [PART], "extra": 1},
    {"key": KEY, "uploadId": "x", "parts": [{**PART, "partNumber": "1"}]},
    {"key": KEY, "uploadId": "x", "parts": [{**PART, "partNumber": 10001}]},
    {"key": KEY, "uploadId": "x", "parts": [{**PART, "partNumber": 0}]},
    {"key": KEY, "uploadId": "", "parts": [PART]},
    {"key": "uploads/SUB/k7d2qz5xw3mfa4hnc6ptrv2bye/../a.mp4", "uploadId": "x", "parts": [PART]},
    {"key": KEY, "uploadId": "x", "partNumbers": [1]},
    {"key": KEY, "uploadId": "x", "parts": [1]},
    {"key": KEY, "uploadId": "x", "parts": []},
    {"key": KEY, "uploadId": "x", "parts": [{"partNumber": 1}]},
    {"key": KEY, "uploadId": "x", "parts": [{**PART, "size": 5}]},
    {"key": KEY, "uploadId": "x", "parts": [{**PART, "checksumSHA256": hashlib.sha256(b"x").hexdigest()}]},
    {"key": KEY, "uploadId": "x", "parts": [{**PART, "checksumSHA256": None}]},
    {"key": KEY, "uploadId": "x", "parts": [PART, {**PART, "checksumSHA256": sha256_b64(b"other")}]},
    {"key": KEY, "uploadId": "x", "parts": [{**PART, "partNumber": n} for n in range(1, 102)]},
], ids=["missing key", "short key", "unknown field", "string part number", "part number too big", "part number zero",
        "empty upload id", "dot-dot in key", "partNumbers instead of parts", "bare numbers", "no parts",
        "part without checksum", "part with extra field", "hex checksum", "null checksum", "repeated part number",
        "101 parts"])
def test_bad_presign_parts_bodies_are_400(cloud, alice, body):
    body = json.loads(json.dumps(body).replace("SUB", alice["sub"]))
    refused(call(cloud, "POST", "/videos/multipart/parts", alice, body=body), 400, "BadRequest")


def test_bad_complete_bodies_are_400(cloud, alice):
    upload = start_multipart(cloud, alice, 6 * MiB, "complete-bad.mov")
    base = multipart_query(upload)
    part = {"partNumber": 1, "etag": "0" * 32, "checksumSHA256": UNSENT}
    for body in ({**base, "parts": []},
                 {**base},
                 {**base, "parts": [{"partNumber": 1}]},
                 {**base, "parts": [{**part, "etag": "not-an-etag"}]},
                 {**base, "parts": [{**part, "size": 5}]},
                 {**base, "parts": [{**part, "partNumber": 0}]},
                 {**base, "parts": [{"partNumber": 1, "etag": "0" * 32}]},
                 {**base, "parts": [{**part, "checksumSHA256": "0" * 44}]},
                 {**base, "parts": [{**part, "checksumSHA256": UNSENT + "-1"}]},
                 {**base, "parts": "1"},
                 {**base, "parts": [part], "extra": True}):
        refused(call(cloud, "POST", "/videos/multipart/complete", alice, body=body), 400, "BadRequest")
    ok(call(cloud, "DELETE", "/videos/multipart", alice, query=base), 204)


# -- tokens ----------------------------------------------------------------------------------------
OPERATIONS = [
    ("GET", "/videos", {}),
    ("POST", "/videos/upload-url", {"body": GOOD_BODIES["/videos/upload-url"]}),
    ("POST", "/videos/multipart", {"body": GOOD_BODIES["/videos/multipart"]}),
    ("POST", "/videos/multipart/parts", {"body": {"key": "k", "uploadId": "u", "parts": [PART]}}),
    ("GET", "/videos/multipart/parts", {"query": {"key": "k", "uploadId": "u"}}),
    ("POST", "/videos/multipart/complete", {"body": {"key": "k", "uploadId": "u", "parts": []}}),
    ("DELETE", "/videos/multipart", {"query": {"key": "k", "uploadId": "u"}}),
    ("GET", "/videos/k7d2qz5xw3mfa4hnc6ptrv2bye", {}),
    ("DELETE", "/videos/k7d2qz5xw3mfa4hnc6ptrv2bye", {}),
]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_parts(jwt: str) -> tuple[dict, dict]:
    header, payload, _ = jwt.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(header))), json.loads(base64.urlsafe_b64decode(pad(payload)))


def rs256(header: dict, claims: dict, private_key) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    signature = private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def pool_private_key(cloud):
    """The user pool's signing key as the local cloud keeps it in its data folder, if it is a PEM file."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    # (media-key.pem signs the media cookies, not tokens.)
    for path in sorted(cloud.data.rglob("*")):
        if path.is_file() and path.stat().st_size < 20000 and path.name != "media-key.pem":
            text = path.read_bytes()
            if b"PRIVATE KEY-----" in text:
                try:
                    return load_pem_private_key(text, password=None)
                except (ValueError, TypeError):
                    continue
    return None


def assert_unauthorized(cloud, auth: str | None, label: str):
    for method, path, kwargs in OPERATIONS:
        response = call(cloud, method, path, auth=auth, **kwargs) if auth is not None else \
            call(cloud, method, path, **kwargs)
        challenge = response.headers.get("WWW-Authenticate", "")
        assert challenge.lower().startswith("bearer"), (label, method, path, response.headers)
        if response.status == 401 and response.json() == {"message": "Unauthorized"} and not isinstance(cloud, LocalCloud):
            continue  # API Gateway's authorizer refused it before the function ran
        error = refused(response, 401, "Unauthorized")
        assert error["message"], label


def test_no_token_is_401(cloud):
    assert_unauthorized(cloud, None, "no token")


@pytest.mark.parametrize("auth", ["Bearer", "Bearer ", "Bearer garbage", "Bearer a.b.c",
                                  "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "Basic dXNlcjpwYXNz",
                                  "Token abc", "garbage"])
def test_garbage_tokens_are_401(cloud, auth):
    assert_unauthorized(cloud, auth, auth)


def test_id_token_instead_of_access_token_is_401(cloud, alice):
    assert_unauthorized(cloud, "Bearer " + alice["tokens"]["IdToken"], "id token")


def test_refresh_token_is_401(cloud, alice):
    assert_unauthorized(cloud, "Bearer " + alice["tokens"]["RefreshToken"], "refresh token")


def test_tampered_tokens_are_401(cloud, alice, bob):
    header, claims = jwt_parts(token(alice))
    assert claims.get("token_use") == "access", claims
    _, _, signature = token(alice).split(".")
    as_bob = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps({**claims, "sub": bob["sub"]}).encode())
    assert_unauthorized(cloud, "Bearer " + as_bob + "." + signature, "payload changed")
    later = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps({**claims, "exp": claims["exp"] + 3600}).encode())
    assert_unauthorized(cloud, "Bearer " + later + "." + signature, "exp changed")
    unsigned = b64url(json.dumps({"alg": "none", "kid": header.get("kid")}).encode()) + "." + \
        b64url(json.dumps(claims).encode()) + "."
    assert_unauthorized(cloud, "Bearer " + unsigned, "alg none")

    from cryptography.hazmat.primitives.asymmetric import rsa
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_unauthorized(cloud, "Bearer " + rs256(header, claims, stranger), "signed by another key")


def test_expired_access_token_is_401(cloud, alice):
    key = pool_private_key(cloud)
    if key is None:
        pytest.skip("no PEM private key in the data folder to sign an expired token with")
    header, claims = jwt_parts(token(alice))
    now = int(time.time())
    fresh = rs256(header, {**claims, "iat": now - 10, "exp": now + 600}, key)
    # The re-signed token is accepted, so the key is the pool's and only `exp` makes the difference.
    assert call(cloud, "GET", "/videos", auth="Bearer " + fresh).status == 200
    expired = rs256(header, {**claims, "iat": now - 7200, "auth_time": now - 7200, "exp": now - 60}, key)
    assert_unauthorized(cloud, "Bearer " + expired, "expired")


def test_access_token_with_another_client_id_is_401(cloud, alice):
    key = pool_private_key(cloud)
    if key is None:
        pytest.skip("no PEM private key in the data folder")
    header, claims = jwt_parts(token(alice))
    other = rs256(header, {**claims, "client_id": "someotherclient0000000000"}, key)
    assert_unauthorized(cloud, "Bearer " + other, "other client")
    other_issuer = rs256(header, {**claims, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}, key)
    assert_unauthorized(cloud, "Bearer " + other_issuer, "other issuer")
