"""The local cloud's S3 against boto3 with nothing but the endpoint changed (path-style addressing,
the keys of the data folder), and against plain HTTP for presigned URLs and refused requests.

Contract: the buckets `video-temp-conversion` and `video-main` exist; objects, ranges, listings,
multipart uploads, presigned URLs and SigV4 behave as Amazon S3 does; error bodies are S3 XML;
keys are literal strings that never reach outside the data folder."""

from __future__ import annotations

import base64
import hashlib
import os
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from support.files import composite_sha256, sha256_b64
from support.local_cloud import LocalCloud, http_request
from support.site import built_site, site_binary

TEMP = "video-temp-conversion"
MAIN = "video-main"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    """A folder holding only the data folder, so anything written beside it shows."""
    return tmp_path_factory.mktemp("cloud-s3")


@pytest.fixture(scope="module")
def cloud(data_root):
    binary = built_site()
    data = data_root / "data"
    data.mkdir()
    started = LocalCloud(binary, data).start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def s3(cloud):
    return cloud.s3()


@pytest.fixture(scope="module")
def presigner(cloud):
    """botocore presigns with SigV2 unless told; the local cloud speaks SigV4."""
    return cloud.s3(signature_version="s3v4")


@pytest.fixture
def prefix() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}/"


# -- helpers ---------------------------------------------------------------------------------------
def error_of(excinfo) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"].get("Code"), response["ResponseMetadata"]["HTTPStatusCode"]


def xml_error(body: bytes) -> dict[str, str]:
    """The children of an S3 `<Error>` document, by tag (without any namespace)."""
    root = ET.fromstring(body)
    assert root.tag.rsplit("}", 1)[-1] == "Error", body
    fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in root}
    assert "Code" in fields and "Message" in fields, body
    return fields


def quoted_md5(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


def with_query_value(url: str, name: str, change) -> str:
    parts = urllib.parse.urlsplit(url)
    pairs = [(k, change(v) if k == name else v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)]
    assert any(k == name for k, _ in pairs), url
    query = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote, safe="")
    return urllib.parse.urlunsplit(parts._replace(query=query))


def flip_last_hex(text: str) -> str:
    return text[:-1] + ("0" if text[-1] != "0" else "1")


def all_paths(root: Path) -> set[Path]:
    return {path for path in root.rglob("*")}


# -- buckets, objects ------------------------------------------------------------------------------
def test_the_two_buckets_exist(s3):
    for bucket in (TEMP, MAIN):
        assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_put_get_head_delete_round_trip_with_type_metadata_and_md5_etag(s3, prefix):
    key = prefix + "hello.txt"
    body = b"hello, local cloud\n" * 100
    put = s3.put_object(Bucket=MAIN, Key=key, Body=body, ContentType="text/plain; charset=utf-8",
                        Metadata={"purpose": "e2e", "owner-name": "tests"})
    assert put["ETag"] == quoted_md5(body)

    got = s3.get_object(Bucket=MAIN, Key=key)
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain; charset=utf-8"
    assert got["Metadata"] == {"purpose": "e2e", "owner-name": "tests"}
    assert got["ETag"] == quoted_md5(body)
    assert got["ContentLength"] == len(body)

    head = s3.head_object(Bucket=MAIN, Key=key)
    assert head["ContentLength"] == len(body)
    assert head["ContentType"] == "text/plain; charset=utf-8"
    assert head["Metadata"] == {"purpose": "e2e", "owner-name": "tests"}
    assert head["ETag"] == quoted_md5(body)

    # Overwriting replaces the bytes, the type and the metadata.
    s3.put_object(Bucket=MAIN, Key=key, Body=b"second", ContentType="application/octet-stream")
    got = s3.get_object(Bucket=MAIN, Key=key)
    assert got["Body"].read() == b"second"
    assert got["ContentType"] == "application/octet-stream"
    assert got["Metadata"] == {}

    deleted = s3.delete_object(Bucket=MAIN, Key=key)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=MAIN, Key=key)
    assert error_of(missing) == ("NoSuchKey", 404)
    # Deleting a key that is not there is not an error in S3.
    assert s3.delete_object(Bucket=MAIN, Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_put_object_is_not_held_up_by_expect_100_continue(s3, prefix):
    """botocore sends PutObject and UploadPart with `Expect: 100-continue` and waits up to a second
    for the interim `100 Continue` before sending the body anyway; S3 answers it at once."""
    took = []
    for number in range(3):
        started = time.monotonic()
        s3.put_object(Bucket=MAIN, Key=f"{prefix}quick-{number}", Body=b"x" * 100)
        took.append(time.monotonic() - started)
    assert sorted(took)[1] < 0.5, f"PutObject took {took} s: no 100 Continue from the server?"


def test_empty_object(s3, prefix):
    key = prefix + "empty"
    assert s3.put_object(Bucket=MAIN, Key=key, Body=b"")["ETag"] == quoted_md5(b"")
    got = s3.get_object(Bucket=MAIN, Key=key)
    assert got["Body"].read() == b"" and got["ContentLength"] == 0


def test_missing_key_is_no_such_key_on_get_and_404_on_head(s3, prefix):
    with pytest.raises(ClientError) as got:
        s3.get_object(Bucket=MAIN, Key=prefix + "nothing-here")
    assert error_of(got) == ("NoSuchKey", 404)
    with pytest.raises(ClientError) as head:
        s3.head_object(Bucket=MAIN, Key=prefix + "nothing-here")
    assert error_of(head)[1] == 404


def test_unknown_bucket_is_no_such_bucket(cloud):
    bucket = "no-such-bucket-" + uuid.uuid4().hex[:8]
    # A fresh client (connection) per call: see the next test for connection reuse.
    for call in (lambda s3: s3.get_object(Bucket=bucket, Key="k"),
                 lambda s3: s3.put_object(Bucket=bucket, Key="k", Body=b"x"),
                 lambda s3: s3.list_objects_v2(Bucket=bucket)):
        with pytest.raises(ClientError) as refused:
            call(cloud.s3())
        assert error_of(refused) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as head:
        cloud.s3().head_bucket(Bucket=bucket)
    assert error_of(head)[1] == 404


def test_a_refused_request_with_a_body_leaves_the_connection_usable(cloud, prefix):
    """boto3 keeps connections alive: after an error answered before the body was read, the
    server must still read (or discard) that body, or close the connection. botocore sends
    `Expect: 100-continue` with PutObject; no retries here, so nothing hides a broken connection."""
    s3 = cloud.s3(retries={"total_max_attempts": 1})
    missing = "no-such-bucket-" + uuid.uuid4().hex[:8]
    for refusal in (lambda: s3.put_object(Bucket=missing, Key="k", Body=b"x"),
                    lambda: s3.put_object(Bucket=missing, Key="k", Body=b"x" * 1000),
                    lambda: s3.put_object(Bucket=MAIN, Key=prefix + "k", Body=b"x" * 1000, ContentMD5="AAAAAAAAAAAAAAAAAAAAAA=="),
                    lambda: s3.complete_multipart_upload(
                        Bucket=MAIN, Key=prefix + "k", UploadId="no-such-upload",
                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"' + "0" * 32 + '"'}]})):
        with pytest.raises(ClientError):
            refusal()
        listed = s3.list_objects_v2(Bucket=MAIN, Prefix=prefix)
        assert listed["ResponseMetadata"]["HTTPStatusCode"] == 200


# -- listing ---------------------------------------------------------------------------------------
def test_list_with_prefix_and_delimiter(s3, prefix):
    keys = ["a.txt", "b.txt", "dir1/x", "dir1/y", "dir2/sub/z", "dir10/w"]
    for key in keys:
        s3.put_object(Bucket=MAIN, Key=prefix + key, Body=key.encode())
    s3.put_object(Bucket=MAIN, Key=prefix.rstrip("/") + "-sibling/other", Body=b"not listed")

    flat = s3.list_objects_v2(Bucket=MAIN, Prefix=prefix)
    assert [o["Key"] for o in flat["Contents"]] == sorted(prefix + k for k in keys)
    assert flat["KeyCount"] == len(keys)
    assert flat["IsTruncated"] is False
    sizes = {o["Key"]: o["Size"] for o in flat["Contents"]}
    assert sizes[prefix + "dir1/x"] == len(b"dir1/x")
    etags = {o["Key"]: o["ETag"] for o in flat["Contents"]}
    assert etags[prefix + "a.txt"] == quoted_md5(b"a.txt")

    grouped = s3.list_objects_v2(Bucket=MAIN, Prefix=prefix, Delimiter="/")
    assert [o["Key"] for o in grouped.get("Contents", [])] == [prefix + "a.txt", prefix + "b.txt"]
    assert [p["Prefix"] for p in grouped.get("CommonPrefixes", [])] == [
        prefix + "dir1/", prefix + "dir10/", prefix + "dir2/"]

    nested = s3.list_objects_v2(Bucket=MAIN, Prefix=prefix + "dir2/", Delimiter="/")
    assert "Contents" not in nested or nested["Contents"] == []
    assert [p["Prefix"] for p in nested["CommonPrefixes"]] == [prefix + "dir2/sub/"]

    none = s3.list_objects_v2(Bucket=MAIN, Prefix=prefix + "zzz")
    assert none["KeyCount"] == 0 and not none.get("Contents")


def test_list_pagination_with_max_keys_continuation_token_and_start_after(s3, prefix):
    keys = sorted(prefix + f"item-{n:02d}" for n in range(7))
    for key in keys:
        s3.put_object(Bucket=MAIN, Key=key, Body=b"x")

    seen, pages, token = [], [], None
    while True:
        kwargs = {"Bucket": MAIN, "Prefix": prefix, "MaxKeys": 3}
        if token:
            kwargs["ContinuationToken"] = token
        page = s3.list_objects_v2(**kwargs)
        batch = [o["Key"] for o in page.get("Contents", [])]
        pages.append(len(batch))
        assert page["KeyCount"] == len(batch)
        seen += batch
        if not page["IsTruncated"]:
            assert not page.get("NextContinuationToken")
            break
        token = page["NextContinuationToken"]
        assert token
        assert len(pages) < 10, "pagination does not end"
    assert pages == [3, 3, 1]
    assert seen == keys

    after = s3.list_objects_v2(Bucket=MAIN, Prefix=prefix, StartAfter=keys[2])
    assert [o["Key"] for o in after["Contents"]] == keys[3:]
    after_page = s3.list_objects_v2(Bucket=MAIN, Prefix=prefix, StartAfter=keys[2], MaxKeys=2)
    assert [o["Key"] for o in after_page["Contents"]] == keys[3:5]
    assert after_page["IsTruncated"] is True

    # boto3's own paginator walks the same pages.
    paginator = s3.get_paginator("list_objects_v2")
    walked = [o["Key"] for page in paginator.paginate(Bucket=MAIN, Prefix=prefix, PaginationConfig={"PageSize": 2})
              for o in page.get("Contents", [])]
    assert walked == keys


@pytest.mark.parametrize("version", ["list_objects", "list_objects_v2"])
def test_pages_that_end_on_a_common_prefix_go_on_after_it(s3, prefix, version):
    """A page may end on a common prefix; the next one starts after every key under it (the
    marker or token names the prefix), so a paginator walks each entry once and ends."""
    keys = ["a/1", "a/2", "b/1", "c", "d/1"]
    for key in keys:
        s3.put_object(Bucket=MAIN, Key=prefix + key, Body=b"x")
    paginator = s3.get_paginator(version)
    entries = []
    for page in paginator.paginate(Bucket=MAIN, Prefix=prefix, Delimiter="/", PaginationConfig={"PageSize": 1}):
        entries += [p["Prefix"] for p in page.get("CommonPrefixes", [])] + [o["Key"] for o in page.get("Contents", [])]
        assert len(entries) < 20, "pagination does not end"
    assert entries == [prefix + name for name in ["a/", "b/", "c", "d/"]]


def test_a_prefix_in_decomposed_unicode_lists_its_keys(s3, prefix):
    """macOS writes "é" as e + U+0301: two code points, one character. The prefix matches, and the
    common prefix is cut at the delimiter, not a character off."""
    folder = prefix + "cafe\u0301/"
    for key in [folder + "menu.txt", folder + "photos/1.jpg", prefix + "cafe/other"]:
        s3.put_object(Bucket=MAIN, Key=key, Body=b"x")
    listed = s3.list_objects_v2(Bucket=MAIN, Prefix=folder, Delimiter="/")
    assert [o["Key"] for o in listed.get("Contents", [])] == [folder + "menu.txt"]
    assert [p["Prefix"] for p in listed.get("CommonPrefixes", [])] == [folder + "photos/"]


# -- ranges ----------------------------------------------------------------------------------------
@pytest.fixture
def ranged(s3, prefix):
    body = bytes(range(256)) * 4  # 1024 bytes, every offset distinguishable mod 256
    key = prefix + "ranged.bin"
    s3.put_object(Bucket=MAIN, Key=key, Body=body)
    return key, body


@pytest.mark.parametrize("header, start, end", [
    ("bytes=2-5", 2, 5),
    ("bytes=-4", 1020, 1023),
    ("bytes=10-", 10, 1023),
    ("bytes=1000-5000", 1000, 1023),  # an end past the object is clipped
    ("bytes=0-0", 0, 0),
])
def test_get_object_range(s3, ranged, header, start, end):
    key, body = ranged
    got = s3.get_object(Bucket=MAIN, Key=key, Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == body[start:end + 1]
    assert got["ContentRange"] == f"bytes {start}-{end}/{len(body)}"
    assert got["ContentLength"] == end - start + 1


def test_unsatisfiable_range_is_416_invalid_range(s3, ranged):
    key, body = ranged
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket=MAIN, Key=key, Range="bytes=5000-6000")
    assert error_of(refused) == ("InvalidRange", 416)


# -- multipart -------------------------------------------------------------------------------------
def test_multipart_upload_of_three_parts(s3, prefix):
    key = prefix + "multi.bin"
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(12345)]
    started = s3.create_multipart_upload(Bucket=MAIN, Key=key, ContentType="video/mp4",
                                         Metadata={"source": "e2e"})
    upload_id = started["UploadId"]
    assert upload_id and started["Key"] == key and started["Bucket"] == MAIN

    etags = []
    for number, data in enumerate(parts, start=1):
        sent = s3.upload_part(Bucket=MAIN, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
        assert sent["ETag"] == quoted_md5(data)
        etags.append(sent["ETag"])

    listed = s3.list_parts(Bucket=MAIN, Key=key, UploadId=upload_id)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3]
    assert [p["ETag"] for p in listed["Parts"]] == etags
    assert [p["Size"] for p in listed["Parts"]] == [len(p) for p in parts]

    # Not visible as an object before it is completed.
    with pytest.raises(ClientError) as early:
        s3.head_object(Bucket=MAIN, Key=key)
    assert error_of(early)[1] == 404

    done = s3.complete_multipart_upload(
        Bucket=MAIN, Key=key, UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]})
    expected = '"' + hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + '-3"'
    assert done["ETag"] == expected
    assert done["Key"] == key and done["Bucket"] == MAIN

    got = s3.get_object(Bucket=MAIN, Key=key)
    assert got["Body"].read() == b"".join(parts)
    assert got["ETag"] == expected
    assert got["ContentType"] == "video/mp4"
    assert got["Metadata"] == {"source": "e2e"}
    assert s3.head_object(Bucket=MAIN, Key=key)["ContentLength"] == sum(map(len, parts))

    # The upload is gone once completed.
    with pytest.raises(ClientError) as gone:
        s3.list_parts(Bucket=MAIN, Key=key, UploadId=upload_id)
    assert error_of(gone) == ("NoSuchUpload", 404)


def test_multipart_part_below_5_mib_that_is_not_the_last_is_entity_too_small(s3, prefix):
    key = prefix + "small-parts.bin"
    upload_id = s3.create_multipart_upload(Bucket=MAIN, Key=key)["UploadId"]
    etags = [s3.upload_part(Bucket=MAIN, Key=key, UploadId=upload_id, PartNumber=n, Body=b"x" * 1024)["ETag"]
             for n in (1, 2)]
    with pytest.raises(ClientError) as refused:
        s3.complete_multipart_upload(
            Bucket=MAIN, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]})
    assert error_of(refused) == ("EntityTooSmall", 400)
    with pytest.raises(ClientError) as absent:
        s3.head_object(Bucket=MAIN, Key=key)
    assert error_of(absent)[1] == 404
    s3.abort_multipart_upload(Bucket=MAIN, Key=key, UploadId=upload_id)


def test_multipart_wrong_part_etag_is_invalid_part(s3, prefix):
    key = prefix + "wrong-etag.bin"
    upload_id = s3.create_multipart_upload(Bucket=MAIN, Key=key)["UploadId"]
    s3.upload_part(Bucket=MAIN, Key=key, UploadId=upload_id, PartNumber=1, Body=b"only part")
    with pytest.raises(ClientError) as refused:
        s3.complete_multipart_upload(
            Bucket=MAIN, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"' + "0" * 32 + '"'}]})
    assert error_of(refused) == ("InvalidPart", 400)
    # A part number never uploaded is InvalidPart too.
    with pytest.raises(ClientError) as unknown:
        s3.complete_multipart_upload(
            Bucket=MAIN, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": quoted_md5(b"only part")}]})
    assert error_of(unknown) == ("InvalidPart", 400)
    s3.abort_multipart_upload(Bucket=MAIN, Key=key, UploadId=upload_id)


def test_abort_multipart_upload_then_list_parts_is_no_such_upload(s3, prefix):
    key = prefix + "aborted.bin"
    upload_id = s3.create_multipart_upload(Bucket=MAIN, Key=key)["UploadId"]
    s3.upload_part(Bucket=MAIN, Key=key, UploadId=upload_id, PartNumber=1, Body=b"part")
    aborted = s3.abort_multipart_upload(Bucket=MAIN, Key=key, UploadId=upload_id)
    assert aborted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as gone:
        s3.list_parts(Bucket=MAIN, Key=key, UploadId=upload_id)
    assert error_of(gone) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as no_part:
        s3.upload_part(Bucket=MAIN, Key=key, UploadId=upload_id, PartNumber=2, Body=b"late")
    assert error_of(no_part) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as absent:
        s3.head_object(Bucket=MAIN, Key=key)
    assert error_of(absent)[1] == 404


def test_unknown_upload_id_is_no_such_upload(s3, prefix):
    with pytest.raises(ClientError) as refused:
        s3.list_parts(Bucket=MAIN, Key=prefix + "x", UploadId="no-such-upload-" + uuid.uuid4().hex)
    assert error_of(refused) == ("NoSuchUpload", 404)


# -- SHA-256 checksums -----------------------------------------------------------------------------
def test_put_object_keeps_its_sha256_checksum_and_returns_it_when_asked(cloud, s3, prefix):
    key = prefix + "checked.bin"
    body = os.urandom(70_000)
    put = s3.put_object(Bucket=MAIN, Key=key, Body=body, ChecksumSHA256=sha256_b64(body))
    assert put["ChecksumSHA256"] == sha256_b64(body)
    assert put["ChecksumType"] == "FULL_OBJECT"

    head = s3.head_object(Bucket=MAIN, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == sha256_b64(body) and head["ChecksumType"] == "FULL_OBJECT"
    assert "ChecksumSHA256" not in s3.head_object(Bucket=MAIN, Key=key)
    got = s3.get_object(Bucket=MAIN, Key=key, ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == sha256_b64(body)
    assert got["Body"].read() == body  # botocore checks the body against the header as it reads
    # boto3 asks for checksums on every GetObject unless told not to.
    unasked = cloud.s3(response_checksum_validation="when_required").get_object(Bucket=MAIN, Key=key)
    assert "ChecksumSHA256" not in unasked and unasked["Body"].read() == body
    # A range is not the object the checksum is of.
    ranged = s3.get_object(Bucket=MAIN, Key=key, Range="bytes=0-99", ChecksumMode="ENABLED")
    assert ranged["Body"].read() == body[:100] and "ChecksumSHA256" not in ranged

    # boto3 computes it when asked for the algorithm (and sends x-amz-sdk-checksum-algorithm).
    computed = s3.put_object(Bucket=MAIN, Key=key, Body=b"second", ChecksumAlgorithm="SHA256")
    assert computed["ChecksumSHA256"] == sha256_b64(b"second")
    # An object put without one has none.
    s3.put_object(Bucket=MAIN, Key=key, Body=b"third")
    assert "ChecksumSHA256" not in s3.head_object(Bucket=MAIN, Key=key, ChecksumMode="ENABLED")


def test_put_object_whose_body_is_not_its_sha256_is_bad_digest_and_stores_nothing(s3, prefix):
    key = prefix + "corrupted.bin"
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=MAIN, Key=key, Body=b"what arrived", ChecksumSHA256=sha256_b64(b"what was sent"))
    assert error_of(refused) == ("BadDigest", 400)
    assert refused.value.response["Error"]["Message"] == "The SHA256 you specified did not match the calculated checksum."
    with pytest.raises(ClientError) as absent:
        s3.head_object(Bucket=MAIN, Key=key)
    assert error_of(absent)[1] == 404

    # A refused overwrite leaves the object that was there.
    s3.put_object(Bucket=MAIN, Key=key, Body=b"original")
    with pytest.raises(ClientError) as again:
        s3.put_object(Bucket=MAIN, Key=key, Body=b"replacement", ChecksumSHA256=sha256_b64(b"other"))
    assert error_of(again) == ("BadDigest", 400)
    assert s3.get_object(Bucket=MAIN, Key=key)["Body"].read() == b"original"


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(hashlib.md5(b"x").digest()).decode(),
                                   hashlib.sha256(b"x").hexdigest(), ""],
                         ids=["not base64", "16 bytes", "hex", "empty"])
def test_a_malformed_sha256_checksum_is_invalid_request(s3, prefix, value):
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=MAIN, Key=prefix + "malformed", Body=b"x", ChecksumSHA256=value)
    assert error_of(refused) == ("InvalidRequest", 400)
    with pytest.raises(ClientError) as absent:
        s3.head_object(Bucket=MAIN, Key=prefix + "malformed")
    assert error_of(absent)[1] == 404


def test_multipart_upload_with_sha256_checksums_gets_the_composite_checksum(s3, prefix):
    key = prefix + "checked-multi.bin"
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(4321)]
    started = s3.create_multipart_upload(Bucket=MAIN, Key=key, ChecksumAlgorithm="SHA256")
    assert started["ChecksumAlgorithm"] == "SHA256"
    upload_id = started["UploadId"]
    sent = []
    for number, data in enumerate(parts, start=1):
        answer = s3.upload_part(Bucket=MAIN, Key=key, UploadId=upload_id, PartNumber=number, Body=data,
                                ChecksumAlgorithm="SHA256")
        assert answer["ChecksumSHA256"] == sha256_b64(data)
        sent.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": answer["ChecksumSHA256"]})

    listed = s3.list_parts(Bucket=MAIN, Key=key, UploadId=upload_id)
    assert listed["ChecksumAlgorithm"] == "SHA256"
    assert [p["ChecksumSHA256"] for p in listed["Parts"]] == [sha256_b64(p) for p in parts]

    done = s3.complete_multipart_upload(Bucket=MAIN, Key=key, UploadId=upload_id, MultipartUpload={"Parts": sent})
    assert done["ChecksumSHA256"] == composite_sha256(parts)
    assert done["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=MAIN, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == composite_sha256(parts) and head["ChecksumType"] == "COMPOSITE"
    got = s3.get_object(Bucket=MAIN, Key=key, ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == composite_sha256(parts)
    assert got["Body"].read() == b"".join(parts)


def test_a_sha256_multipart_upload_refuses_parts_without_theirs(cloud, s3, prefix):
    key = prefix + "strict.bin"
    upload_id = s3.create_multipart_upload(Bucket=MAIN, Key=key, ChecksumAlgorithm="sha256")["UploadId"]
    # boto3 sends a CRC32 unless told otherwise; S3 names both algorithms in its refusal.
    with pytest.raises(ClientError) as crc32:
        s3.upload_part(Bucket=MAIN, Key=key, UploadId=upload_id, PartNumber=1, Body=b"part one")
    assert error_of(crc32) == ("InvalidRequest", 400)
    assert "expected checksum Type: sha256, actual checksum Type: crc32" in crc32.value.response["Error"]["Message"]
    bare = cloud.s3(request_checksum_calculation="when_required")
    with pytest.raises(ClientError) as none:
        bare.upload_part(Bucket=MAIN, Key=key, UploadId=upload_id, PartNumber=1, Body=b"part one")
    assert error_of(none) == ("InvalidRequest", 400)
    assert "actual checksum Type: null" in none.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as corrupted:
        s3.upload_part(Bucket=MAIN, Key=key, UploadId=upload_id, PartNumber=1, Body=b"part one",
                       ChecksumSHA256=sha256_b64(b"part 1"))
    assert error_of(corrupted) == ("BadDigest", 400)
    assert s3.list_parts(Bucket=MAIN, Key=key, UploadId=upload_id).get("Parts", []) == []

    etag = s3.upload_part(Bucket=MAIN, Key=key, UploadId=upload_id, PartNumber=1, Body=b"part one",
                          ChecksumSHA256=sha256_b64(b"part one"))["ETag"]
    # Complete needs each part's checksum, and the stored one.
    with pytest.raises(ClientError) as missing:
        s3.complete_multipart_upload(Bucket=MAIN, Key=key, UploadId=upload_id,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert error_of(missing) == ("InvalidRequest", 400)
    assert "It was missing for part 1" in missing.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as wrong:
        s3.complete_multipart_upload(Bucket=MAIN, Key=key, UploadId=upload_id, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": etag, "ChecksumSHA256": sha256_b64(b"part 1")}]})
    assert error_of(wrong) == ("InvalidPart", 400)
    done = s3.complete_multipart_upload(Bucket=MAIN, Key=key, UploadId=upload_id, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": etag, "ChecksumSHA256": sha256_b64(b"part one")}]})
    assert done["ChecksumSHA256"] == composite_sha256([b"part one"])


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "CRC64NVME"])
def test_multipart_upload_with_another_checksum_algorithm_is_refused(s3, prefix, algorithm):
    with pytest.raises(ClientError) as refused:
        s3.create_multipart_upload(Bucket=MAIN, Key=prefix + "crc", ChecksumAlgorithm=algorithm)
    assert error_of(refused) == ("InvalidRequest", 400)
    assert "SHA256" in refused.value.response["Error"]["Message"]


def test_presigned_put_with_a_signed_sha256_checksum(s3, presigner, prefix):
    key = prefix + "presigned-checked.bin"
    body = os.urandom(5000)
    checksum = sha256_b64(body)
    url = presigner.generate_presigned_url("put_object", Params={"Bucket": MAIN, "Key": key, "ChecksumSHA256": checksum},
                                           ExpiresIn=300)
    signed = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")
    assert "x-amz-checksum-sha256" in signed

    wrong_body = http_request("PUT", url, os.urandom(5000), {"x-amz-checksum-sha256": checksum})
    assert wrong_body.status == 400, wrong_body
    assert xml_error(wrong_body.body)["Code"] == "BadDigest"
    other_value = http_request("PUT", url, body, {"x-amz-checksum-sha256": sha256_b64(b"other")})
    assert other_value.status == 403, other_value
    assert xml_error(other_value.body)["Code"] == "SignatureDoesNotMatch"
    without = http_request("PUT", url, body)
    assert without.status == 403 and xml_error(without.body)["Code"] == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as absent:
        s3.head_object(Bucket=MAIN, Key=key)
    assert error_of(absent)[1] == 404

    put = http_request("PUT", url, body, {"x-amz-checksum-sha256": checksum})
    assert put.status == 200, put
    assert put.headers["x-amz-checksum-sha256"] == checksum
    assert s3.head_object(Bucket=MAIN, Key=key, ChecksumMode="ENABLED")["ChecksumSHA256"] == checksum


# -- presigned URLs and signatures -----------------------------------------------------------------
def test_presigned_put_and_get_work_with_plain_http(s3, presigner, prefix):
    key = prefix + "presigned.bin"
    body = os.urandom(4096)
    put_url = presigner.generate_presigned_url("put_object", Params={"Bucket": MAIN, "Key": key}, ExpiresIn=300)
    assert "X-Amz-Signature=" in put_url
    put = http_request("PUT", put_url, body)
    assert put.status == 200, put
    assert put.headers["ETag"] == quoted_md5(body)
    assert s3.get_object(Bucket=MAIN, Key=key)["Body"].read() == body

    get_url = presigner.generate_presigned_url("get_object", Params={"Bucket": MAIN, "Key": key}, ExpiresIn=300)
    got = http_request("GET", get_url)
    assert got.status == 200, got
    assert got.body == body
    ranged = http_request("GET", get_url, headers={"Range": "bytes=100-199"})
    assert ranged.status == 206 and ranged.body == body[100:200]

    head_url = presigner.generate_presigned_url("head_object", Params={"Bucket": MAIN, "Key": key}, ExpiresIn=300)
    head = http_request("HEAD", head_url)
    assert head.status == 200 and int(head.headers["Content-Length"]) == len(body)


def test_presigned_get_of_a_missing_key_is_no_such_key_xml(presigner, prefix):
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": MAIN, "Key": prefix + "absent"},
                                           ExpiresIn=300)
    got = http_request("GET", url)
    assert got.status == 404, got
    assert xml_error(got.body)["Code"] == "NoSuchKey"


def test_tampered_presigned_url_is_signature_does_not_match(s3, presigner, prefix):
    key, other = prefix + "signed.txt", prefix + "other.txt"
    s3.put_object(Bucket=MAIN, Key=key, Body=b"signed")
    s3.put_object(Bucket=MAIN, Key=other, Body=b"the other object's bytes")
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": MAIN, "Key": key}, ExpiresIn=300)
    assert http_request("GET", url).body == b"signed"

    bad_signature = with_query_value(url, "X-Amz-Signature", flip_last_hex)
    got = http_request("GET", bad_signature)
    assert got.status == 403, got
    assert xml_error(got.body)["Code"] == "SignatureDoesNotMatch"

    other_key = url.replace("/signed.txt?", "/other.txt?")
    assert other_key != url
    got = http_request("GET", other_key)
    assert got.status == 403, got
    assert xml_error(got.body)["Code"] == "SignatureDoesNotMatch"
    assert b"the other object's bytes" not in got.body

    longer = with_query_value(url, "X-Amz-Expires", lambda v: str(int(v) + 1))
    got = http_request("GET", longer)
    assert got.status == 403, got
    assert xml_error(got.body)["Code"] == "SignatureDoesNotMatch"


def test_expired_presigned_url_is_access_denied(s3, presigner, prefix):
    key = prefix + "short-lived.txt"
    s3.put_object(Bucket=MAIN, Key=key, Body=b"brief")
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": MAIN, "Key": key}, ExpiresIn=1)
    time.sleep(2.5)
    got = http_request("GET", url)
    assert got.status == 403, got
    error = xml_error(got.body)
    assert error["Code"] == "AccessDenied"
    assert "Request has expired" in error["Message"], error


def test_presigned_get_url_used_with_put_is_refused(s3, presigner, prefix):
    key = prefix + "read-only.txt"
    s3.put_object(Bucket=MAIN, Key=key, Body=b"original")
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": MAIN, "Key": key}, ExpiresIn=300)
    put = http_request("PUT", url, b"overwritten")
    assert put.status == 403, put
    assert xml_error(put.body)["Code"] == "SignatureDoesNotMatch"
    deleted = http_request("DELETE", url)
    assert deleted.status == 403, deleted
    assert s3.get_object(Bucket=MAIN, Key=key)["Body"].read() == b"original"


def test_wrong_secret_key_is_signature_does_not_match(cloud, prefix):
    key_id, _ = cloud.s3_keys()

    def wrong():  # a fresh client (connection) per call: see the connection reuse test
        return boto3.client("s3", region_name="us-east-1", endpoint_url=cloud.s3_url, aws_access_key_id=key_id,
                            aws_secret_access_key="not-the-secret-" + uuid.uuid4().hex,
                            config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}))
    for call in (lambda: wrong().put_object(Bucket=MAIN, Key=prefix + "forged", Body=b"x"),
                 lambda: wrong().list_objects_v2(Bucket=MAIN),
                 lambda: wrong().get_object(Bucket=MAIN, Key=prefix + "forged")):
        with pytest.raises(ClientError) as refused:
            call()
        assert error_of(refused) == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as absent:
        cloud.s3().head_object(Bucket=MAIN, Key=prefix + "forged")
    assert error_of(absent)[1] == 404


def test_unsigned_requests_are_access_denied(cloud, s3, prefix):
    key = prefix + "private.txt"
    s3.put_object(Bucket=MAIN, Key=key, Body=b"private")
    url = f"{cloud.s3_url}/{MAIN}/{urllib.parse.quote(key)}"
    for method, body in (("GET", None), ("HEAD", None), ("PUT", b"anonymous"), ("DELETE", None)):
        got = http_request(method, url, body)
        assert got.status == 403, (method, got)
        if method != "HEAD":
            assert xml_error(got.body)["Code"] == "AccessDenied", (method, got)
    listing = http_request("GET", f"{cloud.s3_url}/{MAIN}?list-type=2")
    assert listing.status == 403 and xml_error(listing.body)["Code"] == "AccessDenied"

    anonymous = boto3.client("s3", region_name="us-east-1", endpoint_url=cloud.s3_url,
                             config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}))
    with pytest.raises(ClientError) as refused:
        anonymous.get_object(Bucket=MAIN, Key=key)
    assert error_of(refused) == ("AccessDenied", 403)
    assert s3.get_object(Bucket=MAIN, Key=key)["Body"].read() == b"private"


# -- literal keys ----------------------------------------------------------------------------------
ODD_KEYS = [
    "with space.txt",
    "ünïcødé/文件 🎬.mp4",
    "a+b.txt",
    "a b.txt",
    "100%.txt",
    "100%25.txt",
    "a/../b",
    "b",
    "./dot",
    "a//double",
    "trailing/",
    "query?x=1&y=2#frag",
    "~tilde=eq;semi,comma'quote\"",
]


def test_odd_keys_round_trip_as_literal_keys(s3, prefix):
    contents = {prefix + key: f"content of {key!r}".encode() for key in ODD_KEYS}
    for key, body in contents.items():
        assert s3.put_object(Bucket=MAIN, Key=key, Body=body)["ETag"] == quoted_md5(body), key
    for key, body in contents.items():
        assert s3.get_object(Bucket=MAIN, Key=key)["Body"].read() == body, key
        assert s3.head_object(Bucket=MAIN, Key=key)["ContentLength"] == len(body), key
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=MAIN, Prefix=prefix)["Contents"]]
    assert sorted(listed) == sorted(contents), listed
    for key in contents:
        s3.delete_object(Bucket=MAIN, Key=key)
    assert not s3.list_objects_v2(Bucket=MAIN, Prefix=prefix).get("Contents")


def test_odd_keys_work_through_presigned_urls(presigner, s3, prefix):
    for name in ("with space.txt", "ünïcødé 🎬.mp4", "a+b.txt", "100%.txt", "a/../b"):
        key = prefix + name
        put_url = presigner.generate_presigned_url("put_object", Params={"Bucket": MAIN, "Key": key}, ExpiresIn=300)
        put = http_request("PUT", put_url, name.encode())
        assert put.status == 200, (name, put)
        assert s3.get_object(Bucket=MAIN, Key=key)["Body"].read() == name.encode()
        get_url = presigner.generate_presigned_url("get_object", Params={"Bucket": MAIN, "Key": key}, ExpiresIn=300)
        got = http_request("GET", get_url)
        assert got.status == 200 and got.body == name.encode(), (name, got)


def test_dot_dot_keys_never_escape_the_data_folder(cloud, s3, data_root):
    marker = "escape-" + uuid.uuid4().hex[:12]
    keys = ["../" * depth + marker for depth in (1, 2, 3, 6, 12)]
    keys += ["a/" + "../" * 8 + marker, "..", "../..", "/" + marker, "//" + marker]
    before = all_paths(data_root.parent)
    for bucket in (MAIN, TEMP):
        for key in keys:
            body = f"{bucket}:{key}".encode()
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body, key
        listed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="").get("Contents", [])}
        assert set(keys) <= listed, sorted(set(keys) - listed)

    # Nothing was written beside the data folder, nor anywhere else a naive join would reach.
    assert sorted(p.name for p in data_root.iterdir()) == ["data"]
    created = {p for p in all_paths(data_root.parent) - before if data_root / "data" not in p.parents}
    assert not created, created
    for root in (Path("/"), Path("/tmp"), data_root.parent.parent, Path.cwd(), site_binary().parent):
        assert not (root / marker).exists(), root / marker

    for bucket in (MAIN, TEMP):
        for key in keys:
            s3.delete_object(Bucket=bucket, Key=key)
        with pytest.raises(ClientError) as gone:
            s3.head_object(Bucket=bucket, Key=keys[0])
        assert error_of(gone)[1] == 404
