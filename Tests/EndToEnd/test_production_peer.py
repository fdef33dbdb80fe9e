"""Tests of the production wiring on moto (support/production_peer.py): an upload's S3
event reaches the queue through the topic and comes out as Lambda's SQS event,
the policies, CORS, dead-letter queue and table are as production has them,
the Lambda's environment works, and the MediaConvert events have AWS's shape.
They also pin down the moto behaviour the module docstring describes, so a
moto upgrade that changes it shows up here. They need no built binary."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from support.mediaconvert_fake import sample_job_settings
from support.files import sha256_b64
from support.production_peer import MAX_RECEIVE_COUNT, NOTIFICATION_ID, ProductionPeer, s3_notifications

LAMBDA_SQS_RECORD_KEYS = {"messageId", "receiptHandle", "body", "attributes",
                          "messageAttributes", "md5OfBody", "eventSource", "eventSourceARN",
                          "awsRegion"}


def upload(production, key: str, body: bytes, content_type: str = "video/mp4"):
    checksum = sha256_b64(body)
    url = production.presign_upload(key, checksum_sha256=checksum, content_type=content_type)
    return production.put_presigned(url, body, {"Content-Type": content_type,
                                                "x-amz-checksum-sha256": checksum})


def receive_notifications(production, wait: float = 5.0) -> list[tuple[dict, dict]]:
    """Every message on the queue now, as (Lambda record, S3 notification), acknowledged."""
    event = production.receive_sqs_event(wait=wait)
    production.acknowledge(event)
    return list(zip(event["Records"], s3_notifications(event)))


def object_created(production, key: str, wait: float = 10.0) -> tuple[dict, dict]:
    """The Lambda record and S3 event record of the upload of `key`."""
    seen = []
    for _ in range(int(wait)):
        for record, notification in receive_notifications(production, wait=1.0):
            seen.append(notification)
            for s3_record in notification.get("Records", []):
                if urllib.parse.unquote_plus(s3_record["s3"]["object"]["key"]) == key:
                    return record, s3_record
    raise AssertionError(f"no ObjectCreated event for {key!r}; the queue had {seen}")


# -- S3 -> SNS -> SQS -> Lambda's event ----------------------------------------------------------


def test_an_uploads_event_reaches_the_queue_through_the_topic(production):
    sub, video_id = str(uuid.uuid4()), str(uuid.uuid4())
    key = production.upload_key(sub, video_id)
    assert key == f"uploads/{sub}/{video_id}/clip.mp4"
    body = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64
    checksum = sha256_b64(body)

    url = production.presign_upload(key, checksum_sha256=checksum)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["X-Amz-SignedHeaders"] == ["content-type;host;x-amz-checksum-sha256"]
    assert query["X-Amz-Security-Token"] == [production.lambda_credentials.session_token]
    status, headers, _ = production.put_presigned(
        url, body, {"Content-Type": "video/mp4", "x-amz-checksum-sha256": checksum})
    assert status == 200
    assert headers["etag"] == f'"{hashlib.md5(body).hexdigest()}"'
    head = production.client("s3").head_object(Bucket=production.temp_bucket, Key=key)
    assert (head["ContentLength"], head["ContentType"]) == (len(body), "video/mp4")

    record, s3_record = object_created(production, key)
    # Lambda's SQS record, exactly
    assert set(record) == LAMBDA_SQS_RECORD_KEYS
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == production.queue_arn
    assert record["awsRegion"] == production.region
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    assert record["messageAttributes"] == {}
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
            "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert all(isinstance(value, str) for value in record["attributes"].values())
    # an SNS envelope, not raw delivery
    envelope = json.loads(record["body"])
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == production.topic_arn
    assert {"MessageId", "Message", "Timestamp", "SignatureVersion", "Signature",
            "SigningCertURL", "UnsubscribeURL"} <= set(envelope)
    assert "Subject" not in envelope  # moto; AWS says "Amazon S3 Notification"
    # the S3 event inside
    assert s3_record["eventSource"] == "aws:s3"
    assert s3_record["eventName"] == "ObjectCreated:Put"
    assert s3_record["awsRegion"] == production.region
    assert s3_record["s3"]["configurationId"] == NOTIFICATION_ID
    assert s3_record["s3"]["bucket"] == {"name": production.temp_bucket,
                                         "arn": production.temp_bucket_arn}
    # URL-encoded; moto encodes "/" too (see production_peer's docstring).
    assert s3_record["s3"]["object"] == {"key": urllib.parse.quote_plus(key),
                                         "size": len(body),
                                         "eTag": hashlib.md5(body).hexdigest()}
    assert s3_record["s3"]["object"]["key"].startswith("uploads%2F")
    # moto: local time, microseconds, no zone (AWS: "...T04:32:25.207Z")
    assert not s3_record["eventTime"].endswith("Z")
    for missing in ("userIdentity", "requestParameters", "responseElements"):
        assert missing not in s3_record

    assert production.receive_sqs_event(wait=1) == {"Records": []}


def test_the_key_in_the_event_is_url_encoded(production):
    key = production.upload_key(str(uuid.uuid4()), str(uuid.uuid4()), "my clip (1)+é.mp4")
    status, _, _ = upload(production, key, b"a clip")
    assert status == 200
    _, s3_record = object_created(production, key)
    assert s3_record["s3"]["object"]["key"] == urllib.parse.quote_plus(key)
    assert s3_record["s3"]["object"]["key"].endswith("%2Fmy+clip+%281%29%2B%C3%A9.mp4")
    assert urllib.parse.unquote_plus(s3_record["s3"]["object"]["key"]) == key


def test_the_queue_starts_with_s3s_test_event(production):
    (record, notification), = receive_notifications(production)
    assert set(notification) == {"Service", "Event", "Time", "Bucket"}
    assert (notification["Service"], notification["Event"], notification["Bucket"]) \
        == ("Amazon S3", "s3:TestEvent", production.temp_bucket)
    assert json.loads(record["body"])["TopicArn"] == production.topic_arn


def test_objects_outside_uploads_send_no_event(production):
    receive_notifications(production)  # S3's test event
    s3 = production.client("s3")
    s3.put_object(Bucket=production.temp_bucket, Key="elsewhere/clip.mp4", Body=b"x")
    s3.put_object(Bucket=production.main_bucket, Key="uploads/clip.mp4", Body=b"x")
    assert production.receive_sqs_event(wait=1.5) == {"Records": []}


def test_message_attributes_take_lambdas_form(production):
    receive_notifications(production)
    production.client("sqs").send_message(
        QueueUrl=production.queue_url, MessageBody="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"},
                           "blob": {"DataType": "Binary", "BinaryValue": b"\x01\x02"}})
    (record,) = production.receive_sqs_event()["Records"]
    assert record["body"] == "hello"
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "test", "stringListValues": [], "binaryListValues": [],
                 "dataType": "String"},
        "blob": {"binaryValue": "AQI=", "stringListValues": [], "binaryListValues": [],
                 "dataType": "Binary"}}
    assert len(record["md5OfMessageAttributes"]) == 32


def test_acknowledge_keeps_the_failures_of_a_batch(production):
    sqs = production.client("sqs")
    for number in range(3):
        sqs.send_message(QueueUrl=production.queue_url, MessageBody=f"m{number}")
    event = production.receive_sqs_event(visibility_timeout=0)
    assert len(event["Records"]) == 4  # with S3's test event
    failed = event["Records"][1]["messageId"]
    deleted = production.acknowledge(event, {"batchItemFailures": [{"itemIdentifier": failed}]})
    assert failed not in deleted and len(deleted) == 3
    (left,) = production.receive_sqs_event()["Records"]
    assert left["messageId"] == failed
    assert left["attributes"]["ApproximateReceiveCount"] == "2"


# -- the presigned PUT and CORS, and what moto checks of them ------------------------------------


def test_moto_lets_presigned_puts_in_without_checking_them(production):
    key = production.upload_key("sub", "checksum", "clip.mp4")
    url = production.presign_upload(key, checksum_sha256=sha256_b64(b"declared"))
    # Without a one-action pass, moto fails on the missing Authorization header.
    request = urllib.request.Request(url, data=b"declared", method="PUT",
                                     headers={"Content-Type": "video/mp4"})
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)
    assert excinfo.value.code == 500
    # The checksum is not compared with the body.
    status, headers, _ = production.put_presigned(url, b"another body", {
        "Content-Type": "video/mp4", "x-amz-checksum-sha256": sha256_b64(b"declared")})
    assert status == 200 and "x-amz-checksum-sha256" not in headers
    s3 = production.client("s3")
    assert s3.get_object(Bucket=production.temp_bucket, Key=key)["Body"].read() == b"another body"
    # A form-encoded Content-Type loses the body.
    status, _, _ = production.put_presigned(url, b"a=b", {
        "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    assert s3.head_object(Bucket=production.temp_bucket, Key=key)["ContentLength"] == 0


def test_the_temp_bucket_lets_the_site_put_and_read_the_checksum(peer):
    with ProductionPeer(peer, allowed_origins=["https://video.example"]) as production:
        (rule,) = production.client("s3").get_bucket_cors(
            Bucket=production.temp_bucket)["CORSRules"]
        assert rule["AllowedMethods"] == ["PUT"]
        assert rule["AllowedOrigins"] == ["https://video.example"]
        assert rule["ExposeHeaders"] == ["ETag", "x-amz-checksum-sha256"]
        key = production.upload_key("sub", "cors")

        status, headers, _ = production.preflight(key, "https://video.example")
        assert status == 200
        assert headers["access-control-allow-origin"] == "https://video.example"
        assert headers["access-control-allow-methods"] == "PUT"
        assert headers["access-control-expose-headers"] == "ETag, x-amz-checksum-sha256"

        status, _, body = production.preflight(key, "https://elsewhere.example")
        assert status == 403 and b"AccessForbidden" in body
        # moto does not compare the method: a DELETE preflight passes.
        assert production.preflight(key, "https://video.example", method="DELETE")[0] == 200


# -- the wiring as configured --------------------------------------------------------------------


def test_the_topic_takes_only_the_temp_buckets_events(production):
    sns = production.client("sns")
    policy = json.loads(sns.get_topic_attributes(TopicArn=production.topic_arn)
                        ["Attributes"]["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Action"] == "SNS:Publish"
    assert statement["Resource"] == production.topic_arn
    assert statement["Condition"]["ArnLike"] == {"aws:SourceArn": production.temp_bucket_arn}

    configuration = production.client("s3").get_bucket_notification_configuration(
        Bucket=production.temp_bucket)
    (topic,) = configuration["TopicConfigurations"]
    assert topic["TopicArn"] == production.topic_arn
    assert topic["Events"] == ["s3:ObjectCreated:*"]
    assert topic["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": "uploads/"}]
    assert "QueueConfigurations" not in configuration


def test_the_queue_takes_only_the_topics_messages_wrapped(production):
    sqs, sns = production.client("sqs"), production.client("sns")
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=production.queue_url,
                                                 AttributeNames=["Policy"])
                        ["Attributes"]["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == production.queue_arn
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": production.topic_arn}}

    attributes = sns.get_subscription_attributes(
        SubscriptionArn=production.subscription_arn)["Attributes"]
    assert (attributes["Protocol"], attributes["Endpoint"]) == ("sqs", production.queue_arn)
    assert attributes["RawMessageDelivery"] == "false"


def test_moto_does_not_enforce_the_policies(production):
    receive_notifications(production)
    s3 = production.client("s3")
    other = f"video-other-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=other)
    s3.put_bucket_notification_configuration(Bucket=other, NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": production.topic_arn,
                                 "Events": ["s3:ObjectCreated:*"]}]})
    (_, notification), = receive_notifications(production)
    assert (notification["Event"], notification["Bucket"]) == ("s3:TestEvent", other)


def test_the_dead_letter_queue_gets_what_fails_three_times(production):
    sqs = production.client("sqs")
    redrive = json.loads(sqs.get_queue_attributes(QueueUrl=production.queue_url,
                                                  AttributeNames=["RedrivePolicy"])
                         ["Attributes"]["RedrivePolicy"])
    assert redrive == {"deadLetterTargetArn": production.dlq_arn,
                       "maxReceiveCount": MAX_RECEIVE_COUNT}
    # moto drops the dead-letter queue's RedriveAllowPolicy.
    assert "RedriveAllowPolicy" not in sqs.get_queue_attributes(
        QueueUrl=production.dlq_url, AttributeNames=["All"])["Attributes"]

    for attempt in range(1, MAX_RECEIVE_COUNT + 1):
        (record,) = production.receive_sqs_event(visibility_timeout=0)["Records"]
        assert record["attributes"]["ApproximateReceiveCount"] == str(attempt)
        assert json.loads(json.loads(record["body"])["Message"])["Event"] == "s3:TestEvent"
    assert production.receive_sqs_event(wait=1) == {"Records": []}
    (dead,) = sqs.receive_message(QueueUrl=production.dlq_url,
                                  MessageSystemAttributeNames=["All"])["Messages"]
    assert dead["Body"] == record["body"]
    assert dead["Attributes"]["ApproximateReceiveCount"] == str(MAX_RECEIVE_COUNT + 1)


def test_the_table_and_its_conditional_update(production):
    dynamodb = production.lambda_client("dynamodb")
    table = dynamodb.describe_table(TableName=production.table_name)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "sub", "KeyType": "HASH"},
                                  {"AttributeName": "id", "KeyType": "RANGE"}]
    assert sorted((a["AttributeName"], a["AttributeType"])
                  for a in table["AttributeDefinitions"]) == [("id", "S"), ("sub", "S")]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    key = {"sub": {"S": "sub-1"}, "id": {"S": "video-1"}}
    dynamodb.put_item(TableName=production.table_name,
                      Item={**key, "status": {"S": "UPLOADING"}})

    def start_transcoding():
        return dynamodb.update_item(
            TableName=production.table_name, Key=key,
            UpdateExpression="SET #status = :transcoding",
            ConditionExpression="#status IN (:uploading, :uploaded)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":transcoding": {"S": "TRANSCODING"},
                                       ":uploading": {"S": "UPLOADING"},
                                       ":uploaded": {"S": "UPLOADED"}},
            ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")

    assert start_transcoding()["Attributes"]["status"] == {"S": "TRANSCODING"}
    with pytest.raises(ClientError) as excinfo:
        start_transcoding()
    assert excinfo.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert excinfo.value.response["Item"]["status"] == {"S": "TRANSCODING"}


# -- the Lambda's environment --------------------------------------------------------------------


def test_the_lambda_environment_reaches_moto_and_mediaconvert(production):
    env = production.env()
    assert env["AWS_ENDPOINT_URL"] == production.aws.url
    assert env["AWS_ENDPOINT_URL_MEDIACONVERT"] == production.mediaconvert_url
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == production.region
    assert env["AWS_ACCESS_KEY_ID"] == production.lambda_credentials.access_key_id
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert env["AWS_SESSION_TOKEN"] == production.lambda_credentials.session_token
    assert env["AWS_SECRET_ACCESS_KEY"] == production.lambda_credentials.secret_access_key
    assert (env["VIDEO_TABLE"], env["TEMP_BUCKET"], env["MAIN_BUCKET"]) \
        == (production.table_name, production.temp_bucket, production.main_bucket)
    assert production.env(EXTRA="1")["EXTRA"] == "1"

    role = production.client("iam").get_role(
        RoleName=env["MEDIACONVERT_ROLE_ARN"].rsplit("/", 1)[1])["Role"]
    assert role["Arn"] == env["MEDIACONVERT_ROLE_ARN"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(urllib.parse.unquote(trust)) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "mediaconvert.amazonaws.com"}

    # What a process given this environment does: botocore reads the same variables.
    session = boto3.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=env["AWS_SESSION_TOKEN"],
                            region_name=env["AWS_REGION"])
    config = Config(retries={"total_max_attempts": 1}, s3={"addressing_style": "path"})
    s3 = session.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], config=config)
    s3.put_object(Bucket=env["MAIN_BUCKET"], Key="videos/probe.txt", Body=b"ok")
    mediaconvert = session.client("mediaconvert", config=config,
                                  endpoint_url=env["AWS_ENDPOINT_URL_MEDIACONVERT"])
    settings = sample_job_settings(f"s3://{env['TEMP_BUCKET']}/uploads/s/v/clip.mp4",
                                   f"s3://{env['MAIN_BUCKET']}/videos/s/v/video")
    job = mediaconvert.create_job(Role=env["MEDIACONVERT_ROLE_ARN"], Settings=settings,
                                  UserMetadata={"sub": "s", "id": "v"})["Job"]
    recorded = production.mediaconvert.requests[-1]
    assert recorded.accepted and recorded.access_key == env["AWS_ACCESS_KEY_ID"]
    assert production.mediaconvert.create_job_requests()[-1]["Role"] \
        == production.mediaconvert_role_arn
    assert job["Arn"].split(":")[4] == production.account_id


# -- MediaConvert's EventBridge events -----------------------------------------------------------


EVENT_KEYS = {"version", "id", "detail-type", "source", "account", "time", "region",
              "resources", "detail"}
DETAIL_KEYS = {"timestamp", "accountId", "queue", "jobId", "status", "userMetadata"}


def check_envelope(event: dict, production, job_id: str, status: str) -> dict:
    assert set(event) == EVENT_KEYS
    assert event["version"] == "0"
    assert (event["source"], event["detail-type"]) \
        == ("aws.mediaconvert", "MediaConvert Job State Change")
    assert (event["account"], event["region"]) == (production.account_id, production.region)
    assert event["resources"] == [production.mediaconvert.job_arn(job_id)]
    assert len(event["time"]) == 20 and event["time"].endswith("Z")
    detail = event["detail"]
    assert DETAIL_KEYS <= set(detail)
    assert (detail["jobId"], detail["status"], detail["accountId"]) \
        == (job_id, status, production.account_id)
    assert detail["queue"] == production.mediaconvert_queue_arn
    assert isinstance(detail["timestamp"], int) and detail["timestamp"] > 1_600_000_000_000
    assert json.loads(json.dumps(event)) == event
    return detail


def test_status_update_and_error_events(production):
    update = production.status_update_event("1671477617078-2886ye", percent=42,
                                            user_metadata={"sub": "s", "id": "v"})
    detail = check_envelope(update, production, "1671477617078-2886ye", "STATUS_UPDATE")
    assert detail["userMetadata"] == {"sub": "s", "id": "v"}
    assert detail["jobProgress"] == {
        "phaseProgress": {"PROBING": {"status": "COMPLETE", "percentComplete": 100},
                          "TRANSCODING": {"status": "PROGRESSING", "percentComplete": 42},
                          "UPLOADING": {"status": "PENDING", "percentComplete": 0}},
        "jobPercentComplete": 42, "currentPhase": "TRANSCODING", "retryCount": 0}
    assert isinstance(detail["framesDecoded"], int)

    error = production.error_event("1515368087458-qnoxtd", error_code=1030,
                                   error_message="Unable to open input file")
    detail = check_envelope(error, production, "1515368087458-qnoxtd", "ERROR")
    assert (detail["errorCode"], detail["errorMessage"]) == (1030, "Unable to open input file")


def test_the_complete_event_of_a_job_the_fake_received(production):
    sub, video_id = "0b7c1a52", "8f14e45f"
    settings = sample_job_settings(
        f"s3://{production.temp_bucket}/uploads/{sub}/{video_id}/clip.mp4",
        f"s3://{production.main_bucket}/videos/{sub}/{video_id}/video")
    job = production.lambda_client("mediaconvert").create_job(
        Role=production.mediaconvert_role_arn, Settings=settings,
        UserMetadata={"sub": sub, "id": video_id})["Job"]

    event = production.complete_event_for(job["Id"], duration_ms=12_345)
    detail = check_envelope(event, production, job["Id"], "COMPLETE")
    assert detail["userMetadata"] == {"sub": sub, "id": video_id}
    base = f"s3://{production.main_bucket}/videos/{sub}/{video_id}/video"
    assert detail["outputGroupDetails"] == [
        {"outputDetails": [{"outputFilePaths": [f"{base}-1080p.mp4"], "durationInMs": 12_345,
                            "videoDetails": {"widthInPx": 1920, "heightInPx": 1080}}],
         "type": "FILE_GROUP"},
        {"outputDetails": [{"outputFilePaths": [f"{base}-poster.0000000.jpg"],
                            "durationInMs": 12_345,
                            "videoDetails": {"widthInPx": 1280, "heightInPx": 720}}],
         "type": "FILE_GROUP"},
    ]
    assert (detail["paddingInserted"], detail["blackVideoDetected"]) == (0, 0)
