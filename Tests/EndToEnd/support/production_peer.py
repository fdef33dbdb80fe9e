"""The video service's production wiring on moto_server, for testing its Lambdas.

In production, an upload to the temp bucket under `uploads/` makes S3 send an
`ObjectCreated` event to an SNS topic, the topic delivers it (wrapped in an
SNS envelope, not raw) to an SQS queue, and the queue's Lambda event source
mapping hands batches to the "trigger" Lambda, which calls MediaConvert
CreateJob. MediaConvert's "Job State Change" events reach the "complete"
Lambda through EventBridge. The library lives in a DynamoDB table. The
"video" Lambda signs CloudFront cookies for /media/ with a private key it
reads from a Secrets Manager secret (its PEM as the SecretString).

`ProductionPeer(aws_peer)` builds all of that on an AwsPeer (aws_peer.py, whose
moto_server enforces SigV4), with a random suffix on every name, plus a
MediaConvertFake (mediaconvert_fake.py) that verifies the Lambda role's
signatures. Tests get it as conftest's `production` fixture, function-scoped
(fresh buckets, topic, queues and table per test, on the module's moto_server
from conftest's `peer`), so each test's queue starts with S3's test event and
nothing else.

What a test feeds a handler:
- `receive_sqs_event()` returns what Lambda's SQS event source mapping
  delivers: {"Records": [{messageId, receiptHandle, body, attributes,
  messageAttributes, md5OfBody, eventSource "aws:sqs", eventSourceARN,
  awsRegion}]} (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html);
  `acknowledge(event, response)` then deletes what the handler did not report
  in `batchItemFailures`, as the mapping does with ReportBatchItemFailures.
- `status_update_event`, `complete_event`, `error_event` (and the general
  `job_state_change_event`) build EventBridge "MediaConvert Job State Change"
  events as AWS's MediaConvert User Guide documents them:
  https://docs.aws.amazon.com/mediaconvert/latest/ug/ev_status_status_update.html,
  .../ev_status_complete.html, .../ev_status_error.html and, for a frame
  capture output's path, .../file-group-with-frame-capture-output.html
  (also github.com/awsdocs/aws-elemental-mediaconvert-user-guide,
  doc_source/ev_status_*.md). The methods of the same names on ProductionPeer
  fill in the account, region and queue, and `complete_event_for(job_id)`
  derives the output paths from the job the fake received. Where the
  examples are not usable as they stand, the events follow the other
  examples: the COMPLETE example's `"code": 000000` is not JSON (warnings are
  left out unless given) and its job ARN lacks the account.
- `env()` is the environment of a Lambda process talking to all of this;
  `lambda_client()` is boto3 with the same credentials.
- `media_key` is the media cookies' key pair (a fresh RSA-2048 key, its PEM
  in a moto secret); `create_media_key()` makes another, e.g. in PKCS#8.
- `presign_upload()` and `put_presigned()` do the browser's upload,
  `preflight()` its CORS preflight.

Quirks of moto 5.2.1 met here (aws_peer.py lists the general ones):
- AssumeRole answers 500 (TypeError in _check_principal) when the role's
  trust policy has a statement whose Principal has no "AWS" entry, such as
  {"Service": "lambda.amazonaws.com"} alone, even beside a statement that
  allows the caller. The Lambda role therefore names both principals in one
  statement.
- Presigned (query-string) SigV4 is not supported while auth is enforced:
  moto looks for an Authorization header and answers 500 (KeyError
  'HTTP_AUTHORIZATION'); an unsigned CORS preflight fares the same.
  `put_presigned()` and `preflight()` therefore let exactly one action through
  unauthenticated first (not thread-safe against other requests to the same
  moto), so moto checks neither a presigned URL's signature nor its expiry.
- A PUT's x-amz-checksum-sha256 is not checked against the body: a body with
  another SHA-256 is stored with 200. The response has no
  x-amz-checksum-sha256 header.
- A PUT whose Content-Type is application/x-www-form-urlencoded (what urllib
  sends with a body unless told otherwise) stores an empty object: werkzeug
  parses the body as a form. `put_presigned()` uses http.client, which adds
  no Content-Type of its own.
- CORS preflight: moto matches the Origin (403 AccessForbidden for another)
  but not Access-Control-Request-Method: a DELETE preflight gets 200 with
  Access-Control-Allow-Methods: PUT. Every moto response carries
  Access-Control-Allow-Origin: * whatever the bucket's CORS says.
- The topic policy and the queue policy are stored but never evaluated: a
  bucket the topic policy does not name still gets its events delivered, and
  PutBucketNotificationConfiguration does not check that S3 may publish.
- S3's test event: when the notification configuration is set, moto sends
  {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time", "Bucket"} through
  the topic, as AWS does (AWS adds "RequestId" and "HostId"; see
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html),
  so every new queue starts with that message.
- The S3 event record has eventVersion 2.1, eventSource, awsRegion,
  eventTime, eventName and s3.{s3SchemaVersion, configurationId,
  bucket.{name, arn}, object.{key, size, eTag}}. The key is URL-encoded with
  quote_plus, so a space is "+" as AWS documents ("red flower.jpg" becomes
  "red+flower.jpg"), and "/" becomes "%2F" ("uploads%2Fsub%2Fid%2Fclip.mp4");
  AWS's documentation does not say what it does with "/" and reports differ
  (getmoto/moto#9060 made moto encode keys; aws/aws-sdk-js#837 saw "%2F"
  from AWS, minio/minio-js#1041 saw "/"), so a handler must decode the key
  (percent-escapes, "+" as space) and accept both. AWS's userIdentity, requestParameters,
  responseElements, bucket.ownerIdentity, object.sequencer are missing, and
  eventTime is the server's local time with microseconds and no zone
  ("2026-11-29T04:32:25.207062") where AWS writes "...T04:32:25.207Z"; the
  test event's Time likewise. eventVersion is "2.1"; AWS documents 2.1 to 2.5.
- The SNS envelope has no Subject (AWS's S3 notifications say "Amazon S3
  Notification"), and its UnsubscribeURL names a made-up subscription ARN.
- SQS: RedriveAllowPolicy is accepted and dropped (GetQueueAttributes does not
  return it). The receive after maxReceiveCount receives moves the message to
  the dead-letter queue, where it keeps its ApproximateReceiveCount (4) and
  has no DeadLetterQueueSourceArn.
- DynamoDB enforces ConditionExpression (`#status IN (...)` included) with
  ConditionalCheckFailedException, and ReturnValuesOnConditionCheckFailure
  ALL_OLD returns the item, as AWS does.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import time
import urllib.parse
import uuid
from typing import Any, Iterable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .aws_peer import ALLOW_ALL, AwsPeer, Credentials
from .mediaconvert_fake import MediaConvertFake, check_params, service_model

UPLOAD_PREFIX = "uploads/"
NOTIFICATION_ID = "video-uploads"
MAX_RECEIVE_COUNT = 3
DETAIL_TYPE = "MediaConvert Job State Change"
# The origin the media cookies are signed for (MEDIA_ORIGIN): the distribution's.
MEDIA_ORIGIN = "https://d111111abcdef8.cloudfront.net"


class MediaKey:
    """A media cookie key pair: CloudFront's id for the public key, the private key, and the
    Secrets Manager secret holding the private key's PEM."""

    def __init__(self, key_pair_id: str, private_key: rsa.RSAPrivateKey, pem: str, secret_arn: str):
        self.key_pair_id, self.private_key, self.pem, self.secret_arn = key_pair_id, private_key, pem, secret_arn

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()


class ProductionPeer:
    """The production wiring on an AwsPeer; use as a context manager."""

    def __init__(self, aws: AwsPeer, *, allowed_origins: Iterable[str] = ("*",),
                 visibility_timeout: int = 30):
        self.aws = aws
        self.region = aws.region
        self.account_id = aws.account_id
        self.suffix = uuid.uuid4().hex[:8]
        self.allowed_origins = list(allowed_origins)
        self.visibility_timeout = visibility_timeout
        self.temp_bucket = f"video-temp-{self.suffix}"
        self.main_bucket = f"video-main-{self.suffix}"
        self.table_name = f"videos-{self.suffix}"
        self.topic_arn: str | None = None
        self.subscription_arn: str | None = None
        self.queue_url: str | None = None
        self.queue_arn: str | None = None
        self.dlq_url: str | None = None
        self.dlq_arn: str | None = None
        self.mediaconvert_role_arn: str | None = None
        self.lambda_role_arn: str | None = None
        self.lambda_credentials: Credentials | None = None
        self.mediaconvert: MediaConvertFake | None = None
        self.media_key: MediaKey | None = None
        self.media_origin = MEDIA_ORIGIN

    @property
    def temp_bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.temp_bucket}"

    @property
    def main_bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.main_bucket}"

    @property
    def mediaconvert_url(self) -> str:
        return self.mediaconvert.url

    @property
    def mediaconvert_queue_arn(self) -> str:
        return self.mediaconvert.default_queue_arn

    # -- lifecycle

    def start(self) -> ProductionPeer:
        try:
            self._create_roles()
            self.mediaconvert = MediaConvertFake(
                region=self.region, account_id=self.account_id,
                credentials=[self.aws.credentials, self.lambda_credentials]).start()
            self._create_buckets()
            self._create_topic_and_queues()
            self._create_table()
            self.media_key = self.create_media_key()
            # Last, as in AWS, where S3 checks the topic policy and sends its
            # test event when the configuration is set.
            self.client("s3").put_bucket_notification_configuration(
                Bucket=self.temp_bucket, NotificationConfiguration={"TopicConfigurations": [{
                    "Id": NOTIFICATION_ID,
                    "TopicArn": self.topic_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [
                        {"Name": "prefix", "Value": UPLOAD_PREFIX}]}},
                }]})
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.mediaconvert is not None:
            self.mediaconvert.stop()
            self.mediaconvert = None

    def __enter__(self) -> ProductionPeer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _create_roles(self) -> None:
        iam = self.client("iam")
        mediaconvert_trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "mediaconvert.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}
        name = f"video-mediaconvert-{self.suffix}"
        self.mediaconvert_role_arn = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(mediaconvert_trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="read-temp-write-main",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Allow", "Action": "s3:GetObject",
                                 "Resource": f"{self.temp_bucket_arn}/*"},
                                {"Effect": "Allow", "Action": "s3:PutObject",
                                 "Resource": f"{self.main_bucket_arn}/*"}]}))
        # The Lambdas' execution role; the publisher may assume it too, to get
        # the temporary credentials (with a session token) a Lambda runs with.
        # One statement for both principals: see the module docstring.
        lambda_trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com", "AWS": self.aws.user_arn},
            "Action": "sts:AssumeRole"}]}
        name = f"video-lambda-{self.suffix}"
        self.lambda_role_arn = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(lambda_trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="allow-all", PolicyDocument=ALLOW_ALL)
        self.lambda_credentials = self.aws.assume_role(self.lambda_role_arn,
                                                       session_name=f"video-{self.suffix}")

    def _create_buckets(self) -> None:
        s3 = self.client("s3")
        s3.create_bucket(Bucket=self.temp_bucket)
        s3.create_bucket(Bucket=self.main_bucket)
        s3.put_bucket_cors(Bucket=self.temp_bucket, CORSConfiguration={"CORSRules": [{
            "AllowedMethods": ["PUT"],
            "AllowedOrigins": self.allowed_origins,
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "x-amz-checksum-sha256"],
            "MaxAgeSeconds": 3000,
        }]})

    def _create_topic_and_queues(self) -> None:
        sns, sqs = self.client("sns"), self.client("sqs")
        self.topic_arn = sns.create_topic(Name=f"video-uploads-{self.suffix}")["TopicArn"]
        sns.set_topic_attributes(TopicArn=self.topic_arn, AttributeName="Policy",
                                 AttributeValue=json.dumps(self.topic_policy()))

        self.dlq_url = sqs.create_queue(
            QueueName=f"video-uploads-dlq-{self.suffix}",
            Attributes={"MessageRetentionPeriod": "1209600"})["QueueUrl"]
        self.dlq_arn = _queue_arn(sqs, self.dlq_url)
        self.queue_url = sqs.create_queue(QueueName=f"video-uploads-{self.suffix}", Attributes={
            "VisibilityTimeout": str(self.visibility_timeout),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": self.dlq_arn,
                                         "maxReceiveCount": MAX_RECEIVE_COUNT}),
        })["QueueUrl"]
        self.queue_arn = _queue_arn(sqs, self.queue_url)
        sqs.set_queue_attributes(QueueUrl=self.queue_url,
                                 Attributes={"Policy": json.dumps(self.queue_policy())})
        sqs.set_queue_attributes(QueueUrl=self.dlq_url, Attributes={
            "RedriveAllowPolicy": json.dumps({"redrivePermission": "byQueue",
                                              "sourceQueueArns": [self.queue_arn]})})
        self.subscription_arn = sns.subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=self.queue_arn,
            ReturnSubscriptionArn=True)["SubscriptionArn"]

    def _create_table(self) -> None:
        self.client("dynamodb").create_table(
            TableName=self.table_name,
            KeySchema=[{"AttributeName": "sub", "KeyType": "HASH"},
                       {"AttributeName": "id", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "sub", "AttributeType": "S"},
                                  {"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST")

    def create_media_key(self, *, pem_format: str = "pkcs1") -> MediaKey:
        """A fresh RSA-2048 key pair for the media cookies, its private key's PEM ("pkcs1": `BEGIN
        RSA PRIVATE KEY`, as `openssl genrsa` writes; "pkcs8": `BEGIN PRIVATE KEY`) stored as a
        secret's SecretString, with a CloudFront-style public key id."""
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        formats = {"pkcs1": serialization.PrivateFormat.TraditionalOpenSSL, "pkcs8": serialization.PrivateFormat.PKCS8}
        pem = private_key.private_bytes(serialization.Encoding.PEM, formats[pem_format],
                                        serialization.NoEncryption()).decode()
        name = f"video-media-key-{self.suffix}-{uuid.uuid4().hex[:6]}"
        arn = self.client("secretsmanager").create_secret(
            Name=name, SecretString=pem, Description="The media cookies' private key")["ARN"]
        key_pair_id = "K" + uuid.uuid4().hex[:13].upper()
        return MediaKey(key_pair_id, private_key, pem, arn)

    def topic_policy(self) -> dict:
        """S3 may publish to the topic, from the temp bucket of this account only."""
        return {"Version": "2012-10-17", "Statement": [{
            "Sid": "TempBucketPublishes",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "SNS:Publish",
            "Resource": self.topic_arn,
            "Condition": {"ArnLike": {"aws:SourceArn": self.temp_bucket_arn},
                          "StringEquals": {"aws:SourceAccount": self.account_id}},
        }]}

    def queue_policy(self) -> dict:
        """SNS may send to the queue, for the topic only."""
        return {"Version": "2012-10-17", "Statement": [{
            "Sid": "TopicSends",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": self.queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": self.topic_arn}},
        }]}

    # -- clients and the Lambda's environment

    def client(self, service: str, **config):
        """A boto3 client for moto, as the publisher (allowed everything)."""
        return self.aws.client(service, **config)

    def lambda_client(self, service: str, **config):
        """A boto3 client with the Lambda role's temporary credentials; for
        "mediaconvert", one for the fake."""
        endpoint = self.mediaconvert.url if service == "mediaconvert" else None
        return self.aws.client(service, endpoint_url=endpoint,
                               credentials=self.lambda_credentials, **config)

    def env(self, **extra: str) -> dict[str, str]:
        """The complete environment of a Lambda process: AwsPeer.env() (no
        AWS_* of the caller's, no ~/.aws) with the Lambda role's temporary
        credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
        AWS_SESSION_TOKEN), AWS_ENDPOINT_URL (moto), AWS_REGION and
        AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_MEDIACONVERT (the fake),
        VIDEO_TABLE, TEMP_BUCKET, MAIN_BUCKET, MEDIACONVERT_ROLE_ARN and the
        video function's MEDIA_KEY_PAIR_ID, MEDIA_KEY_SECRET (the media key's
        secret ARN) and MEDIA_ORIGIN."""
        env = self.aws.env(credentials=self.lambda_credentials)
        env.update({
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_MEDIACONVERT": self.mediaconvert.url,
            "VIDEO_TABLE": self.table_name,
            "TEMP_BUCKET": self.temp_bucket,
            "MAIN_BUCKET": self.main_bucket,
            "MEDIACONVERT_ROLE_ARN": self.mediaconvert_role_arn,
            "MEDIA_KEY_PAIR_ID": self.media_key.key_pair_id,
            "MEDIA_KEY_SECRET": self.media_key.secret_arn,
            "MEDIA_ORIGIN": self.media_origin,
        })
        env.update(extra)
        return env

    # -- uploads

    def upload_key(self, sub: str, video_id: str, filename: str = "clip.mp4") -> str:
        return f"{UPLOAD_PREFIX}{sub}/{video_id}/{filename}"

    def presign_upload(self, key: str, *, checksum_sha256: str,
                       content_type: str = "video/mp4", expires: int = 900) -> str:
        """A presigned PUT to the temp bucket, signed with the Lambda role's
        credentials, that requires the given base64 SHA-256 and Content-Type."""
        s3 = self.lambda_client("s3", signature_version="s3v4")
        return s3.generate_presigned_url("put_object", ExpiresIn=expires, Params={
            "Bucket": self.temp_bucket, "Key": key,
            "ChecksumSHA256": checksum_sha256, "ContentType": content_type})

    def put_presigned(self, url: str, body: bytes, headers: dict[str, str] | None = None
                      ) -> tuple[int, dict[str, str], bytes]:
        """PUTs `body` to a presigned URL as a browser would; returns (status,
        lower-case headers, body). See the module docstring: moto lets it in
        unauthenticated."""
        return self._unauthenticated("PUT", url, body, headers or {})

    def preflight(self, key: str, origin: str, method: str = "PUT",
                  request_headers: str = "content-type,x-amz-checksum-sha256"
                  ) -> tuple[int, dict[str, str], bytes]:
        """The browser's CORS preflight of a request to the temp bucket."""
        url = f"{self.aws.url}/{self.temp_bucket}/{urllib.parse.quote(key)}"
        return self._unauthenticated("OPTIONS", url, b"", {
            "Origin": origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": request_headers})

    def _unauthenticated(self, method: str, url: str, body: bytes, headers: dict[str, str]):
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.aws.allow_unauthenticated(1)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            return (response.status, {k.lower(): v for k, v in response.getheaders()},
                    response.read())
        finally:
            connection.close()

    # -- the queue, as Lambda's event source mapping sees it

    def receive_sqs_event(self, max_messages: int = 10, wait: float = 5.0,
                          visibility_timeout: int | None = None) -> dict:
        """Long-polls the queue for up to `wait` seconds and returns the first
        batch (at most `max_messages`, at most 10) that comes, as Lambda's SQS
        event; {"Records": []} if none came. One ReceiveMessage per batch, as
        the event source mapping does with no batching window: a message
        received once is not received again in the same batch, even with
        visibility_timeout=0. The messages stay in flight until
        `acknowledge()` or their visibility timeout."""
        if not 1 <= max_messages <= 10:
            raise ValueError(f"max_messages must be 1 to 10, not {max_messages}")
        sqs = self.client("sqs")
        options = {} if visibility_timeout is None else {"VisibilityTimeout": visibility_timeout}
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            messages = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=max_messages,
                MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
                WaitTimeSeconds=max(0, min(1, int(remaining))), **options).get("Messages", [])
            if messages or time.monotonic() >= deadline:
                return sqs_lambda_event(messages, self.queue_arn, self.region)
            time.sleep(0.05)

    def acknowledge(self, event: dict, response: dict | None = None) -> list[str]:
        """Deletes the event's messages, except those the handler's response
        lists in batchItemFailures (ReportBatchItemFailures); returns the
        message ids deleted."""
        failed = {item["itemIdentifier"]
                  for item in (response or {}).get("batchItemFailures", [])}
        sqs = self.client("sqs")
        deleted = []
        for record in event["Records"]:
            if record["messageId"] not in failed:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=record["receiptHandle"])
                deleted.append(record["messageId"])
        return deleted

    # -- MediaConvert's EventBridge events for this account and region

    def job_state_change_event(self, status: str, job_id: str, **options) -> dict:
        return job_state_change_event(status, job_id, **self._event_context(options))

    def status_update_event(self, job_id: str, **options) -> dict:
        return status_update_event(job_id, **self._event_context(options))

    def complete_event(self, job_id: str, **options) -> dict:
        return complete_event(job_id, **self._event_context(options))

    def error_event(self, job_id: str, **options) -> dict:
        return error_event(job_id, **self._event_context(options))

    def complete_event_for(self, job_id: str, *, duration_ms: int = 30_041,
                           captures: int = 1) -> dict:
        """The COMPLETE event of a job the fake received: its userMetadata,
        and an output per output of its settings, at the paths MediaConvert
        would write (see output_details)."""
        job = self.mediaconvert.jobs[job_id]
        params, _ = check_params(job, service_model().shape_for("Job"))
        return self.complete_event(
            job_id, user_metadata=job.get("userMetadata", {}), queue=job.get("queue"),
            output_groups=output_details(params["Settings"], duration_ms=duration_ms,
                                         captures=captures))

    def complete_job(self, job_id: str, *, duration_ms: int) -> None:
        """Moves a job the fake received to COMPLETE, with the output details its COMPLETE event
        would carry (GetJob then answers it so, as when its event never arrived)."""
        groups = self.complete_event_for(job_id, duration_ms=duration_ms)["detail"]["outputGroupDetails"]
        self.mediaconvert.set_job(job_id, status="COMPLETE", outputGroupDetails=groups)

    def schedule_event(self) -> dict:
        """An EventBridge schedule's event ("Scheduled Event" from aws.events), as the sweeper's
        schedule sends it to the complete function."""
        return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                "account": self.account_id, "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": self.region, "resources": [f"arn:aws:events:{self.region}:{self.account_id}:rule/sweep"], "detail": {}}

    def _event_context(self, options: dict) -> dict:
        options.setdefault("account_id", self.account_id)
        options.setdefault("region", self.region)
        if options.get("queue") is None:
            options["queue"] = self.mediaconvert_queue_arn
        return options


def _queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"]) \
        ["Attributes"]["QueueArn"]


# -- Lambda's SQS event ---------------------------------------------------------------------------


def sqs_lambda_event(messages: list[dict], queue_arn: str, region: str) -> dict:
    """boto3 ReceiveMessage messages as the event Lambda's SQS event source
    mapping delivers them (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)."""
    records = []
    for message in messages:
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": {name: _lambda_message_attribute(value) for name, value
                                  in message.get("MessageAttributes", {}).items()},
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        records.append(record)
    return {"Records": records}


def _lambda_message_attribute(value: dict) -> dict:
    attribute = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def s3_notifications(event: dict) -> list[dict]:
    """The S3 notification in each record of an SQS event whose bodies are SNS
    envelopes: the parsed `Message` (an S3 event with "Records", or S3's
    s3:TestEvent)."""
    return [json.loads(json.loads(record["body"])["Message"]) for record in event["Records"]]


# -- MediaConvert's EventBridge events -----------------------------------------------------------


def job_state_change_event(status: str, job_id: str, *, account_id: str = "111122223333",
                           region: str = "us-east-1", queue: str | None = None,
                           user_metadata: dict[str, str] | None = None,
                           at: datetime.datetime | None = None,
                           detail: dict[str, Any] | None = None) -> dict:
    """An EventBridge "MediaConvert Job State Change" event, in the shape of
    the examples in AWS's MediaConvert User Guide (see the module docstring):

        {"version": "0", "id": <uuid>, "detail-type": "MediaConvert Job State Change",
         "source": "aws.mediaconvert", "account": <account>, "time": "2022-12-19T19:21:21Z",
         "region": <region>, "resources": ["arn:aws:mediaconvert:<region>:<account>:jobs/<id>"],
         "detail": {"timestamp": <epoch ms>, "accountId": <account>,
                    "queue": "arn:aws:mediaconvert:<region>:<account>:queues/Default",
                    "jobId": <id>, "status": <status>, "userMetadata": {...}, **detail}}
    """
    at = at or datetime.datetime.now(datetime.timezone.utc)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": "aws.mediaconvert",
        "account": account_id,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:mediaconvert:{region}:{account_id}:jobs/{job_id}"],
        "detail": {
            "timestamp": int(at.timestamp() * 1000),
            "accountId": account_id,
            "queue": queue or f"arn:aws:mediaconvert:{region}:{account_id}:queues/Default",
            "jobId": job_id,
            "status": status,
            "userMetadata": dict(user_metadata or {}),
            **(detail or {}),
        },
    }


def status_update_event(job_id: str, *, percent: int = 7, phase: str = "TRANSCODING",
                        frames_decoded: int = 353, retry_count: int = 0, **options) -> dict:
    """STATUS_UPDATE: detail.framesDecoded and detail.jobProgress =
    {phaseProgress: {PROBING, TRANSCODING, UPLOADING: {status, percentComplete}},
    jobPercentComplete, currentPhase, retryCount}."""
    phases = ["PROBING", "TRANSCODING", "UPLOADING"]
    current = phases.index(phase)
    progress = {}
    for index, name in enumerate(phases):
        if index < current:
            progress[name] = {"status": "COMPLETE", "percentComplete": 100}
        elif index == current:
            progress[name] = {"status": "PROGRESSING", "percentComplete": percent}
        else:
            progress[name] = {"status": "PENDING", "percentComplete": 0}
    return job_state_change_event("STATUS_UPDATE", job_id, detail={
        "framesDecoded": frames_decoded,
        "jobProgress": {"phaseProgress": progress, "jobPercentComplete": percent,
                        "currentPhase": phase, "retryCount": retry_count},
    }, **options)


def output_detail(path: str, *, duration_ms: int, width: int = 1920, height: int = 1080) -> dict:
    """One entry of outputGroupDetails[].outputDetails[]."""
    return {"outputFilePaths": [path], "durationInMs": duration_ms,
            "videoDetails": {"widthInPx": width, "heightInPx": height}}


def complete_event(job_id: str, *, output_groups: list[list[dict]] | None = None,
                   warnings: list[dict] | None = None, **options) -> dict:
    """COMPLETE: detail.outputGroupDetails = [{"outputDetails": [{"outputFilePaths",
    "durationInMs", "videoDetails": {"widthInPx", "heightInPx"}}], "type": "FILE_GROUP"}],
    plus paddingInserted and blackVideoDetected (and warnings when given).
    `output_groups` lists each group's output_detail()s."""
    if output_groups is None:
        output_groups = [[output_detail("s3://DOC-EXAMPLE-BUCKET/file/file.mp4",
                                        duration_ms=30_041)]]
    detail = {
        "outputGroupDetails": [{"outputDetails": outputs, "type": "FILE_GROUP"}
                               for outputs in output_groups],
        "paddingInserted": 0,
        "blackVideoDetected": 0,
    }
    if warnings is not None:
        detail["warnings"] = warnings
    return job_state_change_event("COMPLETE", job_id, detail=detail, **options)


def error_event(job_id: str, *, error_code: int = 1040,
                error_message: str = "Example error message", **options) -> dict:
    """ERROR: detail.errorCode (a number) and detail.errorMessage."""
    return job_state_change_event("ERROR", job_id, detail={
        "errorCode": error_code, "errorMessage": error_message}, **options)


_EXTENSIONS = {"MP4": "mp4", "MOV": "mov", "M2TS": "m2ts", "M3U8": "m3u8", "MXF": "mxf",
               "WEBM": "webm", "MPD": "mpd", "F4V": "f4v", "CMFC": "mp4", "ISMV": "ismv"}


def output_details(settings: dict, *, duration_ms: int, captures: int = 1) -> list[list[dict]]:
    """The outputGroupDetails of a job's file groups, from its Settings (member
    names): a file group's Destination ending in "/" names a folder, and the
    file is named after the input; otherwise the Destination's last segment is
    the base name. Then the output's NameModifier, and its Extension (or the
    container's). A frame capture output's path is its last image,
    <base><modifier>.<7-digit 0-based index>.jpg."""
    stem = settings["Inputs"][0]["FileInput"].rsplit("/", 1)[-1].rsplit(".", 1)[0]
    groups = []
    for group in settings["OutputGroups"]:
        group_settings = group["OutputGroupSettings"]
        if group_settings.get("Type") != "FILE_GROUP_SETTINGS":
            continue
        destination = group_settings["FileGroupSettings"]["Destination"]
        base = destination + stem if destination.endswith("/") else destination
        details = []
        for output in group["Outputs"]:
            video = output.get("VideoDescription", {})
            name = base + output.get("NameModifier", "")
            size = {"width": video.get("Width", 1920), "height": video.get("Height", 1080)}
            if video.get("CodecSettings", {}).get("Codec") == "FRAME_CAPTURE":
                path = f"{name}.{captures - 1:07d}.{output.get('Extension', 'jpg')}"
            else:
                container = output.get("ContainerSettings", {}).get("Container", "MP4")
                path = f"{name}.{output.get('Extension') or _EXTENSIONS.get(container, 'mp4')}"
            details.append(output_detail(path, duration_ms=duration_ms, **size))
        groups.append(details)
    return groups

