"""A loopback fake of AWS Elemental MediaConvert, strict about what it accepts.

moto has no MediaConvert, so the video service's "trigger" Lambda talks to this
instead (AWS_ENDPOINT_URL_MEDIACONVERT). It speaks MediaConvert's REST-JSON API
for the two operations the product uses:

- CreateJob: POST /2017-08-29/jobs -> 201 {"job": {...}}
- GetJob:    GET  /2017-08-29/jobs/{id} -> 200 {"job": {...}}

Every request is checked against botocore's own MediaConvert service model, the
same JSON that the AWS SDKs are generated from:

1. The wire JSON (camelCase `locationName`s) is mapped back to the model's
   member names (PascalCase) shape by shape; a field the model does not know
   is a problem (botocore itself never sends one, a hand-built request might).
2. botocore's ParamValidator checks types, required members and `min`.
   botocore deliberately skips `enum`, `max` and `pattern`, leaving them to
   the service, so this fake checks them too. JSON `true` is no integer.

Every problem found is listed, one per line, in a 400 `{"message": ...}` with
`x-amzn-ErrorType: BadRequestException`, which botocore and the Swift SDKs turn
into a BadRequestException error.

The request must also be SigV4-signed for service `mediaconvert` in the fake's
region (credential scope `<date>/<region>/mediaconvert/aws4_request`, `host`
and the date signed, the date within 15 minutes). For access keys handed to
`trust()` (or the constructor) the signature itself is verified, and a session
token, if the key has one, must come in X-Amz-Security-Token. A key the fake
was not told about passes with the structural checks only. Authentication
problems answer 403, as AWS does, before any validation problem:
MissingAuthenticationTokenException (no Authorization header),
IncompleteSignatureException, InvalidSignatureException (wrong scope, expired,
mismatch) or UnrecognizedClientException (a trusted key without its session
token).

A valid CreateJob gets a job with `id` (`<epoch ms>-<6 chars>`, like AWS's),
`arn`, `status: SUBMITTED`, `createdAt` (epoch seconds, the model's
unixTimestamp), the default queue, `timing.submitTime`, and the request's
`role`, `settings`, `userMetadata`, `clientRequestToken` and other members
echoed in their wire form. A CreateJob whose `clientRequestToken` was seen
before returns that earlier job and creates none (the parameters are not
compared). Note that botocore fills in a fresh ClientRequestToken when the
caller gives none, as MediaConvert's model marks it an idempotency token.

Every request, refused or not, is kept in `requests` as a RecordedRequest
whose `params` are the body mapped to botocore member names, so a test can
look at `fake.create_job_requests()[-1]["Settings"]["OutputGroups"]`;
`jobs` holds the jobs (wire form) and `set_job()` moves one on, for GetJob.
`sample_job_settings()` is a realistic job's Settings for tests.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import json
import posixpath
import re
import secrets
import string
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.session
from botocore.validate import ParamValidator, ValidationErrors

SERVICE = "mediaconvert"
API_VERSION = "2017-08-29"
JOBS_PATH = f"/{API_VERSION}/jobs"
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)

_model_lock = threading.Lock()
_model = None


def service_model():
    """botocore's MediaConvert service model (loaded once)."""
    global _model
    with _model_lock:
        if _model is None:
            _model = botocore.session.get_session().get_service_model(SERVICE)
        return _model


# -- the model: wire JSON -> member names, and validation ----------------------------------------


def wire_name(member_name: str, member_shape) -> str:
    return member_shape.serialization.get("name", member_name)


def body_members(shape) -> dict[str, str]:
    """wire name -> member name for the members of `shape` that travel in
    the JSON body (not in the URI, a header or the query string)."""
    return {wire_name(name, member): name for name, member in shape.members.items()
            if not member.serialization.get("location")}


def wire_to_params(value: Any, shape, errors: ValidationErrors, name: str = "") -> Any:
    """`value` (decoded wire JSON) with structure keys renamed to member names,
    recursively. Fields unknown to the model are dropped and reported; values
    of the wrong JSON type are kept as they are, for the validator to report."""
    if shape.type_name == "structure" and isinstance(value, dict):
        members = body_members(shape)
        params = {}
        for key, item in value.items():
            member_name = members.get(key)
            if member_name is None:
                errors.report(name, "unknown wire field", field=key, known=sorted(members))
                continue
            params[member_name] = wire_to_params(item, shape.members[member_name], errors,
                                                 f"{name}.{member_name}")
        return params
    if shape.type_name == "list" and isinstance(value, list):
        return [wire_to_params(item, shape.member, errors, f"{name}[{index}]")
                for index, item in enumerate(value)]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: wire_to_params(item, shape.value, errors, f"{name}.{key}")
                for key, item in value.items()}
    return value


class Problems(ValidationErrors):
    """botocore's error list, plus the checks botocore leaves out."""

    def messages(self) -> list[str]:
        return [self._format_error(error) for error in self._errors]

    def _format_error(self, error) -> str:
        kind, name, details = error
        where = self._get_name(name)
        if kind == "unknown wire field":
            return (f'Unknown field in {where}: "{details["field"]}"; the model knows '
                    f'{", ".join(details["known"]) or "no fields"}')
        if kind == "invalid enum value":
            return (f"Invalid value for parameter {where}, value: {details['param']!r}, "
                    f"valid values: {', '.join(details['valid_values'])}")
        if kind == "above max":
            return (f"Invalid {details['what']} for parameter {where}, value: "
                    f"{details['value']}, valid max {details['what']}: {details['max_allowed']}")
        if kind == "pattern mismatch":
            return (f"Invalid value for parameter {where}, value: {details['param']!r}, "
                    f"must match pattern {details['pattern']}")
        if kind == "boolean for number":
            return (f"Invalid type for parameter {where}, value: {details['param']!r}, "
                    f"type: bool, valid types: a JSON number")
        return super()._format_error(error)


class ModelValidator(ParamValidator):
    """botocore's ParamValidator, which checks types, `required` and `min`,
    plus `enum`, `max` and `pattern`, which botocore skips on purpose."""

    VALIDATED_METADATA_ATTRS = ParamValidator.VALIDATED_METADATA_ATTRS | {
        "enum", "max", "pattern"}

    def validate_into(self, params: Any, shape, errors: Problems) -> None:
        self._validate(params, shape, errors, "")

    def _validate_string(self, param, shape, errors, name):
        super()._validate_string(param, shape, errors, name)
        if not isinstance(param, str):
            return
        metadata = shape.metadata
        if "enum" in metadata and param not in metadata["enum"]:
            errors.report(name, "invalid enum value", param=param,
                          valid_values=metadata["enum"])
        if "max" in metadata and len(param) > metadata["max"]:
            errors.report(name, "above max", what="length", value=len(param),
                          max_allowed=metadata["max"])
        if "pattern" in metadata and not _pattern(metadata["pattern"]).search(param):
            errors.report(name, "pattern mismatch", param=param, pattern=metadata["pattern"])

    def _number(self, parent, param, shape, errors, name):
        if isinstance(param, bool):
            errors.report(name, "boolean for number", param=param)
            return
        parent(param, shape, errors, name)
        if isinstance(param, (int, float)) and "max" in shape.metadata \
                and param > shape.metadata["max"]:
            errors.report(name, "above max", what="value", value=param,
                          max_allowed=shape.metadata["max"])

    def _validate_integer(self, param, shape, errors, name):
        self._number(super()._validate_integer, param, shape, errors, name)

    def _validate_long(self, param, shape, errors, name):
        self._number(super()._validate_long, param, shape, errors, name)

    def _validate_double(self, param, shape, errors, name):
        self._number(super()._validate_double, param, shape, errors, name)

    _validate_float = _validate_double

    def _validate_list(self, param, shape, errors, name):
        super()._validate_list(param, shape, errors, name)
        self._check_max_length(param, shape, errors, name, list)

    def _validate_map(self, param, shape, errors, name):
        super()._validate_map(param, shape, errors, name)
        self._check_max_length(param, shape, errors, name, dict)

    @staticmethod
    def _check_max_length(param, shape, errors, name, kind):
        if isinstance(param, kind) and "max" in shape.metadata \
                and len(param) > shape.metadata["max"]:
            errors.report(name, "above max", what="length", value=len(param),
                          max_allowed=shape.metadata["max"])


_patterns: dict[str, re.Pattern] = {}


def _pattern(source: str) -> re.Pattern:
    # Smithy patterns are searched, not implicitly anchored; MediaConvert's
    # anchor themselves with ^...$.
    if source not in _patterns:
        _patterns[source] = re.compile(source)
    return _patterns[source]


def check_params(wire: Any, shape) -> tuple[Any, list[str]]:
    """(params in member names, every problem) for a decoded JSON body."""
    problems = Problems()
    if not isinstance(wire, dict):
        return wire, [f"The request body must be a JSON object, not {type(wire).__name__}"]
    params = wire_to_params(wire, shape, problems)
    ModelValidator().validate_into(params, shape, problems)
    return params, problems.messages()


# -- a sample job -------------------------------------------------------------------------------


def sample_job_settings(input_uri: str, destination: str) -> dict:
    """A realistic CreateJob Settings (member names) of the kind the trigger
    Lambda sends: one H.264/AAC MP4 whose moov atom comes first, so that it
    plays while it downloads, and one JPEG poster frame (FRAME_CAPTURE), both
    named after `destination`."""
    return {
        "TimecodeConfig": {"Source": "ZEROBASED"},
        "Inputs": [{
            "FileInput": input_uri,
            "TimecodeSource": "ZEROBASED",
            "VideoSelector": {"Rotate": "AUTO"},
            "AudioSelectors": {"Audio Selector 1": {"DefaultSelection": "DEFAULT"}},
        }],
        "OutputGroups": [
            {
                "Name": "File Group",
                "OutputGroupSettings": {
                    "Type": "FILE_GROUP_SETTINGS",
                    "FileGroupSettings": {"Destination": destination},
                },
                "Outputs": [{
                    "NameModifier": "-1080p",
                    "Extension": "mp4",
                    "ContainerSettings": {
                        "Container": "MP4",
                        "Mp4Settings": {"MoovPlacement": "PROGRESSIVE_DOWNLOAD"},
                    },
                    "VideoDescription": {
                        "Width": 1920,
                        "Height": 1080,
                        "ScalingBehavior": "DEFAULT",
                        "CodecSettings": {
                            "Codec": "H_264",
                            "H264Settings": {
                                "RateControlMode": "QVBR",
                                "QvbrSettings": {"QvbrQualityLevel": 7},
                                "MaxBitrate": 6_000_000,
                                "CodecProfile": "HIGH",
                                "CodecLevel": "AUTO",
                                "GopSize": 2.0,
                                "GopSizeUnits": "SECONDS",
                                "SceneChangeDetect": "TRANSITION_DETECTION",
                                "QualityTuningLevel": "SINGLE_PASS_HQ",
                            },
                        },
                    },
                    "AudioDescriptions": [{
                        "AudioSourceName": "Audio Selector 1",
                        "CodecSettings": {
                            "Codec": "AAC",
                            "AacSettings": {"Bitrate": 128_000, "CodingMode": "CODING_MODE_2_0",
                                            "SampleRate": 48_000},
                        },
                    }],
                }],
            },
            {
                "Name": "Thumbnails",
                "OutputGroupSettings": {
                    "Type": "FILE_GROUP_SETTINGS",
                    "FileGroupSettings": {"Destination": destination},
                },
                "Outputs": [{
                    "NameModifier": "-poster",
                    "Extension": "jpg",
                    "ContainerSettings": {"Container": "RAW"},
                    "VideoDescription": {
                        "Width": 1280,
                        "Height": 720,
                        "CodecSettings": {
                            "Codec": "FRAME_CAPTURE",
                            "FrameCaptureSettings": {"FramerateNumerator": 1,
                                                     "FramerateDenominator": 5,
                                                     "MaxCaptures": 1, "Quality": 80},
                        },
                    },
                }],
            },
        ],
    }


# -- SigV4 ---------------------------------------------------------------------------------------


class AuthFailure(Exception):
    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type
        self.message = message


_AUTHORIZATION = re.compile(
    r"^(?P<algorithm>\S+)\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]+)\s*$")


def check_sigv4(method: str, raw_target: str, headers: dict[str, list[str]], body: bytes, *,
                region: str, trusted: dict[str, tuple[str, str | None]],
                now: datetime.datetime | None = None) -> str:
    """Raises AuthFailure unless the request is SigV4-signed for MediaConvert
    in `region`; verifies the signature when its key is in `trusted`
    (access key id -> (secret, session token or None)). `headers` maps
    lower-case names to their values. Returns the access key id."""
    authorization = headers.get("authorization")
    if not authorization:
        raise AuthFailure("MissingAuthenticationTokenException", "Missing Authentication Token")
    match = _AUTHORIZATION.match(authorization[0])
    if match is None or match["algorithm"] != "AWS4-HMAC-SHA256":
        raise AuthFailure("IncompleteSignatureException",
                          f"Authorization header is not AWS4-HMAC-SHA256 with Credential, "
                          f"SignedHeaders and Signature: {authorization[0]!r}")
    scope = match["credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise AuthFailure("IncompleteSignatureException",
                          f"Credential is not <key>/<date>/<region>/<service>/aws4_request: "
                          f"{match['credential']!r}")
    access_key, scope_date, scope_region, scope_service, _ = scope
    if scope_service != SERVICE:
        raise AuthFailure("InvalidSignatureException",
                          f"Credential should be scoped to correct service: '{SERVICE}'. "
                          f"(scoped to {scope_service!r})")
    if scope_region != region:
        raise AuthFailure("InvalidSignatureException",
                          f"Credential should be scoped to a valid region: {region!r}, "
                          f"not {scope_region!r}")
    signed = match["signed"].split(";")
    if "host" not in signed:
        raise AuthFailure("InvalidSignatureException", "'Host' must be a signed header")
    if "x-amz-date" not in headers:
        raise AuthFailure("IncompleteSignatureException", "X-Amz-Date is missing")
    stamp = headers["x-amz-date"][0]
    try:
        when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise AuthFailure("IncompleteSignatureException",
                          f"X-Amz-Date is not YYYYMMDDTHHMMSSZ: {stamp!r}") from None
    if "x-amz-date" not in signed:
        raise AuthFailure("InvalidSignatureException", "'X-Amz-Date' must be a signed header")
    if scope_date != stamp[:8]:
        raise AuthFailure("InvalidSignatureException",
                          f"Date in Credential scope ({scope_date}) does not match "
                          f"YYYYMMDD from X-Amz-Date ({stamp})")
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    if abs(now - when) > MAX_CLOCK_SKEW:
        raise AuthFailure("InvalidSignatureException",
                          f"Signature expired: {stamp} is now earlier than "
                          f"{(now - MAX_CLOCK_SKEW):%Y%m%dT%H%M%SZ} "
                          f"or later than {(now + MAX_CLOCK_SKEW):%Y%m%dT%H%M%SZ}")
    missing = [name for name in signed if name not in headers]
    if missing:
        raise AuthFailure("InvalidSignatureException",
                          f"Signed headers missing from the request: {', '.join(missing)}")

    if access_key not in trusted:
        return access_key
    secret, session_token = trusted[access_key]
    sent_token = headers.get("x-amz-security-token", [None])[0]
    if session_token is not None and sent_token != session_token:
        raise AuthFailure("UnrecognizedClientException",
                          "The security token included in the request is invalid.")
    path, _, query = raw_target.partition("?")
    canonical = "\n".join([
        method,
        _canonical_path(path),
        "&".join(f"{key}={value}" for key, value in
                 sorted(pair.partition("=")[::2] for pair in query.split("&") if query)),
        "".join(f"{name}:{','.join(' '.join(v.split()) for v in headers[name])}\n"
                for name in signed),
        ";".join(signed),
        hashlib.sha256(body).hexdigest(),
    ])
    string_to_sign = "\n".join([
        "AWS4-HMAC-SHA256", stamp, "/".join(scope[1:]),
        hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (scope_date, scope_region, scope_service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match["signature"]):
        raise AuthFailure("InvalidSignatureException",
                          "The request signature we calculated does not match the signature "
                          "you provided. Check your AWS Secret Access Key and signing method.\n"
                          f"The Canonical String for this request should have been\n'{canonical}'")
    content_sha256 = headers.get("x-amz-content-sha256", [None])[0]
    if content_sha256 is not None and content_sha256 != hashlib.sha256(body).hexdigest():
        raise AuthFailure("InvalidSignatureException",
                          "X-Amz-Content-SHA256 does not match the body's SHA-256")
    return access_key


def _canonical_path(path: str) -> str:
    # As botocore does for every service but S3: normalise, then encode the
    # (already percent-encoded) path once more.
    normalized = posixpath.normpath(path) if path else "/"
    if path.endswith("/") and normalized != "/":
        normalized += "/"
    return urllib.parse.quote(normalized, safe="/~")


# -- the server ----------------------------------------------------------------------------------


@dataclasses.dataclass
class RecordedRequest:
    method: str
    path: str
    operation: str | None          # "CreateJob", "GetJob", or None when no route matched
    headers: dict[str, list[str]]  # lower-case names
    body: bytes
    wire: Any                      # the decoded JSON body (None if none or undecodable)
    params: Any                    # the body (and URI members) in botocore member names
    status: int
    problems: list[str]            # why it was refused; empty when it was accepted
    access_key: str | None = None
    job_id: str | None = None

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


class MediaConvertFake:
    """A threaded MediaConvert on 127.0.0.1 and a random port; use as a
    context manager, or start() and stop()."""

    def __init__(self, *, region: str = "us-east-1", account_id: str = "123456789012",
                 credentials=()):
        """`credentials`: objects with access_key_id, secret_access_key and
        session_token (aws_peer.Credentials) whose signatures are verified."""
        self.region = region
        self.account_id = account_id
        self._lock = threading.Lock()
        self._trusted: dict[str, tuple[str, str | None]] = {}
        self._requests: list[RecordedRequest] = []
        self._jobs: dict[str, dict] = {}
        self._by_token: dict[str, str] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for item in credentials:
            self.trust(item)

    # -- lifecycle

    def start(self) -> MediaConvertFake:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="mediaconvert-fake", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = self._thread = None

    def __enter__(self) -> MediaConvertFake:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The endpoint, for AWS_ENDPOINT_URL_MEDIACONVERT or endpoint_url=."""
        return f"http://127.0.0.1:{self.port}"

    endpoint_url = url

    # -- configuration and inspection

    def trust(self, credentials) -> None:
        """Verify the signatures made with these credentials from now on."""
        with self._lock:
            self._trusted[credentials.access_key_id] = (
                credentials.secret_access_key, getattr(credentials, "session_token", None))

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def create_job_requests(self, *, accepted_only: bool = True) -> list[dict]:
        """The params (botocore member names) of the CreateJob requests, oldest first."""
        return [r.params for r in self.requests if r.operation == "CreateJob"
                and (r.accepted or not accepted_only)]

    @property
    def jobs(self) -> dict[str, dict]:
        """Job id -> the job as GetJob returns it (wire names)."""
        with self._lock:
            return json.loads(json.dumps(self._jobs))

    def job_arn(self, job_id: str) -> str:
        return f"arn:aws:mediaconvert:{self.region}:{self.account_id}:jobs/{job_id}"

    @property
    def default_queue_arn(self) -> str:
        return f"arn:aws:mediaconvert:{self.region}:{self.account_id}:queues/Default"

    def set_job(self, job_id: str, **wire_fields) -> dict:
        """Changes a job as MediaConvert would while it runs, e.g.
        set_job(id, status="COMPLETE", jobPercentComplete=100)."""
        with self._lock:
            self._jobs[job_id].update(wire_fields)
            return json.loads(json.dumps(self._jobs[job_id]))

    # -- operations (called by the handler)

    def _create_job(self, wire: dict) -> tuple[dict, bool]:
        with self._lock:
            token = wire.get("clientRequestToken")
            if token is not None and token in self._by_token:
                return self._jobs[self._by_token[token]], False
            now = time.time()
            job_id = f"{int(now * 1000)}-" + "".join(
                secrets.choice(string.ascii_lowercase + string.digits) for _ in range(6))
            job = {
                "id": job_id,
                "arn": self.job_arn(job_id),
                "status": "SUBMITTED",
                "createdAt": int(now),
                "queue": self.default_queue_arn,
                "priority": 0,
                "statusUpdateInterval": "SECONDS_60",
                "accelerationStatus": "NOT_APPLICABLE",
                "userMetadata": {},
                "timing": {"submitTime": int(now)},
                "messages": {"info": [], "warning": []},
            }
            # Everything the request said that a Job has, in its wire form
            # (tags are the one CreateJob member a Job does not carry).
            job_members = set(body_members(service_model().shape_for("Job")))
            job.update({key: value for key, value in wire.items() if key in job_members})
            self._jobs[job_id] = job
            if token is not None:
                self._by_token[token] = job_id
            return job, True

    def _get_job(self, job_id: str) -> dict | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _record(self, recorded: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(recorded)


class _Handler(BaseHTTPRequestHandler):
    owner: MediaConvertFake
    protocol_version = "HTTP/1.1"
    server_version = "MediaConvertFake"

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self) -> None:
        fake = self.owner
        body = self._read_body()
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        path = urllib.parse.urlsplit(self.path).path
        model = service_model()

        if self.command == "POST" and path.rstrip("/") == JOBS_PATH:
            operation, uri_params = "CreateJob", {}
        elif self.command == "GET" and re.fullmatch(rf"{JOBS_PATH}/[^/]+", path):
            operation = "GetJob"
            uri_params = {"Id": urllib.parse.unquote(path.rsplit("/", 1)[1])}
        else:
            operation, uri_params = None, {}
        recorded = RecordedRequest(method=self.command, path=self.path, operation=operation,
                                   headers=headers, body=body, wire=None, params=None,
                                   status=0, problems=[])

        # Parse and validate first, so that the record holds the params even
        # when authentication fails; answer authentication failures first.
        problems: list[str] = []
        if operation == "CreateJob":
            try:
                recorded.wire = json.loads(body or b"{}")
            except ValueError as error:
                problems.append(f"The request body is not JSON: {error}")
            else:
                shape = model.operation_model(operation).input_shape
                recorded.params, problems = check_params(recorded.wire, shape)
        elif operation == "GetJob":
            recorded.params = uri_params
            if body:
                problems.append("GetJob takes no request body")

        try:
            recorded.access_key = check_sigv4(
                self.command, self.path, headers, body, region=fake.region,
                trusted=dict(fake._trusted))
        except AuthFailure as failure:
            recorded.problems = [failure.message, *problems]
            self._reply(recorded, 403, {"message": failure.message}, failure.error_type)
            return

        if operation is None:
            message = f"No MediaConvert operation here: {self.command} {path}"
            recorded.problems = [message]
            self._reply(recorded, 404, {"message": message}, "NotFoundException")
            return
        if problems:
            recorded.problems = problems
            self._reply(recorded, 400, {"message": "\n".join(problems)}, "BadRequestException")
            return
        if operation == "CreateJob":
            job, _created = fake._create_job(recorded.wire)
            recorded.job_id = job["id"]
            self._reply(recorded, 201, {"job": job})
            return
        job = fake._get_job(uri_params["Id"])
        if job is None:
            message = f"The specified job does not exist: {uri_params['Id']}"
            recorded.problems = [message]
            self._reply(recorded, 404, {"message": message}, "NotFoundException")
            return
        recorded.job_id = job["id"]
        self._reply(recorded, 200, {"job": job})

    def _reply(self, recorded: RecordedRequest, status: int, document: dict,
               error_type: str | None = None) -> None:
        recorded.status = status
        self.owner._record(recorded)
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.end_headers()
        self.wfile.write(payload)
