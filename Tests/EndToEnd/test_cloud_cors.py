"""CORS of the local cloud, answered as production's would be: the dev server's origin may call
Cognito, the API and S3 (with ETag and the SHA-256 checksum exposed for uploads); any other origin
is refused."""

from __future__ import annotations

import uuid

from support.files import sha256_b64
from support.local_cloud import LocalCloud, api_call, http_request, register_user
from support.site import built_site

DEV = "http://127.0.0.1:8000"
EVIL = "https://evil.example"


def preflight(url: str, origin: str, method: str, headers: str):
    return http_request("OPTIONS", url, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                                 "Access-Control-Request-Headers": headers})


def test_preflight_from_the_dev_server_is_allowed_everywhere(cloud):
    for url, method, headers in [(cloud.api_url + "/videos/upload-url", "POST", "authorization,content-type"),
                                 (cloud.cognito_url + "/", "POST", "content-type,x-amz-target,x-amz-user-agent"),
                                 (cloud.s3_url + "/video-temp-conversion/uploads/x", "PUT", "content-type,x-amz-checksum-sha256")]:
        response = preflight(url, DEV, method, headers)
        assert response.status == 204, (url, response)
        assert response.headers["Access-Control-Allow-Origin"] == DEV
        assert method in response.headers["Access-Control-Allow-Methods"]
        assert response.headers["Access-Control-Allow-Headers"] == headers
        exposed = [name.strip() for name in response.headers["Access-Control-Expose-Headers"].split(",")]
        assert "ETag" in exposed and "x-amz-checksum-sha256" in exposed, exposed
        assert "Origin" in response.headers["Vary"]


def test_preflight_from_another_origin_is_refused(cloud):
    response = preflight(cloud.api_url + "/videos", EVIL, "GET", "authorization")
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_responses_carry_the_allowed_origin_only(cloud):
    user = register_user(cloud, f"cors-{uuid.uuid4().hex[:8]}@example.com")
    token = user["tokens"]["AccessToken"]
    allowed = api_call(cloud, "GET", "/videos", token, headers={"Origin": DEV})
    assert allowed.status == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == DEV
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    refused = api_call(cloud, "GET", "/videos", token, headers={"Origin": EVIL})
    assert "Access-Control-Allow-Origin" not in refused.headers

    # A browser's presigned PUT reads the ETag and checksum headers, which CORS must expose.
    checksum = sha256_b64(b"abcd")
    upload = api_call(cloud, "POST", "/videos/upload-url", token,
                      {"fileName": "a.mp4", "contentType": "video/mp4", "size": 4, "checksumSHA256": checksum}).json()
    put = http_request("PUT", upload["uploadUrl"], body=b"abcd",
                       headers={"Content-Type": "video/mp4", "x-amz-checksum-sha256": checksum, "Origin": DEV})
    assert put.status == 200
    assert put.headers["Access-Control-Allow-Origin"] == DEV
    assert put.headers["ETag"] and put.headers["x-amz-checksum-sha256"] == checksum
    exposed = [name.strip() for name in put.headers["Access-Control-Expose-Headers"].split(",")]
    assert {"ETag", "x-amz-checksum-sha256", "WWW-Authenticate", "Retry-After", "Date"} <= set(exposed), exposed


def test_allow_origin_replaces_the_default(tmp_path):
    custom = "http://localhost:5173"
    with LocalCloud(built_site(), tmp_path / "data", extra_args=("--allow-origin", custom)) as cloud:
        assert preflight(cloud.api_url + "/videos", custom, "GET", "authorization").status == 204
        assert preflight(cloud.api_url + "/videos", DEV, "GET", "authorization").status == 403
