"""The video service's Lambda bootstrap, run as Lambda runs it: built by scripts/build-lambda,
started in an empty root against a stand-in of the Runtime API (see support/lambda_host.py)."""

from __future__ import annotations

import collections
import hashlib
import socket
import subprocess
import threading
import time
import zipfile

import pytest

from support.lambda_host import LambdaHost, build_lambda, http_api_event

# The media key is read from its secret on the first session call, not at the start: a secret
# that does not exist does not stop the function from starting.
MEDIA_ENV = {"MEDIA_KEY_PAIR_ID": "K2JCJMDEHXQW5F",
             "MEDIA_KEY_SECRET": "arn:aws:secretsmanager:us-east-1:123456789012:secret:video/media-key/A-AbCdEf",
             "MEDIA_ORIGIN": "https://d111111abcdef8.cloudfront.net"}
VIDEO_ENV = {"VIDEO_TABLE": "videos", "TEMP_BUCKET": "videos-temp", "MAIN_BUCKET": "videos-main", **MEDIA_ENV}
NOT_FOUND = {"statusCode": 404, "headers": {"Content-Type": "application/json"}, "isBase64Encoded": False,
             "body": '{"error":{"code":"NotFound","message":"There is no such API endpoint."}}'}


@pytest.fixture(scope="module")
def build():
    return build_lambda()


@pytest.fixture
def never_answering_socket():
    """A TCP port that accepts connections and never says a word; yields (url, accepted list)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []

    def accept():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    listener.close()
    for connection in accepted:
        connection.close()


def test_bootstrap_has_no_dynamic_dependencies(build):
    assert "statically linked" in subprocess.run(["file", "-b", build.binary], capture_output=True,
                                                 text=True, check=True).stdout
    headers = subprocess.run(["objdump", "-p", build.binary], capture_output=True, text=True, check=True).stdout
    assert "NEEDED" not in headers and "INTERP" not in headers


def test_zip_is_far_under_lambdas_limit_and_reproducible(build):
    first = build.zip.read_bytes()
    # Lambda takes at most 50 MB zipped; ICU's data (Foundation) would more than double it.
    assert len(first) < 16 * 1024 * 1024, f"{len(first)} bytes: is Foundation (and ICU) linked again?"
    with zipfile.ZipFile(build.zip) as archive:
        [entry] = archive.infolist()
        assert entry.filename == "bootstrap"
        assert entry.external_attr >> 16 == 0o100755
        assert entry.date_time == (1980, 1, 1, 0, 0, 0)
        assert archive.read(entry) == build.binary.read_bytes()
    again = subprocess.run([str(build.zip.parents[1] / "scripts" / "build-lambda")], capture_output=True,
                           text=True, check=True, timeout=1800)
    assert build.zip.read_bytes() == first, "a second build wrote different zip bytes"
    assert again.stdout.strip() == build.output.strip()


def test_a_rebuild_replaces_the_staged_binary_whole(build):
    """Each pytest worker runs scripts/build-lambda once, while the other workers copy the staged
    binary into their functions' roots. A copy taken mid-write is a truncated static executable,
    which the kernel kills in execve with SIGSEGV: exit code -11, no output, no core. So every read
    during a rebuild must find the whole binary, the one from before or the one from after."""
    before = hashlib.sha256(build.binary.read_bytes()).hexdigest()
    seen: collections.Counter[str] = collections.Counter()
    building = threading.Event()
    building.set()

    def copy_while_building():
        while building.is_set():
            try:
                seen[hashlib.sha256(build.binary.read_bytes()).hexdigest()] += 1
            except FileNotFoundError:
                seen["missing"] += 1

    reader = threading.Thread(target=copy_while_building)
    reader.start()
    try:
        subprocess.run([str(build.zip.parents[1] / "scripts" / "build-lambda")], capture_output=True,
                       text=True, check=True, timeout=1800)
    finally:
        building.clear()
        reader.join()
    after = hashlib.sha256(build.binary.read_bytes()).hexdigest()
    partial = {key: count for key, count in seen.items() if key not in (before, after)}
    assert not partial, f"{sum(partial.values())} of {seen.total()} reads found no binary or a partial one"


def test_a_non_api_path_is_answered_404(build):
    with LambdaHost(build.binary, "video", env=VIDEO_ENV) as host:
        outcome = host.invoke(http_api_event("GET", "/nothing"))
        assert outcome.kind == "response", host.logs()
        assert outcome.payload == NOT_FOUND
        assert "duration_ms=" in host.log_line(f"request={outcome.request_id} outcome=success")


def test_a_handler_error_is_reported_and_the_next_event_served(build):
    with LambdaHost(build.binary, "video", env=VIDEO_ENV) as host:
        outcome = host.invoke({"Records": [{"eventSource": "aws:sqs"}]})
        assert outcome.kind == "error", host.logs()
        assert outcome.error_type == "Handler.BadEvent"
        assert outcome.payload["errorType"] == "Handler.BadEvent"
        assert "payload 2.0" in outcome.payload["errorMessage"]
        assert outcome.payload["stackTrace"] == []
        assert host.invoke(http_api_event("GET", "/nothing")).payload == NOT_FOUND
        assert "duration_ms=" in host.log_line(f"request={outcome.request_id} outcome=error")


def test_an_unknown_handler_fails_the_start_naming_the_valid_ones(build):
    with LambdaHost(build.binary, "videos", env=VIDEO_ENV) as host:
        error = host.init_error()
        assert error is not None, host.logs()
        assert error.error_type == error.payload["errorType"] == "Runtime.HandlerNotFound"
        for name in ("'videos'", "'video'", "'trigger'", "'complete'", "'signout'"):
            assert name in error.payload["errorMessage"]
        assert host.wait_exit() != 0


def test_a_missing_variable_fails_the_start_naming_it(build):
    env = {k: v for k, v in VIDEO_ENV.items() if k != "VIDEO_TABLE"}
    with LambdaHost(build.binary, "video", env=env) as host:
        error = host.init_error()
        assert error is not None, host.logs()
        assert error.error_type == "Config.MissingVariable"
        assert "VIDEO_TABLE" in error.payload["errorMessage"]
        assert "MAIN_BUCKET" not in error.payload["errorMessage"]
        assert "MEDIA_" not in error.payload["errorMessage"]
        assert host.wait_exit() != 0
        assert not any("invocation/next" in path for _, path in host.api.requests)


def test_a_video_function_without_its_media_variables_fails_the_start_naming_them_all(build):
    env = {k: v for k, v in VIDEO_ENV.items() if k not in MEDIA_ENV}
    with LambdaHost(build.binary, "video", env=env) as host:
        error = host.init_error()
        assert error is not None, host.logs()
        assert error.error_type == error.payload["errorType"] == "Config.MissingVariable"
        message = error.payload["errorMessage"]
        for name in MEDIA_ENV:
            assert name in message, message
        assert "VIDEO_TABLE" not in message and "MEDIACONVERT_ROLE_ARN" not in message
        assert host.wait_exit() != 0
        assert not any("invocation/next" in path for _, path in host.api.requests)


@pytest.mark.parametrize("missing", sorted(MEDIA_ENV))
def test_each_media_variable_is_needed_and_an_empty_one_counts_as_missing(build, missing):
    for env in ({k: v for k, v in VIDEO_ENV.items() if k != missing}, {**VIDEO_ENV, missing: ""}):
        with LambdaHost(build.binary, "video", env=env) as host:
            error = host.init_error()
            assert error is not None, host.logs()
            assert error.error_type == "Config.MissingVariable"
            assert missing in error.payload["errorMessage"]
            assert all(other not in error.payload["errorMessage"] for other in MEDIA_ENV if other != missing)


def test_the_other_functions_start_without_the_media_variables(build):
    """Only the video function signs cookies: `complete` starts and waits for events without them."""
    env = {k: v for k, v in VIDEO_ENV.items() if k not in MEDIA_ENV}
    with LambdaHost(build.binary, "complete", env=env) as host:
        give_up = time.monotonic() + 10
        while not any("invocation/next" in path for _, path in host.api.requests):
            assert host.process.poll() is None and time.monotonic() < give_up, host.logs()
            time.sleep(0.05)
        assert host.init_error(seconds=0.5) is None, host.logs()


def test_the_deadline_cancels_a_hung_handler_and_the_next_event_is_served(build, never_answering_socket):
    url, accepted = never_answering_socket
    with LambdaHost(build.binary, "video", env={**VIDEO_ENV, "AWS_ENDPOINT_URL": url}) as host:
        assert host.invoke(http_api_event("GET", "/nothing")).payload == NOT_FOUND  # started and waiting
        started = time.monotonic()
        outcome = host.invoke(http_api_event("GET", "/videos"), timeout_ms=1500)
        elapsed = time.monotonic() - started
        assert outcome.kind == "error", host.logs()
        assert outcome.error_type == "Runtime.Timeout"
        assert " ms " in outcome.payload["errorMessage"]
        assert 1.0 < elapsed < 1.5, f"reported after {elapsed:.2f} s, the deadline being 1.5 s"
        assert accepted, "the handler never reached the endpoint"
        assert host.invoke(http_api_event("GET", "/nothing")).payload == NOT_FOUND
        assert "duration_ms=" in host.log_line(f"request={outcome.request_id} outcome=timeout")
