"""Each user's request rate on the video API (Sources/VideoService/RequestRate.swift) in the local
cloud over HTTP: a burst past the bucket's capacity is answered 429 with `Retry-After` and the
contract's error body, another user is not slowed, and after the wait calls pass again. The cloud
runs with a small bucket (`--requests-at-once 5 --requests-per-second 1`); the production host's
DynamoDB bucket is tested in test_lambda_functions.py."""

from __future__ import annotations

import time
import uuid

import pytest

from support.local_cloud import LocalCloud, api_call, register_user, token
from support.site import built_site

CAPACITY = 5


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    started = LocalCloud(built_site(), tmp_path_factory.mktemp("cloud"),
                         extra_args=("--requests-at-once", str(CAPACITY), "--requests-per-second", "1")).start()
    try:
        yield started
    finally:
        started.stop()


def new_user(cloud) -> dict:
    return register_user(cloud, f"rate-{uuid.uuid4().hex[:6]}@example.com")


def burst(cloud, user, calls: int = 3 * CAPACITY) -> tuple[int, object]:
    """GET /videos until one is refused: how many passed, and the refusal (None if none was)."""
    for passed in range(calls):
        response = api_call(cloud, "GET", "/videos", token(user))
        if response.status != 200:
            return passed, response
    return calls, None


def test_a_burst_past_the_capacity_is_refused_with_retry_after_and_other_users_are_not(cloud):
    alice, bob = new_user(cloud), new_user(cloud)
    passed, refusal = burst(cloud, alice)
    # A call may come back while the burst runs (one a second), never more.
    assert CAPACITY <= passed <= CAPACITY + 2, passed
    assert refusal is not None and refusal.status == 429, refusal
    assert refusal.headers["Retry-After"] == "1", refusal.headers
    assert refusal.headers["Content-Type"].startswith("application/json")
    body = refusal.json()
    assert body["error"]["code"] == "TooManyRequests" and body["error"]["message"].strip(), body
    # Every route is counted, the refused calls spend nothing, and Bob's bucket is his own.
    assert api_call(cloud, "GET", "/videos/usage", token(alice)).status == 429
    assert api_call(cloud, "GET", "/videos", token(bob)).status == 200
    time.sleep(int(refusal.headers["Retry-After"]))
    assert api_call(cloud, "GET", "/videos", token(alice)).status == 200


def test_the_bucket_refills_at_its_rate_up_to_its_capacity(cloud):
    alice = new_user(cloud)
    assert burst(cloud, alice)[1].status == 429
    time.sleep(2.05)
    passed, refusal = burst(cloud, alice)
    assert passed in (2, 3) and refusal.status == 429, passed
    time.sleep(CAPACITY + 2)
    assert CAPACITY <= burst(cloud, alice)[0] <= CAPACITY + 2


def test_a_call_without_a_token_is_401_and_spends_nothing(cloud):
    alice = new_user(cloud)
    for _ in range(2 * CAPACITY):
        assert api_call(cloud, "GET", "/videos").status == 401
    assert burst(cloud, alice)[0] >= CAPACITY
