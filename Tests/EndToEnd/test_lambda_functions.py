"""The Lambda functions against moto (production_peer.py) and the MediaConvert fake, each in the
static bootstrap in an empty root (lambda_host.py): the video service's presigned PUT lands in the
temp bucket and S3's event reaches the queue through the topic; the trigger turns it into one
CreateJob whose settings botocore's model accepts; the completion events, routed by moto's
EventBridge with the template's own rule, move the video to `ready` (original deleted) or
`failed`; repeated and late events change nothing; another user's `sub` reaches nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

import pytest

from cfn_template import load_template
from lambda_host import LambdaHost, build_lambda, http_api_event
from production_peer import production  # noqa: F401  (the fixture)

ALICE = str(uuid.UUID(int=0xA11CE))
BOB = str(uuid.UUID(int=0xB0B))
CLIP = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture(scope="module")
def binary():
    return build_lambda().binary


@pytest.fixture
def functions(production, binary):
    env = production.env()
    hosts = {name: LambdaHost(binary, name, env=env).start() for name in ("video", "trigger", "complete")}
    try:
        yield hosts
    finally:
        for host in hosts.values():
            host.stop()


def api(functions, method: str, path: str, sub: str = ALICE, body: dict | None = None, query: str = "") -> tuple[int, dict]:
    event = http_api_event(method, path, json.dumps(body) if body is not None else None, sub=sub, query=query)
    outcome = functions["video"].invoke(event, timeout_ms=10_000)
    assert outcome.kind == "response", functions["video"].logs()
    answer = outcome.payload
    return answer["statusCode"], (json.loads(answer["body"]) if answer.get("body") else {})


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
    assert job["UserMetadata"] == {"videoId": created["videoId"], "sub": ALICE}
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

    assert complete(functions, production.complete_event_for(job_id, duration_ms=20_500)) == {"applied": True}
    ready = video(functions, created["videoId"])
    assert ready["status"] == "ready" and ready["durationSeconds"] == pytest.approx(20.5) and ready["progress"] is None
    assert f"/{production.main_bucket}/videos/{ALICE}/{created['videoId']}/video.mp4?" in ready["playbackUrl"]
    assert f"/videos/{ALICE}/{created['videoId']}/thumbnail.0000000.jpg?" in ready["thumbnailUrl"]
    listed = production.client("s3").list_objects_v2(Bucket=production.temp_bucket).get("Contents", [])
    assert key not in [o["Key"] for o in listed], "the original is still in the temp bucket"

    # Repeated and late events change nothing.
    assert complete(functions, production.complete_event_for(job_id, duration_ms=99_000)) == {"applied": False}
    assert complete(functions, production.status_update_event(job_id, percent=90, user_metadata=job["UserMetadata"])) == {"applied": False}
    assert complete(functions, production.error_event(job_id, user_metadata=job["UserMetadata"])) == {"applied": False}
    # The same video, but for its URLs, which are signed afresh (with the second's time) on every read.
    unsigned = lambda v: {k: value for k, value in v.items() if k not in ("playbackUrl", "thumbnailUrl")}  # noqa: E731
    assert unsigned(video(functions, created["videoId"])) == unsigned(ready)


def test_a_conversion_error_fails_the_video_with_a_reason_a_person_understands(production, functions):
    created = upload(production, functions, "notes.mp4", b"not a video at all\n" * 100)
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
