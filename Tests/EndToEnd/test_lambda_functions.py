"""The Lambda functions against moto (support/production_peer.py) and the MediaConvert fake, each in the
static bootstrap in an empty root (support/lambda_host.py): the video service's presigned PUT lands in the
temp bucket and S3's event reaches the queue through the topic; the trigger turns it into one
CreateJob whose settings botocore's model accepts; the completion events, routed by moto's
EventBridge with the template's own rule, move the video to `ready` (original deleted) or
`failed`; repeated and late events change nothing; another user's `sub` reaches nothing.

The media: a ready video's playback and thumbnail URLs are paths under `/media/` on the site's
origin, and `POST /session` sets CloudFront signed cookies (payload 2.0's `cookies`) whose custom
policy opens the caller's folder only, signed with the private key the function reads from its
Secrets Manager secret — checked here against the key's public half and against botocore's own
CloudFront signer; `DELETE /session` clears them. Calls come under `/api` as the distribution
forwards them, or without it."""

from __future__ import annotations

import base64
import datetime
import fnmatch
import json
import time
import urllib.parse
import uuid

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from support import REPO
from support.cfn_template import load_template
from support.files import make_clip, sha256_b64
from support.lambda_host import LambdaHost, build_lambda, http_api_event

ALICE = str(uuid.UUID(int=0xA11CE))
BOB = str(uuid.UUID(int=0xB0B))
# An MP4 whose header says nothing of its picture (an ftyp, then bytes that are no box): the trigger
# cannot read its size, so its job asks for every rung.
CLIP = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64
# A real 854x480 MP4 (two frames, index first), as the Swift tests of the header reader use it.
CLIP_480P = (REPO / "Tests/VideoServiceTests/Fixtures/media/landscape-480p.mp4").read_bytes()
ALL_RUNGS = "360p,480p,720p,1080p"
COOKIE_NAMES = {"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"}


@pytest.fixture(scope="module")
def binary():
    return build_lambda().binary


def started_functions(production, binary, **settings: str):
    """The video, trigger and complete functions with the production peer's environment and
    `settings` added; stopped when the test ends."""
    env = production.env(**settings)
    hosts = {name: LambdaHost(binary, name, env=env).start() for name in ("video", "trigger", "complete")}
    try:
        yield hosts
    finally:
        for host in hosts.values():
            host.stop()


@pytest.fixture
def functions(production, binary):
    yield from started_functions(production, binary)


def api(functions, method: str, path: str, sub: str = ALICE, body: dict | None = None, query: str = "") -> tuple[int, dict]:
    event = http_api_event(method, path, json.dumps(body) if body is not None else None, sub=sub, query=query)
    outcome = functions["video"].invoke(event, timeout_ms=10_000)
    assert outcome.kind == "response", functions["video"].logs()
    answer = outcome.payload
    return answer["statusCode"], (json.loads(answer["body"]) if answer.get("body") else {})


def converted_seconds(production, sub: str) -> float:
    """The month's converted seconds on the user's usage item (DynamoDBLibrary's `usage#2026-12`)."""
    month = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m")
    item = production.client("dynamodb").get_item(TableName=production.table_name, ConsistentRead=True,
                                                  Key={"sub": {"S": sub}, "id": {"S": f"usage#{month}"}}).get("Item")
    return float(item["convertedSeconds"]["N"]) if item else 0.0


def video(functions, video_id: str, sub: str = ALICE) -> dict:
    status, body = api(functions, "GET", f"/videos/{video_id}", sub=sub)
    assert status == 200, body
    return body


def upload(production, functions, name: str = "holiday clip.mp4", data: bytes = CLIP) -> dict:
    """POST /videos/upload-url, then the presigned PUT as the browser sends it."""
    status, created = api(functions, "POST", "/videos/upload-url", body={
        "fileName": name, "contentType": "video/mp4", "size": len(data), "checksumSHA256": sha256_b64(data)})
    assert status == 200, created
    put, headers, answer = production.put_presigned(created["uploadUrl"], data, {
        "Content-Type": "video/mp4", "x-amz-checksum-sha256": sha256_b64(data)})
    assert put == 200, answer
    return created


def trigger_batch(production, functions) -> tuple[dict, dict]:
    """One batch from the queue through the trigger, acknowledged as the event source mapping does."""
    event = production.receive_sqs_event(wait=10)
    assert event["Records"], "no message reached the queue"
    outcome = functions["trigger"].invoke(event, timeout_ms=20_000)
    assert outcome.kind == "response", functions["trigger"].logs()
    production.acknowledge(event, outcome.payload)
    return event, outcome.payload


def job_request(production, video_id: str) -> dict:
    """The accepted CreateJob of a video (botocore member names)."""
    return next(j for j in production.mediaconvert.create_job_requests() if j["ClientRequestToken"] == video_id)


def job_id_of(production, video_id: str) -> str:
    """The id of the job the fake made for a video."""
    return next(r.job_id for r in production.mediaconvert.requests if r.accepted and r.job_id
                and r.params.get("ClientRequestToken") == video_id)


def session(functions, method: str = "POST", sub: str = ALICE, exp: int | None = None, path: str = "/session",
            host: str = "video") -> dict:
    """The session call through the function, as API Gateway sends it (the token's `exp` among the
    authorizer's claims, a string); the payload 2.0 response."""
    claims = {"exp": exp} if exp is not None else None
    outcome = functions[host].invoke(http_api_event(method, path, sub=sub, claims=claims), timeout_ms=10_000)
    assert outcome.kind == "response", functions[host].logs()
    return outcome.payload


def set_cookies(answer: dict) -> dict[str, tuple[str, dict]]:
    """The response's `cookies`, by name: (value, attributes with lower-case names; a flag is True)."""
    found = {}
    for text in answer.get("cookies", []):
        first, *rest = text.split("; ")
        name, _, value = first.partition("=")
        attributes = {}
        for attribute in rest:
            key, equals, setting = attribute.partition("=")
            attributes[key.lower()] = setting if equals else True
        assert name not in found, answer["cookies"]
        found[name] = (value, attributes)
    return found


def cloudfront_b64decode(text: str) -> bytes:
    """CloudFront's base64: `-`, `_` and `~` for `+`, `=` and `/`."""
    assert not set(text) & set("+=/"), text
    return base64.b64decode(text.translate(str.maketrans("-_~", "+=/")), validate=True)


def policy_of(answer: dict) -> dict:
    return json.loads(cloudfront_b64decode(set_cookies(answer)["CloudFront-Policy"][0]))


def complete(functions, event: dict) -> dict:
    outcome = functions["complete"].invoke(event, timeout_ms=10_000)
    assert outcome.kind == "response", functions["complete"].logs()
    return outcome.payload


def test_an_upload_becomes_one_mediaconvert_job_and_then_a_ready_video(production, functions):
    created = upload(production, functions)
    key = created["key"]
    assert key == f"uploads/{ALICE}/{created['videoId']}/holiday clip.mp4"
    # The URL is presigned by the function with its role's session credentials, for the declared
    # type, length and SHA-256.
    assert "X-Amz-Security-Token=" in created["uploadUrl"]
    signed = created["uploadUrl"].split("X-Amz-SignedHeaders=")[1].split("&")[0]
    assert set(signed.split("%3B")) == {"content-length", "content-type", "host", "x-amz-checksum-sha256"}
    head = production.client("s3").head_object(Bucket=production.temp_bucket, Key=key)
    assert head["ContentLength"] == len(CLIP)

    # S3 → SNS → SQS: the first batch also holds S3's test event, which the trigger skips.
    event, answer = trigger_batch(production, functions)
    bodies = [json.loads(json.loads(r["body"])["Message"]) for r in event["Records"]]
    assert any(b.get("Event") == "s3:TestEvent" for b in bodies) or len(bodies) == 1, bodies
    assert answer == {"batchItemFailures": []}
    jobs = production.mediaconvert.create_job_requests()
    assert len(jobs) == 1, jobs
    job = jobs[0]
    assert job["ClientRequestToken"] == created["videoId"]
    assert job["UserMetadata"] == {"videoId": created["videoId"], "sub": ALICE, "hls": ALL_RUNGS}
    # Phone videos are turned upright, as ffmpeg does in the local cloud.
    assert job["Settings"]["Inputs"][0]["VideoSelector"] == {"Rotate": "AUTO"}
    assert job["Role"] == production.mediaconvert_role_arn
    settings = job["Settings"]
    assert settings["Inputs"][0]["FileInput"] == f"s3://{production.temp_bucket}/{key}"
    groups = {g["Name"]: g for g in settings["OutputGroups"]}
    prefix = f"s3://{production.main_bucket}/videos/{ALICE}/{created['videoId']}/"
    assert groups["Video"]["OutputGroupSettings"]["FileGroupSettings"]["Destination"] == prefix + "video"
    mp4 = groups["Video"]["Outputs"][0]
    assert mp4["ContainerSettings"] == {"Container": "MP4", "Mp4Settings": {"MoovPlacement": "PROGRESSIVE_DOWNLOAD"}}
    assert mp4["VideoDescription"]["CodecSettings"]["Codec"] == "H_264"
    assert mp4["AudioDescriptions"][0]["CodecSettings"]["Codec"] == "AAC"
    frame = groups["Thumbnail"]["Outputs"][0]["VideoDescription"]["CodecSettings"]
    assert frame["Codec"] == "FRAME_CAPTURE" and frame["FrameCaptureSettings"]["MaxCaptures"] == 1
    # The HLS ladder: one CMAF group (accepted by the fake, so valid by botocore's model), one file
    # per rendition under hls/, the rungs lowest first and never scaled up, then the sound. The
    # upload's header gives no size, so every rung is asked for.
    cmaf = groups["Stream"]["OutputGroupSettings"]
    assert cmaf["Type"] == "CMAF_GROUP_SETTINGS"
    assert cmaf["CmafGroupSettings"]["Destination"] == prefix + "hls/index"
    assert cmaf["CmafGroupSettings"]["SegmentControl"] == "SINGLE_FILE" and cmaf["CmafGroupSettings"]["SegmentLength"] == 2
    outputs = groups["Stream"]["Outputs"]
    assert [o["NameModifier"] for o in outputs] == ["_360p", "_480p", "_720p", "_1080p", "_audio"]
    assert all(o["VideoDescription"]["ScalingBehavior"] == "FIT_NO_UPSCALE" for o in outputs[:4])
    assert all(o["VideoDescription"]["CodecSettings"]["H264Settings"]["GopSizeUnits"] == "SECONDS" for o in outputs[:4])
    assert outputs[4]["AudioDescriptions"][0]["CodecSettings"]["Codec"] == "AAC"
    assert video(functions, created["videoId"])["status"] == "queued"

    # The same S3 event again (SQS delivers at least once): no second job.
    s3_event = json.loads(json.loads(event["Records"][-1]["body"])["Message"])
    again = {"Records": [{**event["Records"][-1], "messageId": str(uuid.uuid4())}]}
    assert functions["trigger"].invoke(again, timeout_ms=20_000).payload == {"batchItemFailures": []}
    job_ids = {r.job_id for r in production.mediaconvert.requests if r.accepted}
    assert len(job_ids) == 1, job_ids
    assert s3_event["Records"][0]["s3"]["object"]["key"].startswith("uploads")

    job_id = next(iter(job_ids))
    assert complete(functions, production.status_update_event(job_id, percent=40, user_metadata=job["UserMetadata"])) == {"applied": True}
    progressing = video(functions, created["videoId"])
    assert progressing["status"] == "converting" and progressing["progress"] == pytest.approx(0.4)
    # An older progress event arriving late does not move it back.
    assert complete(functions, production.status_update_event(job_id, percent=20, user_metadata=job["UserMetadata"])) == {"applied": False}

    seconds_before = converted_seconds(production, ALICE)
    assert complete(functions, production.complete_event_for(job_id, duration_ms=20_500)) == {"applied": True}
    ready = video(functions, created["videoId"])
    assert ready["status"] == "ready" and ready["durationSeconds"] == pytest.approx(20.5) and ready["progress"] is None
    # The month's converted minutes count the conversion once, a repeated completion nothing.
    assert complete(functions, production.complete_event_for(job_id, duration_ms=20_500)) == {"applied": False}
    assert converted_seconds(production, ALICE) == pytest.approx(seconds_before + 20.5)
    status, report = api(functions, "GET", "/videos/usage")
    assert status == 200 and report["usage"]["convertedMinutes"] >= 1 and report["limits"]["convertedMinutesPerMonth"] == 600
    # Plain paths on the site's origin (CloudFront's /media/* behaviour, the main bucket behind it):
    # no bucket, no signature, no expiry; the session's cookies open them.
    assert ready["playbackUrl"] == f"/media/videos/{ALICE}/{created['videoId']}/video.mp4"
    assert ready["thumbnailUrl"] == f"/media/videos/{ALICE}/{created['videoId']}/thumbnail.0000000.jpg"
    # The job also wrote the HLS ladder (its CMAF group), which the record now says.
    assert ready["streamUrl"] == f"/media/videos/{ALICE}/{created['videoId']}/hls/index.m3u8"
    # Alice's session cookies open both, Bob's neither.
    alice_resource = policy_of(session(functions))["Statement"][0]["Resource"]
    bob_resource = policy_of(session(functions, sub=BOB))["Statement"][0]["Resource"]
    for url in (ready["playbackUrl"], ready["thumbnailUrl"], ready["streamUrl"]):
        assert fnmatch.fnmatchcase(production.media_origin + url, alice_resource), (url, alice_resource)
        assert not fnmatch.fnmatchcase(production.media_origin + url, bob_resource), (url, bob_resource)
    listed = production.client("s3").list_objects_v2(Bucket=production.temp_bucket).get("Contents", [])
    assert key not in [o["Key"] for o in listed], "the original is still in the temp bucket"

    # Repeated and late events change nothing.
    assert complete(functions, production.complete_event_for(job_id, duration_ms=99_000)) == {"applied": False}
    assert complete(functions, production.status_update_event(job_id, percent=90, user_metadata=job["UserMetadata"])) == {"applied": False}
    assert complete(functions, production.error_event(job_id, user_metadata=job["UserMetadata"])) == {"applied": False}
    # The same video, URLs included: they are paths, not signed afresh on every read.
    assert video(functions, created["videoId"]) == ready


@pytest.fixture
def capped(production, binary):
    """The trigger, complete and video functions of a deployment whose longest video is 3 seconds
    (`LIMIT_LONGEST_MINUTES` 0.05) and whose sweeper asks about every waiting video at once."""
    yield from started_functions(production, binary, LIMIT_LONGEST_MINUTES="0.05", SWEEP_AFTER_SECONDS="0")


def test_a_source_longer_than_the_longest_is_clipped_by_the_job_and_the_video_says_so(production, capped, tmp_path):
    # A real 5-second MP4: its mvhd states the duration the trigger reads before paying for a job.
    clip = make_clip(tmp_path / "five.mp4", 5, "160x90")
    created = upload(production, capped, "five seconds.mp4", clip.read_bytes())
    trigger_batch(production, capped)
    job = job_request(production, created["videoId"])
    # Accepted by the fake, so valid by botocore's model: the input is cut at 3 s (frame 0 of second 3).
    assert job["Settings"]["Inputs"][0]["InputClippings"] == [{"EndTimecode": "00:00:03:00"}]
    assert abs(float(job["UserMetadata"]["cutFrom"]) - 5) < 0.1, job["UserMetadata"]
    assert complete(capped, production.complete_event_for(job_id_of(production, created["videoId"]), duration_ms=3_000)) \
        == {"applied": True}
    ready = video(capped, created["videoId"])
    assert ready["status"] == "ready" and ready["durationSeconds"] == pytest.approx(3.0), ready
    assert ready["cutFromSeconds"] == pytest.approx(float(job["UserMetadata"]["cutFrom"])), ready
    status, report = api(capped, "GET", "/videos/usage")
    assert status == 200 and report["limits"]["longestMinutes"] == 0.05, report
    # A source shorter than the cap is not clipped.
    short = upload(production, capped, "one second.mp4", make_clip(tmp_path / "one.mp4", 1, "160x90").read_bytes())
    trigger_batch(production, capped)
    whole = job_request(production, short["videoId"])
    assert "InputClippings" not in whole["Settings"]["Inputs"][0] and "cutFrom" not in whole["UserMetadata"]


def test_the_scheduled_sweep_settles_videos_whose_job_event_was_lost(production, capped):
    """Four videos whose job events never reached the completion handler: MediaConvert has finished
    one, failed one, still runs one, and knows nothing of the fourth (its job id lost). The schedule's
    event makes the handler ask GetJob about each and settle what ended."""
    created = [upload(production, capped, f"lost {n}.mp4", CLIP_480P) for n in range(4)]
    trigger_batch(production, capped)
    ids = {c["videoId"]: job_id_of(production, c["videoId"]) for c in created}
    done, broken, running, orphan = (c["videoId"] for c in created)
    finished = production.mediaconvert.jobs[ids[done]]
    production.complete_job(ids[done], duration_ms=4_200)
    production.mediaconvert.set_job(ids[broken], status="ERROR", errorCode=1010, errorMessage="Failed probe/open")
    production.mediaconvert.set_job(ids[running], status="PROGRESSING")
    production.client("dynamodb").update_item(TableName=production.table_name, Key={"sub": {"S": ALICE}, "id": {"S": orphan}},
                                               UpdateExpression="SET jobId = :gone", ExpressionAttributeValues={":gone": {"S": "1-gone00"}})
    assert finished["userMetadata"]["videoId"] == done
    gets_before = len([r for r in production.mediaconvert.requests if r.operation == "GetJob"])
    answer = complete(capped, production.schedule_event())
    assert answer["ready"] == 1 and answer["failed"] == 2 and answer["running"] >= 1 and answer["errors"] == 0, answer
    gets = [r for r in production.mediaconvert.requests if r.operation == "GetJob"][gets_before:]
    assert {r.params["Id"] for r in gets} >= {ids[done], ids[broken], ids[running], "1-gone00"}, gets
    assert video(capped, done)["status"] == "ready" and video(capped, done)["durationSeconds"] == pytest.approx(4.2)
    failed = video(capped, broken)
    assert failed["status"] == "failed" and "could not be opened" in failed["error"] and "1010" in failed["error"], failed
    assert video(capped, running)["status"] == "queued"
    lost = video(capped, orphan)
    assert lost["status"] == "failed" and "lost" in lost["error"], lost
    # The original of the video made ready left the temporary bucket, as the end event would have done.
    listed = [o["Key"] for o in production.client("s3").list_objects_v2(Bucket=production.temp_bucket).get("Contents", [])]
    assert created[0]["key"] not in listed and created[2]["key"] in listed
    # The event that finally arrives changes nothing.
    assert complete(capped, production.complete_event_for(ids[done], duration_ms=4_200)) == {"applied": False}


def ladder_outputs(job: dict) -> list[tuple[str, int, int]]:
    """The video renditions of a job's CMAF group: (name modifier, width, height) each."""
    group = next(g for g in job["Settings"]["OutputGroups"] if g["Name"] == "Stream")
    return [(o["NameModifier"], o["VideoDescription"]["Width"], o["VideoDescription"]["Height"])
            for o in group["Outputs"] if "VideoDescription" in o]


def test_a_480p_upload_gets_the_480p_and_360p_renditions_only(production, functions):
    created = upload(production, functions, "phone clip.mp4", CLIP_480P)
    assert trigger_batch(production, functions)[1] == {"batchItemFailures": []}
    job = job_request(production, created["videoId"])
    assert ladder_outputs(job) == [("_360p", 640, 360), ("_480p", 854, 480)]
    assert all(o["VideoDescription"]["ScalingBehavior"] == "FIT_NO_UPSCALE"
               for g in job["Settings"]["OutputGroups"] if g["Name"] == "Stream" for o in g["Outputs"] if "VideoDescription" in o)
    assert job["UserMetadata"]["hls"] == "360p,480p"
    # The job wrote a ladder, which its completion records.
    job_id = job_id_of(production, created["videoId"])
    assert complete(functions, production.complete_event_for(job_id)) == {"applied": True}
    assert video(functions, created["videoId"])["streamUrl"] == f"/media/videos/{ALICE}/{created['videoId']}/hls/index.m3u8"


def test_a_job_submitted_before_the_ladder_completes_as_mp4_only(production, functions):
    """A job's user metadata without `hls` (jobs created before the ladder existed): the video is
    ready with its MP4, and no stream."""
    created = upload(production, functions, "old.mp4")
    trigger_batch(production, functions)
    job_id = job_id_of(production, created["videoId"])
    event = production.complete_event(job_id, user_metadata={"videoId": created["videoId"], "sub": ALICE})
    assert complete(functions, event) == {"applied": True}
    ready = video(functions, created["videoId"])
    assert ready["status"] == "ready" and ready["playbackUrl"].endswith("/video.mp4")
    assert ready["streamUrl"] is None


def test_a_file_that_is_no_media_container_fails_before_a_job_is_paid_for(production, functions):
    """Judged by its first bytes, whatever its name: a text file and an HLS playlist named .mp4 fail
    at once with the reason the app shows as "not a video", and MediaConvert is never asked."""
    jobs_before = len(production.mediaconvert.create_job_requests())
    text = upload(production, functions, "notes.mp4", b"not a video at all\n" * 100)
    playlist = upload(production, functions, "clip.mp4", b"#EXTM3U\n#EXTINF:10,\nhttp://169.254.169.254/latest/meta-data/\n")
    for _ in range(2):
        if {video(functions, text["videoId"])["status"], video(functions, playlist["videoId"])["status"]} == {"failed"}:
            break
        trigger_batch(production, functions)
    for created in (text, playlist):
        failed = video(functions, created["videoId"])
        assert failed["status"] == "failed" and failed["playbackUrl"] is None, failed
        assert failed["error"].startswith("No video stream found: the file is not a video"), failed
    assert len(production.mediaconvert.create_job_requests()) == jobs_before
    assert "refused, its first bytes are no media container" in functions["trigger"].logs()


def test_a_conversion_error_fails_the_video_with_a_reason_a_person_understands(production, functions):
    # An MP4's first box, then bytes MediaConvert cannot open.
    created = upload(production, functions, "notes.mp4", CLIP)
    trigger_batch(production, functions)
    job = production.mediaconvert.create_job_requests()[-1]
    job_id = [r.job_id for r in production.mediaconvert.requests if r.accepted][-1]
    error = production.error_event(job_id, error_code=1010, error_message="Failed probe/open: [No parser found for container]",
                                   user_metadata=job["UserMetadata"])
    assert complete(functions, error) == {"applied": True}
    failed = video(functions, created["videoId"])
    assert failed["status"] == "failed" and failed["playbackUrl"] is None
    assert failed["error"].startswith("The file could not be opened"), failed
    assert "1010" in failed["error"] and not failed["error"].startswith("1010")
    # A COMPLETE arriving after the ERROR does not revive it.
    assert complete(functions, production.complete_event_for(job_id)) == {"applied": False}
    assert video(functions, created["videoId"])["status"] == "failed"


def test_one_bad_message_does_not_redo_the_batch(production, functions):
    first = upload(production, functions, "one.mp4")
    second = upload(production, functions, "two.mp4")
    event = production.receive_sqs_event(wait=10)
    records = event["Records"]
    while len([r for r in records if "ObjectCreated" in r["body"]]) < 2:
        more = production.receive_sqs_event(wait=10)["Records"]
        assert more, "the second upload's event never came"
        records += more
    bad = {**records[0], "messageId": "not-an-s3-event", "body": json.dumps({"Type": "Notification", "Message": "{\"hello\": 1}"})}
    outcome = functions["trigger"].invoke({"Records": records + [bad]}, timeout_ms=20_000)
    assert outcome.payload == {"batchItemFailures": [{"itemIdentifier": "not-an-s3-event"}]}, functions["trigger"].logs()
    assert {video(functions, first["videoId"])["status"], video(functions, second["videoId"])["status"]} == {"queued"}
    assert len(production.mediaconvert.create_job_requests()) == 2


def test_another_users_sub_reaches_nothing(production, functions):
    created = upload(production, functions)
    trigger_batch(production, functions)
    job = production.mediaconvert.create_job_requests()[-1]
    job_id = [r.job_id for r in production.mediaconvert.requests if r.accepted][-1]
    # The API: Bob sees no video of Alice's, cannot delete it, and cannot sign her upload's parts.
    assert api(functions, "GET", f"/videos/{created['videoId']}", sub=BOB)[0] == 404
    assert api(functions, "DELETE", f"/videos/{created['videoId']}", sub=BOB)[0] == 404
    assert api(functions, "GET", "/videos", sub=BOB) == (200, {"videos": []})
    status, _ = api(functions, "GET", "/videos/multipart/parts", sub=BOB,
                    query=f"key={created['key'].replace('/', '%2F').replace(' ', '%20')}&uploadId=x")
    assert status == 403
    # Events naming Bob's sub with Alice's video id change nothing.
    forged = {"videoId": created["videoId"], "sub": BOB}
    assert complete(functions, production.complete_event(job_id, user_metadata=forged)) == {"applied": False}
    assert complete(functions, production.error_event(job_id, user_metadata=forged)) == {"applied": False}
    assert video(functions, created["videoId"])["status"] == "queued"
    # Alice deletes it: the record and the original go.
    assert api(functions, "DELETE", f"/videos/{created['videoId']}")[0] == 204
    assert api(functions, "GET", f"/videos/{created['videoId']}")[0] == 404
    listed = production.client("s3").list_objects_v2(Bucket=production.temp_bucket).get("Contents", [])
    assert created["key"] not in [o["Key"] for o in listed]
    assert job["UserMetadata"]["sub"] == ALICE


def test_the_templates_rule_routes_only_this_stacks_job_events_to_the_completion_handler(production, functions):
    """MediaConvert's events reach the completion handler through EventBridge (moto's here), by the
    production template's own rule: this stack's queue, the three statuses; nothing else."""
    rule = load_template()["Resources"]["CompleteFunction"]["Properties"]["Events"]["JobStateChange"]["Properties"]
    queue_ref = json.dumps({"Fn::GetAtt": ["ConversionQueue", "Arn"]})
    pattern = json.loads(json.dumps(rule["Pattern"]).replace(queue_ref, json.dumps(production.mediaconvert_queue_arn)))
    events, sqs = production.client("events"), production.client("sqs")
    target = sqs.create_queue(QueueName=f"job-events-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    target_arn = sqs.get_queue_attributes(QueueUrl=target, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = f"job-state-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "completion", "Arn": target_arn}])

    created = upload(production, functions)
    trigger_batch(production, functions)
    job_id = [r.job_id for r in production.mediaconvert.requests if r.accepted][-1]
    metadata = production.mediaconvert.create_job_requests()[-1]["UserMetadata"]
    complete_event = production.complete_event_for(job_id, duration_ms=12_000)
    elsewhere = production.status_update_event(job_id, percent=50, user_metadata=metadata, queue="arn:aws:mediaconvert:us-east-1:123456789012:queues/Other")
    progressing = production.job_state_change_event("PROGRESSING", job_id, user_metadata=metadata)
    sent = events.put_events(Entries=[{"Source": e["source"], "DetailType": e["detail-type"], "Detail": json.dumps(e["detail"]),
                                       "Resources": e["resources"]} for e in (elsewhere, progressing, complete_event)])
    assert sent["FailedEntryCount"] == 0, sent
    routed = sqs.receive_message(QueueUrl=target, MaxNumberOfMessages=10, WaitTimeSeconds=5).get("Messages", [])
    bodies = [json.loads(m["Body"]) for m in routed]
    # Another queue's job and a status the rule leaves out never reach the function.
    assert [b["detail"]["status"] for b in bodies] == ["COMPLETE"], bodies
    assert complete(functions, bodies[0]) == {"applied": True}
    ready = video(functions, created["videoId"])
    assert ready["status"] == "ready" and ready["durationSeconds"] == pytest.approx(12.0)


# -- the media session ----------------------------------------------------------------------------


@pytest.fixture
def video_hosts(production, binary):
    """`start(**variables)`: a `video` function on the production wiring, with `variables` over
    production.env(); as {"video": host}, for `api()` and `session()`."""
    started: list[LambdaHost] = []

    def start(**variables: str) -> dict[str, LambdaHost]:
        host = LambdaHost(binary, "video", env=production.env(**variables)).start()
        started.append(host)
        return {"video": host}

    yield start
    for host in started:
        host.stop()


def epoch(text: str) -> int:
    """Seconds since 1970 of an ISO 8601 time in UTC (`…Z`), whole."""
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.utcoffset() == datetime.timedelta(0), text
    return int(moment.timestamp())


def assert_signed_by(key, answer: dict) -> bytes:
    """The session's three cookies are CloudFront's signed cookies with a custom policy, signed
    RSA-SHA1 (PKCS#1 v1.5) with `key`: the signature verifies against the public half, and is byte
    for byte botocore's CloudFrontSigner's for the same policy (PKCS#1 v1.5 is deterministic).
    Returns the policy's bytes."""
    cookies = set_cookies(answer)
    assert set(cookies) == COOKIE_NAMES and len(answer["cookies"]) == 3, answer.get("cookies")
    assert cookies["CloudFront-Key-Pair-Id"][0] == key.key_pair_id
    policy = cloudfront_b64decode(cookies["CloudFront-Policy"][0])
    signature = cloudfront_b64decode(cookies["CloudFront-Signature"][0])
    assert len(signature) == 256  # RSA-2048
    key.public_key.verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())
    with pytest.raises(InvalidSignature):
        key.public_key.verify(signature, policy.replace(b"}]}", b"} ]}"), padding.PKCS1v15(), hashes.SHA1())

    signer = CloudFrontSigner(key.key_pair_id, lambda message: key.private_key.sign(message, padding.PKCS1v15(), hashes.SHA1()))
    statement = json.loads(policy)["Statement"][0]
    expires = datetime.datetime.fromtimestamp(statement["Condition"]["DateLessThan"]["AWS:EpochTime"], datetime.timezone.utc)
    # The compact form botocore (and CloudFront's documentation) writes, to the byte.
    assert signer.build_policy(statement["Resource"], expires).encode() == policy
    signed = signer.generate_presigned_url(statement["Resource"], policy=policy.decode())
    query = dict(pair.split("=", 1) for pair in urllib.parse.urlsplit(signed).query.split("&"))
    assert query["Policy"] == cookies["CloudFront-Policy"][0]
    assert query["Signature"] == cookies["CloudFront-Signature"][0]
    assert query["Key-Pair-Id"] == cookies["CloudFront-Key-Pair-Id"][0]
    return policy


def assert_key_not_logged(host: LambdaHost, pem: str) -> None:
    logs = host.logs()
    for line in pem.strip().splitlines()[1:-1]:
        assert line not in logs, "the function logged its private key"


def test_a_session_sets_signed_cookies_that_open_the_callers_folder_until_the_token_expires(production, video_hosts):
    functions = video_hosts()
    before = int(time.time())
    exp = before + 900
    answer = session(functions, exp=exp)
    after = int(time.time())
    assert answer["statusCode"] == 200, answer
    assert answer["headers"]["Content-Type"].startswith("application/json")
    assert answer["headers"]["Cache-Control"] == "no-store"
    # Payload 2.0's `cookies`, one Set-Cookie each; none in the headers (a map holds one per name).
    assert not {name.lower() for name in answer["headers"]} & {"set-cookie"}
    body = json.loads(answer["body"])
    folder = f"/media/videos/{ALICE}/"
    assert body["mediaPath"] == folder
    # The token's `exp` comes before the hour: the cookies end with the token.
    assert epoch(body["expiresAt"]) == exp
    assert exp - after <= body["expiresIn"] <= exp - before
    for name, (value, attributes) in set_cookies(answer).items():
        assert value, name
        assert attributes == {"path": folder, "secure": True, "httponly": True, "samesite": "Strict",
                              "max-age": str(body["expiresIn"])}, (name, attributes)
    policy = assert_signed_by(production.media_key, answer)
    assert json.loads(policy) == {"Statement": [{
        "Resource": f"{production.media_origin}{folder}*",
        "Condition": {"DateLessThan": {"AWS:EpochTime": exp}}}]}
    assert_key_not_logged(functions["video"], production.media_key.pem)


@pytest.mark.parametrize("exp", ["later", None], ids=["token-outlives-the-hour", "no-exp-claim"])
def test_the_cookies_last_an_hour_at_most(production, video_hosts, exp):
    functions = video_hosts()
    before = int(time.time())
    answer = session(functions, exp=before + 7200 if exp == "later" else None)
    after = int(time.time())
    assert answer["statusCode"] == 200, answer
    body = json.loads(answer["body"])
    expires = json.loads(assert_signed_by(production.media_key, answer))["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"]
    assert before + 3600 <= expires <= after + 3600
    assert epoch(body["expiresAt"]) == expires
    assert 3600 - (after - before) <= body["expiresIn"] <= 3600
    assert {attributes["max-age"] for _, attributes in set_cookies(answer).values()} == {str(body["expiresIn"])}


def test_a_token_past_its_exp_gets_no_cookies(video_hosts):
    functions = video_hosts()
    answer = session(functions, exp=int(time.time()) - 5)
    assert answer["statusCode"] == 401, answer
    assert json.loads(answer["body"])["error"]["code"] == "Unauthorized"
    assert "cookies" not in answer


def test_each_user_gets_cookies_for_their_own_folder_only(production, video_hosts):
    functions = video_hosts()
    exp = int(time.time()) + 600
    alice, bob = session(functions, exp=exp), session(functions, sub=BOB, exp=exp)
    alice_policy, bob_policy = (json.loads(assert_signed_by(production.media_key, a)) for a in (alice, bob))
    assert bob_policy["Statement"][0]["Resource"] == f"{production.media_origin}/media/videos/{BOB}/*"
    assert {a["path"] for _, a in set_cookies(bob).values()} == {f"/media/videos/{BOB}/"}
    assert json.loads(bob["body"])["mediaPath"] == f"/media/videos/{BOB}/"
    alice_url = f"{production.media_origin}/media/videos/{ALICE}/{'a' * 26}/video.mp4"
    assert fnmatch.fnmatchcase(alice_url, alice_policy["Statement"][0]["Resource"])
    assert not fnmatch.fnmatchcase(alice_url, bob_policy["Statement"][0]["Resource"])
    # Nor the folder above, nor another site's.
    for elsewhere in (f"{production.media_origin}/media/videos/{ALICE}", f"{production.media_origin}/media/uploads/{ALICE}/x",
                      f"https://elsewhere.example/media/videos/{ALICE}/x"):
        assert not fnmatch.fnmatchcase(elsewhere, alice_policy["Statement"][0]["Resource"]), elsewhere


def test_closing_the_session_clears_the_three_cookies(video_hosts):
    functions = video_hosts()
    answer = session(functions, "DELETE")
    assert answer["statusCode"] == 204, answer
    assert answer["body"] == ""
    assert answer["headers"]["Cache-Control"] == "no-store"
    cookies = set_cookies(answer)
    assert set(cookies) == COOKIE_NAMES and len(answer["cookies"]) == 3
    for name, (value, attributes) in cookies.items():
        # The same name, path and flags as when set, so the browser replaces and drops it.
        assert value == "", name
        assert attributes == {"path": f"/media/videos/{ALICE}/", "secure": True, "httponly": True,
                              "samesite": "Strict", "max-age": "0"}, (name, attributes)
    for method in ("GET", "PUT", "PATCH"):
        refused = session(functions, method)
        assert refused["statusCode"] == 405 and "cookies" not in refused, (method, refused)


def test_calls_under_api_reach_the_same_routes(production, video_hosts):
    """CloudFront's /api/* behaviour forwards `/api/videos`…; a leading `/api` is stripped once."""
    functions = video_hosts()
    status, created = api(functions, "POST", "/api/videos/upload-url", body={
        "fileName": "clip.mp4", "contentType": "video/mp4", "size": len(CLIP), "checksumSHA256": sha256_b64(CLIP)})
    assert status == 200, created
    assert created["key"] == f"uploads/{ALICE}/{created['videoId']}/clip.mp4"
    listed = api(functions, "GET", "/videos")
    assert listed[0] == 200 and [v["id"] for v in listed[1]["videos"]] == [created["videoId"]]
    assert api(functions, "GET", "/api/videos") == listed
    assert api(functions, "GET", f"/api/videos/{created['videoId']}") == api(functions, "GET", f"/videos/{created['videoId']}")
    opened = session(functions, path="/api/session", exp=int(time.time()) + 600)
    assert opened["statusCode"] == 200, opened
    assert_signed_by(production.media_key, opened)
    assert session(functions, "DELETE", path="/api/session")["statusCode"] == 204
    for path in ("/api", "/api/", "/apivideos", "/api/api/videos", "/API/videos", "/media/videos"):
        assert api(functions, "GET", path)[0] == 404, path
    assert api(functions, "DELETE", f"/api/videos/{created['videoId']}")[0] == 204
    assert api(functions, "GET", "/videos") == (200, {"videos": []})


INTERNAL_ERROR = {"error": {"code": "InternalError", "message": "Something went wrong on our side. Please try again."}}


def test_a_secret_that_does_not_exist_is_a_500_and_a_log_line_then_is_read_once_it_does(production, video_hosts):
    name = f"video-media-key-missing-{uuid.uuid4().hex[:8]}"
    functions = video_hosts(MEDIA_KEY_SECRET=name)
    answer = session(functions, exp=int(time.time()) + 600)
    assert answer["statusCode"] == 500, answer
    assert answer["headers"]["Content-Type"].startswith("application/json")
    assert json.loads(answer["body"]) == INTERNAL_ERROR
    assert "cookies" not in answer
    line = functions["video"].log_line("cannot sign media cookies")
    assert "GetSecretValue" in line and "ResourceNotFoundException" in line, line
    # Clearing the cookies needs no key.
    assert session(functions, "DELETE")["statusCode"] == 204
    # A failure is not kept: the next call reads the secret again (by name here).
    key = production.media_key
    production.client("secretsmanager").create_secret(Name=name, SecretString=key.pem)
    opened = session(functions, exp=int(time.time()) + 600)
    assert opened["statusCode"] == 200, (opened, functions["video"].logs())
    assert_signed_by(key, opened)
    assert_key_not_logged(functions["video"], key.pem)


def test_a_secret_without_an_rsa_key_is_a_500_naming_the_problem_not_the_contents(production, video_hosts):
    secrets = production.client("secretsmanager")
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    cases = {
        "ec-key": (secrets.create_secret(Name=f"media-ec-{uuid.uuid4().hex[:8]}", SecretString=other)["ARN"],
                   "holds no RSA private key in PEM"),
        "truncated": (secrets.create_secret(Name=f"media-cut-{uuid.uuid4().hex[:8]}",
                                            SecretString=production.media_key.pem[:600])["ARN"], "holds no RSA private key in PEM"),
        "binary": (secrets.create_secret(Name=f"media-bin-{uuid.uuid4().hex[:8]}",
                                         SecretBinary=production.media_key.pem.encode())["ARN"], "holds no SecretString"),
    }
    for case, (arn, problem) in cases.items():
        functions = video_hosts(MEDIA_KEY_SECRET=arn)
        answer = session(functions, exp=int(time.time()) + 600)
        assert answer["statusCode"] == 500 and json.loads(answer["body"]) == INTERNAL_ERROR, (case, answer)
        assert "cookies" not in answer
        line = functions["video"].log_line("cannot sign media cookies")
        assert f"The secret {arn} {problem}" in line, (case, line)
        assert_key_not_logged(functions["video"], other)
        assert_key_not_logged(functions["video"], production.media_key.pem)


def test_the_key_is_read_once_per_execution_environment(production, video_hosts):
    """After the first session the secret is not read again: deleting it changes nothing for this
    environment (a rotation changes the stack's variables, which starts new environments)."""
    functions = video_hosts()
    first = session(functions, exp=int(time.time()) + 600)
    assert first["statusCode"] == 200, first
    production.client("secretsmanager").delete_secret(SecretId=production.media_key.secret_arn, ForceDeleteWithoutRecovery=True)
    again = session(functions, sub=BOB, exp=int(time.time()) + 600)
    assert again["statusCode"] == 200, (again, functions["video"].logs())
    assert_signed_by(production.media_key, again)
    # A new environment reads it, and finds it gone.
    fresh = video_hosts()
    assert session(fresh, exp=int(time.time()) + 600)["statusCode"] == 500


def test_a_pkcs8_key_signs_as_well(production, video_hosts):
    key = production.create_media_key(pem_format="pkcs8")
    assert key.pem.startswith("-----BEGIN PRIVATE KEY-----")
    functions = video_hosts(MEDIA_KEY_PAIR_ID=key.key_pair_id, MEDIA_KEY_SECRET=key.secret_arn)
    answer = session(functions, exp=int(time.time()) + 600)
    assert answer["statusCode"] == 200, (answer, functions["video"].logs())
    assert_signed_by(key, answer)


def test_secrets_manager_is_reached_at_its_own_endpoint_variable(production, video_hosts):
    """AWS_ENDPOINT_URL_SECRETS_MANAGER wins over AWS_ENDPOINT_URL, as in the SDKs: here nothing
    answers at AWS_ENDPOINT_URL (the discard port), and the session is signed all the same. DynamoDB
    gets its own variable too: every call takes from the caller's request bucket there first."""
    functions = video_hosts(AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_ENDPOINT_URL_SECRETS_MANAGER=production.aws.url,
                            AWS_ENDPOINT_URL_DYNAMODB=production.aws.url)
    answer = session(functions, exp=int(time.time()) + 600)
    assert answer["statusCode"] == 200, (answer, functions["video"].logs())
    assert_signed_by(production.media_key, answer)


# -- the request rate -----------------------------------------------------------------------------


def rate_call(host: LambdaHost, sub: str) -> dict:
    """GET /videos as `sub` through the function; the payload 2.0 response."""
    outcome = host.invoke(http_api_event("GET", "/videos", None, sub=sub), timeout_ms=10_000)
    assert outcome.kind == "response", host.logs()
    return outcome.payload


def test_each_users_request_rate_is_one_dynamodb_item_that_refuses_a_burst_with_429(production, video_hosts):
    """RATE_LIMIT_CAPACITY and RATE_LIMIT_PER_SECOND set the bucket; it is the item `rate` in the
    user's partition, moved by conditional UpdateItems, so two execution environments share it."""
    first = video_hosts(RATE_LIMIT_CAPACITY="4", RATE_LIMIT_PER_SECOND="1")["video"]
    second = video_hosts(RATE_LIMIT_CAPACITY="4", RATE_LIMIT_PER_SECOND="1")["video"]
    carol, dave = str(uuid.uuid4()), str(uuid.uuid4())
    answers = [rate_call((first, second)[index % 2], carol) for index in range(8)]
    statuses = [answer["statusCode"] for answer in answers]
    passed = statuses.index(429)
    assert 4 <= passed <= 5 and statuses[passed:].count(200) <= 1, statuses
    refusal = answers[passed]
    assert refusal["headers"]["Retry-After"] == "1", refusal["headers"]
    assert json.loads(refusal["body"])["error"]["code"] == "TooManyRequests", refusal
    item = production.client("dynamodb").get_item(TableName=production.table_name, ConsistentRead=True,
                                                  Key={"sub": {"S": carol}, "id": {"S": "rate"}})["Item"]
    assert int(item["fullAt"]["N"]) > time.time() * 1000 + 2000, item
    # Another user is not slowed; the item is not a video; after the wait, calls pass again.
    assert rate_call(first, dave)["statusCode"] == 200
    time.sleep(int(refusal["headers"]["Retry-After"]))
    again = rate_call(second, carol)
    assert again["statusCode"] == 200 and json.loads(again["body"]) == {"videos": []}, again


def test_a_rate_setting_that_is_no_number_fails_the_start_naming_it(production, binary):
    with LambdaHost(binary, "video", env=production.env(RATE_LIMIT_PER_SECOND="fast")) as host:
        error = host.init_error()
        assert error is not None, host.logs()
        assert "RATE_LIMIT_PER_SECOND" in error.payload["errorMessage"], error.payload
