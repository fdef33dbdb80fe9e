"""Tests of the end-to-end harness itself: the AWS peer and the fault proxy.

They need no `site` binary; they also pin down the peer behaviour that the
publish tests rely on, so a moto upgrade that changes it shows up here.
"""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import botocore.auth
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import BotoCoreError, ClientError

from support.aws_peer import Credentials

NO_RETRIES = {"total_max_attempts": 1}
MANY_RETRIES = {"max_attempts": 10, "mode": "standard"}


def error_code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def signed_s3_request(peer, endpoint_url: str, method: str, path: str, body=b"",
                      headers=None, chunked: bool = False) -> tuple[int, bytes]:
    """Sends one SigV4-signed S3 request with http.client, for the cases boto3
    won't produce (no checksum header at all, a chunked body)."""
    request = AWSRequest(method=method, url=endpoint_url + path, data=body,
                         headers=dict(headers or {}))
    creds = peer.credentials
    S3SigV4Auth(BotoCredentials(creds.access_key_id, creds.secret_access_key), "s3",
                peer.region).add_auth(request)
    host, port = urllib.parse.urlsplit(endpoint_url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        if chunked:
            halves = [body[:len(body) // 2], body[len(body) // 2:]]
            connection.request(method, path, body=iter(halves), headers=dict(request.headers),
                               encode_chunked=True)
        else:
            connection.request(method, path, body=body, headers=dict(request.headers))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# The peer


def test_bootstrap_left_no_unauthenticated_actions(peer):
    assert peer.client("s3").list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200

    wrong_secret = Credentials(peer.credentials.access_key_id, "not-the-secret")
    with pytest.raises(ClientError) as excinfo:
        peer.client("s3", credentials=wrong_secret, retries=NO_RETRIES).list_buckets()
    assert error_code(excinfo) == "SignatureDoesNotMatch"

    unknown_key = Credentials("AKIAUNKNOWNUNKNOWN00", "whatever")
    with pytest.raises(ClientError) as excinfo:
        peer.client("s3", credentials=unknown_key, retries=NO_RETRIES).list_buckets()
    assert error_code(excinfo) == "InvalidAccessKeyId"

    # moto answers an unsigned request with a 500 (it looks for the
    # Authorization header unguarded); any refusal will do here.
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(f"{peer.url}/", timeout=10)
    assert unsigned.value.code >= 400


def test_secret_with_plus_sign_is_accepted(peer):
    # moto's secrets are drawn from [A-Za-z0-9+/]; keep drawing until one has
    # a '+', the character said to upset it.
    iam = peer.client("iam")
    iam.create_user(UserName="plus-secret")
    iam.put_user_policy(UserName="plus-secret", PolicyName="s3",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    for _ in range(50):
        key = iam.create_access_key(UserName="plus-secret")["AccessKey"]
        if "+" in key["SecretAccessKey"]:
            break
        iam.delete_access_key(UserName="plus-secret", AccessKeyId=key["AccessKeyId"])
    assert "+" in key["SecretAccessKey"]
    s3 = peer.client("s3", credentials=Credentials(key["AccessKeyId"], key["SecretAccessKey"]),
                     retries=NO_RETRIES)
    assert "Buckets" in s3.list_buckets()


def test_assumed_role_credentials_work_and_need_their_token(peer, bucket):
    role_arn = peer.create_role("assume-role-test")
    assumed = peer.assume_role(role_arn)
    assert assumed.access_key_id.startswith("ASIA")
    s3 = peer.client("s3", credentials=assumed)
    s3.put_object(Bucket=bucket, Key="via-role", Body=b"role")
    assert s3.get_object(Bucket=bucket, Key="via-role")["Body"].read() == b"role"

    wrong_token = Credentials(assumed.access_key_id, assumed.secret_access_key, "forged")
    with pytest.raises(ClientError) as excinfo:
        peer.client("s3", credentials=wrong_token, retries=NO_RETRIES).list_buckets()
    assert error_code(excinfo) == "InvalidToken"


def test_web_identity_credentials_work(peer, bucket):
    role_arn = peer.create_role("web-identity-test")
    federated = peer.assume_role_with_web_identity(role_arn, token="header.payload.signature")
    s3 = peer.client("s3", credentials=federated)
    s3.put_object(Bucket=bucket, Key="via-web-identity", Body=b"oidc")
    assert s3.head_object(Bucket=bucket, Key="via-web-identity")["ContentLength"] == 4
    # allow_unauthenticated(1) was spent on the exchange: checks are back on.
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{peer.url}/", timeout=10)


def test_env_keeps_the_developers_aws_setup_out(peer, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "developer")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "developer-token")
    env = peer.env()
    assert {name for name in env if name.startswith("AWS_")} == {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_REGION",
        "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED"}
    assert env["AWS_ENDPOINT_URL"] == peer.url
    assert env["AWS_SECRET_ACCESS_KEY"] == peer.credentials.secret_access_key
    assert not Path(env["AWS_CONFIG_FILE"]).exists()
    assert not Path(env["AWS_SHARED_CREDENTIALS_FILE"]).exists()
    assert list(Path(env["HOME"]).iterdir()) == []
    assert peer.env(endpoint_url="http://127.0.0.1:1")["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"


def test_cloudfront_invalidations_with_auth_on(peer, bucket):
    distribution = peer.create_distribution(bucket)
    cloudfront = peer.client("cloudfront")
    created = cloudfront.create_invalidation(DistributionId=distribution, InvalidationBatch={
        "Paths": {"Quantity": 2, "Items": ["/index.html", "/app.*"]},
        "CallerReference": "e2e-1"})["Invalidation"]
    fetched = cloudfront.get_invalidation(DistributionId=distribution, Id=created["Id"])
    assert fetched["Invalidation"]["Status"] == "COMPLETED"  # at once, in moto
    listed = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]
    assert [item["Id"] for item in listed["Items"]] == [created["Id"]]


def test_user_metadata_comes_back_on_head(peer, bucket):
    s3 = peer.client("s3")
    s3.put_object(Bucket=bucket, Key="page.html", Body=b"<p>", ContentType="text/html",
                  CacheControl="max-age=60", Metadata={"sha256": "ab12", "Source-Path": "x"})
    head = s3.head_object(Bucket=bucket, Key="page.html")
    assert head["Metadata"] == {"sha256": "ab12", "source-path": "x"}
    assert (head["ContentType"], head["CacheControl"]) == ("text/html", "max-age=60")


def test_list_objects_v2_pages_by_1000(peer, bucket):
    s3 = peer.client("s3", max_pool_connections=8)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: s3.put_object(Bucket=bucket, Key=f"k{n:04d}", Body=b""),
                      range(1001)))
    first = s3.list_objects_v2(Bucket=bucket)
    assert (first["KeyCount"], first["IsTruncated"]) == (1000, True)
    rest = s3.list_objects_v2(Bucket=bucket, ContinuationToken=first["NextContinuationToken"])
    assert (rest["KeyCount"], rest["IsTruncated"]) == (1, False)
    assert rest["Contents"][0]["Key"] == "k1000"


def test_peer_does_not_check_payload_hashes(peer, bucket):
    status, _ = signed_s3_request(peer, peer.url, "PUT", f"/{bucket}/hash", body=b"real",
                                  headers={"X-Amz-Content-SHA256":
                                           hashlib.sha256(b"other").hexdigest(),
                                           "Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="})
    assert status == 200
    assert peer.client("s3").get_object(Bucket=bucket, Key="hash")["Body"].read() == b"real"


def test_delete_objects_needs_no_content_md5(peer, bucket):
    s3 = peer.client("s3")
    for key in ("d1", "d2"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    body = (b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>'
            b"<Object><Key>d1</Key></Object><Object><Key>d2</Key></Object></Delete>")
    status, _ = signed_s3_request(peer, peer.url, "POST", f"/{bucket}?delete", body=body,
                                  headers={"Content-Type": "application/xml"})
    assert status == 200
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_peer_refuses_keys_that_need_percent_encoding(peer, bucket):
    # A moto bug the publish tests must avoid: it verifies the decoded key.
    # If this starts passing, the caveat in support/aws_peer.py can go.
    s3 = peer.client("s3", retries=NO_RETRIES)
    s3.put_object(Bucket=bucket, Key="dir/with space-_.~", Body=b"")
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="a+b", Body=b"")
    assert error_code(excinfo) == "SignatureDoesNotMatch"


# The fault proxy


def test_retries_through_faults_end_with_the_right_objects(peer, bucket, fault_proxy):
    # Seed 37 draws every kind of fault, twice in a row at most, which keeps
    # botocore's exponential backoff (and the test) short.
    proxy = fault_proxy(seed=37, p500=0.2, p503=0.1, pdrop=0.1, pdrop_after=0.1)
    s3 = peer.client("s3", endpoint_url=proxy.url, retries=MANY_RETRIES)
    objects = {f"obj-{n}": os.urandom(100 + n) for n in range(6)}
    for key, data in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    for key, data in objects.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data

    direct = peer.client("s3")
    for key, data in objects.items():
        assert direct.get_object(Bucket=bucket, Key=key)["Body"].read() == data

    log = proxy.log
    assert [entry.seq for entry in log] == list(range(1, len(log) + 1))
    outcomes = {entry.outcome for entry in log}
    assert {"injected-500", "injected-503", "dropped", "dropped-after-forward", 200} <= outcomes
    for entry in log:
        assert entry.start <= entry.end
        if entry.outcome in ("injected-500", "injected-503", "dropped"):
            assert entry.upstream_status is None
        else:
            assert entry.upstream_status == 200


def test_faults_hit_only_the_chosen_methods(peer, bucket, fault_proxy):
    proxy = fault_proxy(p500=1.0, methods={"put"})
    s3 = peer.client("s3", endpoint_url=proxy.url, retries=NO_RETRIES)
    s3.list_objects_v2(Bucket=bucket)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="never", Body=b"x")
    assert error_code(excinfo) == "InternalError"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert proxy.outcomes() == [200, "injected-500"]


def test_drop_after_forward_writes_though_the_client_fails(peer, bucket, fault_proxy):
    proxy = fault_proxy(pdrop_after=1.0, methods={"PUT"})
    s3 = peer.client("s3", endpoint_url=proxy.url, retries=NO_RETRIES)
    with pytest.raises(BotoCoreError):
        s3.put_object(Bucket=bucket, Key="written", Body=b"it happened")
    body = peer.client("s3").get_object(Bucket=bucket, Key="written")["Body"].read()
    assert body == b"it happened"
    [entry] = proxy.log
    assert (entry.outcome, entry.upstream_status) == ("dropped-after-forward", 200)


def test_drop_before_forward_writes_nothing(peer, bucket, fault_proxy):
    proxy = fault_proxy(pdrop=1.0, methods={"PUT"})
    s3 = peer.client("s3", endpoint_url=proxy.url, retries=NO_RETRIES)
    with pytest.raises(BotoCoreError):
        s3.put_object(Bucket=bucket, Key="lost", Body=b"never arrives")
    assert peer.client("s3").list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert proxy.outcomes() == ["dropped"]


def test_skewed_server_refuses_a_correct_clock_and_accepts_a_corrected_one(
        peer, bucket, fault_proxy, monkeypatch):
    skew = 3600
    proxy = fault_proxy(skew_seconds=skew)
    s3 = peer.client("s3", endpoint_url=proxy.url, retries=NO_RETRIES)
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket, Key="skewed", Body=b"x")
    assert error_code(excinfo) == "RequestTimeTooSkewed"
    metadata = excinfo.value.response["ResponseMetadata"]
    assert metadata["HTTPStatusCode"] == 403
    server_date = email.utils.parsedate_to_datetime(metadata["HTTPHeaders"]["date"])
    assert abs(server_date.timestamp() - (time.time() + skew)) < 60

    # A client that adopted the server's clock gets through (moto itself
    # does not look at the time), and the answer carries the skewed Date.
    real_now = botocore.auth.get_current_datetime
    monkeypatch.setattr(botocore.auth, "get_current_datetime",
                        lambda *args, **kwargs: real_now(*args, **kwargs)
                        + datetime.timedelta(seconds=skew))
    response = s3.put_object(Bucket=bucket, Key="skewed", Body=b"x")
    server_date = email.utils.parsedate_to_datetime(
        response["ResponseMetadata"]["HTTPHeaders"]["date"])
    assert abs(server_date.timestamp() - (time.time() + skew)) < 60
    assert proxy.outcomes() == ["skewed-403", 200]


def test_delay_applies_to_the_chosen_methods(peer, bucket, fault_proxy):
    proxy = fault_proxy(delay_seconds=0.5, methods={"GET"})
    s3 = peer.client("s3", endpoint_url=proxy.url)
    s3.put_object(Bucket=bucket, Key="slow", Body=b"x")
    s3.get_object(Bucket=bucket, Key="slow")
    put, get = proxy.log
    assert put.end - put.start < 0.5 <= get.end - get.start


def test_chunked_request_bodies_are_forwarded(peer, bucket, fault_proxy):
    proxy = fault_proxy()
    data = os.urandom(5000)
    status, _ = signed_s3_request(peer, proxy.url, "PUT", f"/{bucket}/chunked", body=data,
                                  chunked=True)
    assert status == 200
    assert peer.client("s3").get_object(Bucket=bucket, Key="chunked")["Body"].read() == data


def test_proxy_runs_as_a_script(peer, bucket, tmp_path):
    log_path = tmp_path / "log.json"
    script = Path(__file__).parent / "support" / "fault_proxy.py"
    process = subprocess.Popen(
        [sys.executable, str(script), "--upstream", peer.url, "--p500", "1",
         "--methods", "PUT", "--log", str(log_path)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        s3 = peer.client("s3", endpoint_url=url, retries=NO_RETRIES)
        s3.head_bucket(Bucket=bucket)
        with pytest.raises(ClientError):
            s3.put_object(Bucket=bucket, Key="script", Body=b"x")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    assert process.returncode == 0
    log = json.loads(log_path.read_text())
    assert [(entry["method"], entry["outcome"]) for entry in log] == [
        ("HEAD", 200), ("PUT", "injected-500")]
