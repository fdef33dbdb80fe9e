"""Media on the site's origin behind CloudFront signed cookies, checked against an independent
implementation: botocore's CloudFrontSigner (with the `cryptography` package as its RSA signer).

- The cookies the local cloud's session call sets verify in Python (RSA-SHA1, PKCS#1 v1.5, over the
  decoded policy) and are byte for byte what botocore signs for the same policy.
- Cookies botocore signs with the local cloud's key open `/media/` exactly as CloudFront would let
  them: the folder they name and nothing else; tampered, expired, not-yet-valid, wrong-key,
  another-address, another-user and sibling-folder cookies all get CloudFront's 403.
- Sign-out's call clears the cookies on the path they were set on.
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from support.local_cloud import api_call, media_cookies, media_get, register_user  # `cloud`: conftest's fixture

MAIN = "video-main"


@pytest.fixture(scope="module")
def alice(cloud):
    return register_user(cloud, f"media-alice-{uuid.uuid4().hex[:6]}@example.com")


@pytest.fixture(scope="module")
def bob(cloud):
    return register_user(cloud, f"media-bob-{uuid.uuid4().hex[:6]}@example.com")


def origin(cloud) -> str:
    return cloud.api_url.rsplit("/api", 1)[0]


def private_key(cloud):
    return serialization.load_pem_private_key((cloud.data / "media-key.pem").read_bytes(), password=None)


def cf_decode(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


def botocore_cookies(key, key_id: str, resource: str, expires: datetime, starts: datetime | None = None,
                     address: str | None = None) -> dict[str, str]:
    """What a server using botocore would set: a custom policy and its signature, CloudFront-encoded."""
    signer = CloudFrontSigner(key_id, lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1()))
    policy = signer.build_policy(resource, expires, date_greater_than=starts, ip_address=address).encode()
    return {"CloudFront-Policy": signer._url_b64encode(policy).decode(),
            "CloudFront-Signature": signer._url_b64encode(signer.rsa_signer(policy)).decode(),
            "CloudFront-Key-Pair-Id": key_id}


def put_video(cloud, sub: str, body: bytes = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40) -> str:
    """An object at a ready video's key, without a conversion (the media path only reads the bucket)."""
    video_id = "".join(__import__("random").choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(25)) + "a"
    cloud.s3().put_object(Bucket=MAIN, Key=f"videos/{sub}/{video_id}/video.mp4", Body=body, ContentType="video/mp4")
    return f"/media/videos/{sub}/{video_id}/video.mp4"


def test_the_session_cookies_verify_in_python_and_match_botocore(cloud, alice):
    token = alice["tokens"]["AccessToken"]
    answer = api_call(cloud, "POST", "/session", token=token, headers={"Host": origin(cloud).split("//")[1]})
    assert answer.status == 200, answer
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.json()
    assert body["mediaPath"] == f"/media/videos/{alice['sub']}/", body
    lines = answer.headers.get_all("Set-Cookie")
    assert len(lines) == 3, lines
    for line in lines:
        # Plain http locally, so no Secure; the rest as production sets them.
        assert line.endswith(f"; Path=/media/videos/{alice['sub']}/; HttpOnly; SameSite=Strict; Max-Age={body['expiresIn']}"), line
    cookies = {line.split("=", 1)[0]: line.split("=", 1)[1].split(";", 1)[0] for line in lines}
    policy = cf_decode(cookies["CloudFront-Policy"])
    statement = json.loads(policy)["Statement"]
    assert len(statement) == 1 and statement[0]["Resource"] == f"{origin(cloud)}/media/videos/{alice['sub']}/*", statement
    expires = statement[0]["Condition"]["DateLessThan"]["AWS:EpochTime"]
    token_expiry = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["exp"]
    assert expires <= token_expiry and expires <= time.time() + 3600 + 5, (expires, token_expiry)
    assert datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00")).timestamp() == expires

    key = private_key(cloud)
    key.public_key().verify(cf_decode(cookies["CloudFront-Signature"]), policy, padding.PKCS1v15(), hashes.SHA1())
    signer = CloudFrontSigner(cookies["CloudFront-Key-Pair-Id"], lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))
    assert signer._url_b64encode(signer.rsa_signer(policy)).decode() == cookies["CloudFront-Signature"]
    # botocore writes the same compact policy for the same resource and time.
    rebuilt = signer.build_policy(statement[0]["Resource"], datetime.fromtimestamp(expires, timezone.utc))
    assert rebuilt.encode() == policy


def test_botocore_cookies_open_the_folder_they_name_and_nothing_else(cloud, alice, bob):
    key = private_key(cloud)
    key_id = media_cookies(cloud, alice["tokens"]["AccessToken"])["CloudFront-Key-Pair-Id"]
    mine, theirs = put_video(cloud, alice["sub"]), put_video(cloud, bob["sub"])
    sibling = put_video(cloud, alice["sub"][:-1] + ("0" if alice["sub"][-1] != "0" else "1"))
    soon = datetime.now(timezone.utc) + timedelta(minutes=10)
    folder = f"{origin(cloud)}/media/videos/{alice['sub']}/*"
    good = botocore_cookies(key, key_id, folder, soon)

    whole = media_get(cloud, mine, good)
    assert whole.status == 200 and whole.headers["Content-Type"] == "video/mp4", whole
    ranged = media_get(cloud, mine, good, headers={"Range": "bytes=8-15"})
    assert ranged.status == 206 and ranged.body == whole.body[8:16], ranged

    def refused(path, cookies, code=b"AccessDenied"):
        answer = media_get(cloud, path, cookies)
        assert answer.status == 403 and b"<Code>" + code + b"</Code>" in answer.body, answer
        assert not answer.body.startswith(whole.body[:8])

    refused(theirs, good)                      # another user's folder
    refused(sibling, good)                     # a folder whose name only starts like this one
    refused(mine, None, b"MissingKey")         # no cookies at all
    refused(mine, {**good, "CloudFront-Key-Pair-Id": "KNOTOURKEY0001"})
    widened = botocore_cookies(key, key_id, f"{origin(cloud)}/media/*", soon)
    refused(theirs, {**good, "CloudFront-Policy": widened["CloudFront-Policy"]})   # tampered policy
    refused(mine, botocore_cookies(key, key_id, folder, datetime.now(timezone.utc) - timedelta(seconds=5)))  # expired
    refused(mine, botocore_cookies(key, key_id, folder, soon, starts=datetime.now(timezone.utc) + timedelta(minutes=5)))
    refused(mine, botocore_cookies(key, key_id, folder, soon, address="192.0.2.0/24"))  # another address
    assert media_get(cloud, mine, botocore_cookies(key, key_id, folder, soon, address="127.0.0.0/8")).status == 200
    stranger = serialization.load_pem_private_key(
        __import__("subprocess").run(["openssl", "genrsa", "2048"], capture_output=True, check=True).stdout, password=None)
    refused(mine, botocore_cookies(stranger, key_id, folder, soon))   # signed by another key
    # The cookies are for this origin: the same path on another host name is refused.
    assert media_get(cloud, mine, good, headers={"Host": "localhost:" + origin(cloud).rsplit(":", 1)[1]}).status == 403
    # A missing key inside the folder is S3's 403 through CloudFront (no listing), not a 404.
    refused(mine.replace("video.mp4", "nothing.mp4"), good)
    # GET and HEAD only.
    from support.local_cloud import http_request, cookie_header
    posted = http_request("POST", origin(cloud) + mine, b"x", {"Cookie": cookie_header(good)})
    assert posted.status == 403, posted


def test_sign_out_clears_the_cookies_on_their_path(cloud, alice):
    answer = api_call(cloud, "DELETE", "/session", token=alice["tokens"]["AccessToken"])
    assert answer.status == 204, answer
    assert answer.headers["Clear-Site-Data"] == '"cache"'
    lines = sorted(answer.headers.get_all("Set-Cookie"))
    assert lines == [f"{name}=; Path=/media/videos/{alice['sub']}/; HttpOnly; SameSite=Strict; Max-Age=0"
                     for name in ("CloudFront-Key-Pair-Id", "CloudFront-Policy", "CloudFront-Signature")], lines
    assert api_call(cloud, "POST", "/session").status == 401
