"""Tests of the MediaConvert fake (support/mediaconvert_fake.py): it takes what botocore
sends for a real job, refuses what MediaConvert's model forbids, naming every
problem, insists on SigV4 for `mediaconvert`, and is idempotent per
ClientRequestToken. They need neither moto nor a built binary."""

from __future__ import annotations

import copy
import datetime
import json
import re
import urllib.error
import urllib.request
import uuid

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError
from botocore.serialize import create_serializer

from support.aws_peer import Credentials
from support.mediaconvert_fake import (MediaConvertFake, check_params, sample_job_settings,
                                       service_model)

REGION = "us-east-1"
TRUSTED = Credentials("AKIAMEDIACONVERTTEST", "the-secret-of-the-test")
TEMPORARY = Credentials("ASIAMEDIACONVERTTEMP", "a-temporary-secret", "the-session-token")
ROLE = "arn:aws:iam::123456789012:role/video-mediaconvert"
NO_RETRIES = {"total_max_attempts": 1}


SETTINGS = sample_job_settings("s3://temp/uploads/0b7c1a52-sub/8f14e45f-id/clip.mp4",
                               "s3://main/videos/0b7c1a52-sub/8f14e45f-id/video")


@pytest.fixture(scope="module")
def fake():
    with MediaConvertFake(region=REGION, credentials=[TRUSTED, TEMPORARY]) as started:
        yield started


def client(fake, credentials=TRUSTED, **config):
    return boto3.client(
        "mediaconvert", endpoint_url=fake.url, region_name=REGION,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        config=Config(retries=NO_RETRIES, **config))


@pytest.fixture(scope="module")
def mediaconvert(fake):
    return client(fake)


@pytest.fixture(scope="module")
def unvalidated(fake):
    """boto3 that sends whatever it is given, as a hand-written client might."""
    return client(fake, parameter_validation=False)


def signed_request(fake, method: str, path: str, document=None, *,
                   credentials=TRUSTED, service: str = "mediaconvert",
                   region: str = REGION) -> tuple[int, dict, dict]:
    """One SigV4-signed request with a body of our own making; returns
    (status, lower-case headers, decoded JSON)."""
    body = b"" if document is None else json.dumps(document).encode()
    request = AWSRequest(method=method, url=fake.url + path, data=body,
                         headers={"Content-Type": "application/json"} if body else {})
    if credentials is not None:
        SigV4Auth(BotoCredentials(credentials.access_key_id, credentials.secret_access_key,
                                  credentials.session_token), service, region).add_auth(request)
    prepared = urllib.request.Request(request.url, data=body or None, method=method,
                                      headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=10) as response:
            status, headers, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, payload = error.code, error.headers, error.read()
    return status, {k.lower(): v for k, v in headers.items()}, json.loads(payload or b"{}")


def refusal(excinfo) -> tuple[str, str, int]:
    error = excinfo.value.response["Error"]
    status = excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return error["Code"], error["Message"], status


# -- accepted ------------------------------------------------------------------------------------


def test_a_realistic_job_is_accepted_and_recorded(fake, mediaconvert):
    token = str(uuid.uuid4())
    job = mediaconvert.create_job(Role=ROLE, Settings=SETTINGS, ClientRequestToken=token,
                                  UserMetadata={"sub": "0b7c1a52-sub", "id": "8f14e45f-id"})
    assert job["ResponseMetadata"]["HTTPStatusCode"] == 201
    job = job["Job"]
    assert re.fullmatch(r"\d{13}-[a-z0-9]{6}", job["Id"])
    assert job["Arn"] == f"arn:aws:mediaconvert:{REGION}:123456789012:jobs/{job['Id']}"
    assert job["Status"] == "SUBMITTED"
    assert abs(job["CreatedAt"] - datetime.datetime.now(datetime.timezone.utc)) \
        < datetime.timedelta(minutes=1)
    assert job["Role"] == ROLE
    assert job["Settings"] == SETTINGS
    assert job["UserMetadata"] == {"sub": "0b7c1a52-sub", "id": "8f14e45f-id"}
    assert job["ClientRequestToken"] == token
    assert job["Queue"].endswith(":queues/Default")

    recorded = fake.requests[-1]
    assert (recorded.operation, recorded.status, recorded.problems) == ("CreateJob", 201, [])
    assert recorded.job_id == job["Id"]
    assert recorded.access_key == TRUSTED.access_key_id
    # On the wire in camelCase; recorded in botocore's member names.
    assert recorded.wire["settings"]["outputGroups"][0]["outputs"][0]["containerSettings"] \
        == {"container": "MP4", "mp4Settings": {"moovPlacement": "PROGRESSIVE_DOWNLOAD"}}
    params = fake.create_job_requests()[-1]
    assert params == recorded.params
    assert params["Role"] == ROLE
    mp4, poster = (group["Outputs"][0] for group in params["Settings"]["OutputGroups"])
    assert mp4["ContainerSettings"]["Mp4Settings"]["MoovPlacement"] == "PROGRESSIVE_DOWNLOAD"
    assert mp4["VideoDescription"]["CodecSettings"]["Codec"] == "H_264"
    assert mp4["AudioDescriptions"][0]["CodecSettings"]["Codec"] == "AAC"
    assert poster["VideoDescription"]["CodecSettings"]["Codec"] == "FRAME_CAPTURE"
    assert params["Settings"]["Inputs"][0]["FileInput"].startswith("s3://temp/")

    assert mediaconvert.get_job(Id=job["Id"])["Job"] == job
    assert fake.requests[-1].operation == "GetJob"


def test_the_job_it_returns_fits_the_model(fake, mediaconvert):
    job_id = mediaconvert.create_job(Role=ROLE, Settings=SETTINGS)["Job"]["Id"]
    params, problems = check_params(fake.jobs[job_id], service_model().shape_for("Job"))
    assert problems == []
    assert params["Settings"] == SETTINGS


def test_set_job_changes_what_get_job_says(fake, mediaconvert):
    job_id = mediaconvert.create_job(Role=ROLE, Settings=SETTINGS)["Job"]["Id"]
    fake.set_job(job_id, status="COMPLETE", jobPercentComplete=100)
    job = mediaconvert.get_job(Id=job_id)["Job"]
    assert (job["Status"], job["JobPercentComplete"]) == ("COMPLETE", 100)


# -- refused -------------------------------------------------------------------------------------


def test_an_unknown_field_is_refused_by_name(fake):
    wire = wire_form({"Role": ROLE, "Settings": SETTINGS})
    wire["settings"]["outputGroups"][0]["outputs"][0]["containerSettings"]["mp4Settings"] \
        = {"moovPlacment": "PROGRESSIVE_DOWNLOAD"}
    wire["priorityy"] = 1
    before = len(fake.jobs)
    status, headers, answer = signed_request(fake, "POST", "/2017-08-29/jobs", wire)
    assert status == 400
    assert headers["x-amzn-errortype"] == "BadRequestException"
    lines = answer["message"].split("\n")
    assert len(lines) == 2, lines
    mp4, top = sorted(lines)
    assert top.startswith('Unknown field in input: "priorityy"')
    assert mp4.startswith('Unknown field in Settings.OutputGroups[0].Outputs[0]'
                          '.ContainerSettings.Mp4Settings: "moovPlacment"')
    assert "moovPlacement" in mp4  # the field it should have been
    assert len(fake.jobs) == before
    recorded = fake.requests[-1]
    assert (recorded.status, recorded.problems) == (400, lines)
    # The unknown fields are left out of the member-named params.
    assert "Priorityy" not in recorded.params and "priorityy" not in recorded.params
    assert recorded.params["Settings"]["OutputGroups"][0]["Outputs"][0]["ContainerSettings"] \
        == {"Container": "MP4", "Mp4Settings": {}}


def wire_form(params: dict) -> dict:
    """CreateJob's params as botocore puts them on the wire."""
    operation = service_model().operation_model("CreateJob")
    request = create_serializer("rest-json").serialize_to_request(params, operation)
    return json.loads(request["body"])


def test_a_wrong_enum_value_is_refused(fake, unvalidated):
    settings = copy.deepcopy(SETTINGS)
    settings["OutputGroups"][0]["Outputs"][0]["ContainerSettings"]["Mp4Settings"] \
        ["MoovPlacement"] = "FASTSTART"
    with pytest.raises(ClientError) as excinfo:
        unvalidated.create_job(Role=ROLE, Settings=settings)
    code, message, status = refusal(excinfo)
    assert (code, status) == ("BadRequestException", 400)
    assert message == ("Invalid value for parameter Settings.OutputGroups[0].Outputs[0]"
                       ".ContainerSettings.Mp4Settings.MoovPlacement, value: 'FASTSTART', "
                       "valid values: PROGRESSIVE_DOWNLOAD, NORMAL")
    assert fake.requests[-1].params["Settings"]["OutputGroups"][0]["Outputs"][0] \
        ["ContainerSettings"]["Mp4Settings"] == {"MoovPlacement": "FASTSTART"}


def test_a_missing_required_member_is_refused(fake, unvalidated):
    with pytest.raises(ClientError) as excinfo:
        unvalidated.create_job(Settings=SETTINGS)
    assert refusal(excinfo) == ("BadRequestException",
                                'Missing required parameter in input: "Role"', 400)
    with pytest.raises(ClientError) as excinfo:
        unvalidated.create_job(Role=ROLE, Settings=SETTINGS, AccelerationSettings={})
    assert refusal(excinfo)[1] == \
        'Missing required parameter in AccelerationSettings: "Mode"'


def test_every_problem_is_listed(fake, unvalidated):
    settings = copy.deepcopy(SETTINGS)
    output = settings["OutputGroups"][0]["Outputs"][0]
    output["VideoDescription"]["Width"] = True                    # a boolean for an integer
    output["VideoDescription"]["Height"] = "1080"                 # a string for an integer
    output["VideoDescription"]["CodecSettings"]["H264Settings"]["MaxBitrate"] = 10**12  # > max
    output["AudioDescriptions"][0]["CodecSettings"]["AacSettings"]["Bitrate"] = 1000  # < min
    settings["Inputs"][0]["FileInput"] = "temp/clip.mp4"          # not s3:// nor https://
    with pytest.raises(ClientError) as excinfo:
        unvalidated.create_job(Role=ROLE, Settings=settings, Priority=51,
                               StatusUpdateInterval="SECONDS_5")
    code, message, _ = refusal(excinfo)
    assert code == "BadRequestException"
    lines = message.split("\n")
    expected = [
        "Settings.Inputs[0].FileInput, value: 'temp/clip.mp4', must match pattern",
        "Settings.OutputGroups[0].Outputs[0].VideoDescription.Width, value: True",
        "Settings.OutputGroups[0].Outputs[0].VideoDescription.Height, value: 1080",
        "H264Settings.MaxBitrate, value: 1000000000000, valid max value: 1152000000",
        "AacSettings.Bitrate, value: 1000, valid min value: 6000",
        "Priority, value: 51, valid max value: 50",
        "StatusUpdateInterval, value: 'SECONDS_5', valid values: SECONDS_10,",
    ]
    assert len(lines) == len(expected), lines
    for fragment in expected:
        assert any(fragment in line for line in lines), (fragment, lines)


def test_a_body_that_is_not_a_json_object_is_refused(fake):
    status, headers, answer = signed_request(fake, "POST", "/2017-08-29/jobs", ["settings"])
    assert (status, headers["x-amzn-errortype"]) == (400, "BadRequestException")
    assert "must be a JSON object" in answer["message"]


def test_an_unknown_job_is_not_found(mediaconvert):
    with pytest.raises(ClientError) as excinfo:
        mediaconvert.get_job(Id="1700000000000-nosuch")
    assert refusal(excinfo)[0::2] == ("NotFoundException", 404)


# -- idempotency ---------------------------------------------------------------------------------


def test_the_same_client_request_token_returns_the_same_job(fake, mediaconvert):
    token = str(uuid.uuid4())
    first = mediaconvert.create_job(Role=ROLE, Settings=SETTINGS, ClientRequestToken=token)["Job"]
    jobs = len(fake.jobs)
    again = mediaconvert.create_job(Role=ROLE, Settings=SETTINGS, ClientRequestToken=token)["Job"]
    assert again == first
    assert len(fake.jobs) == jobs
    assert [r.job_id for r in fake.requests[-2:]] == [first["Id"]] * 2

    other = mediaconvert.create_job(Role=ROLE, Settings=SETTINGS,
                                    ClientRequestToken=str(uuid.uuid4()))["Job"]
    assert other["Id"] != first["Id"]
    # botocore makes up a token of its own for each call that has none.
    one = mediaconvert.create_job(Role=ROLE, Settings=SETTINGS)["Job"]
    two = mediaconvert.create_job(Role=ROLE, Settings=SETTINGS)["Job"]
    assert one["Id"] != two["Id"]
    assert one["ClientRequestToken"] != two["ClientRequestToken"]


# -- signing -------------------------------------------------------------------------------------


def test_an_unsigned_request_is_refused(fake):
    status, headers, answer = signed_request(fake, "GET", "/2017-08-29/jobs/x", credentials=None)
    assert (status, headers["x-amzn-errortype"]) == (403, "MissingAuthenticationTokenException")
    assert fake.requests[-1].status == 403


def test_a_request_signed_for_another_service_or_region_is_refused(fake):
    status, headers, answer = signed_request(fake, "POST", "/2017-08-29/jobs",
                                             {"role": ROLE, "settings": {}}, service="s3")
    assert (status, headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")
    assert "'mediaconvert'" in answer["message"]
    status, _, answer = signed_request(fake, "GET", "/2017-08-29/jobs/x", region="eu-west-1")
    assert status == 403 and "region" in answer["message"]


def test_a_wrong_secret_or_missing_session_token_is_refused(fake):
    wrong = Credentials(TRUSTED.access_key_id, "not-the-secret")
    with pytest.raises(ClientError) as excinfo:
        client(fake, wrong).get_job(Id="x")
    assert refusal(excinfo)[0::2] == ("InvalidSignatureException", 403)

    without_token = Credentials(TEMPORARY.access_key_id, TEMPORARY.secret_access_key)
    with pytest.raises(ClientError) as excinfo:
        client(fake, without_token).get_job(Id="x")
    assert refusal(excinfo)[0::2] == ("UnrecognizedClientException", 403)

    job = client(fake, TEMPORARY).create_job(Role=ROLE, Settings=SETTINGS)["Job"]
    assert fake.requests[-1].access_key == TEMPORARY.access_key_id
    assert job["Status"] == "SUBMITTED"


def test_a_key_it_was_not_told_about_passes_the_structural_checks_only(fake):
    stranger = Credentials("AKIASTRANGERSTRANGER", "whatever")
    job = client(fake, stranger).create_job(Role=ROLE, Settings=SETTINGS)["Job"]
    assert fake.requests[-1].access_key == stranger.access_key_id
    assert job["Id"] in fake.jobs
