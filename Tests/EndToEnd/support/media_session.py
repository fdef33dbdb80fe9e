"""The media session's signed cookies as the browser holds them, read and replaced through
Chromium's DevTools (they are HttpOnly, so no page script sees them): what the app suites use to
check the session and to make it run out mid-play."""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timedelta, timezone


def media_cookies_now(driver, app, user) -> list[dict]:
    """The media cookies the browser holds for the user's folder (HttpOnly: through DevTools)."""
    folder = app.url + f"/media/videos/{user['sub']}/"
    return [c for c in driver.execute_cdp_cmd("Network.getCookies", {"urls": [folder]})["cookies"]
            if c["name"].startswith("CloudFront-")]


def media_cookie_names(driver, app, user) -> set[str]:
    return {c["name"] for c in media_cookies_now(driver, app, user)}


def media_cookie_expiry(driver, app, user) -> int:
    """The DateLessThan of the policy the browser holds now (0 when none)."""
    for cookie in media_cookies_now(driver, app, user):
        if cookie["name"] == "CloudFront-Policy":
            text = cookie["value"].replace("-", "+").replace("_", "=").replace("~", "/")
            return json.loads(base64.b64decode(text))["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"]
    return 0


def expire_media_cookies(driver, app, user):
    """Replaces the browser's media cookies with ones signed by the local cloud's key (as botocore's
    CloudFrontSigner signs) whose policy ended a minute ago."""
    from botocore.signers import CloudFrontSigner
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    held = {c["name"]: c for c in media_cookies_now(driver, app, user)}
    assert set(held) == {"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"}, held
    key = serialization.load_pem_private_key((app.cloud.data / "media-key.pem").read_bytes(), password=None)
    signer = CloudFrontSigner(held["CloudFront-Key-Pair-Id"]["value"], lambda m: key.sign(m, padding.PKCS1v15(), hashes.SHA1()))
    policy = signer.build_policy(app.url + f"/media/videos/{user['sub']}/*",
                                 datetime.now(timezone.utc) - timedelta(minutes=1)).encode()
    values = {"CloudFront-Policy": signer._url_b64encode(policy).decode(),
              "CloudFront-Signature": signer._url_b64encode(signer.rsa_signer(policy)).decode()}
    for name, value in values.items():
        cookie = held[name]
        # By URL, not domain: the same host-only cookie the session set, replaced rather than doubled.
        driver.execute_cdp_cmd("Network.setCookie", {"name": name, "value": value, "url": app.url + cookie["path"],
                                                     "path": cookie["path"], "httpOnly": True, "sameSite": "Strict",
                                                     "expires": time.time() + 600})
    assert len(media_cookies_now(driver, app, user)) == 3, media_cookies_now(driver, app, user)
    assert media_cookie_expiry(driver, app, user) < time.time()
    # Media are cached `private` for a day; the next load must go to the server to meet the refusal.
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
