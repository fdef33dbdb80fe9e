"""The production stack's template (infra/template.yaml), checked by reading it.

moto's CloudFormation skips most of these resource types, so a stack created there proves nothing;
these tests read the template itself (a YAML loader for CloudFormation's short tags, and SAM's own
translator for what the `AWS::Serverless-2016-10-31` transform generates) and pin its wiring:

- cfn-lint reports nothing (no error, no warning);
- the upload path: the temp bucket's `ObjectCreated` under `uploads/` → the topic, whose policy
  lets only that bucket (and account) publish → the queue, whose policy lets only that topic send;
  SNS's envelope kept (the trigger unwraps it); a dead-letter queue after five receives; a
  visibility timeout of at least six times the trigger's timeout; batches of ten with failures
  reported per message, never more batches at once than the trigger's reserved concurrency;
- the conversion: jobs go to this stack's MediaConvert queue (the trigger's variable, its
  CreateJob resource), the EventBridge rule matches that queue's job state changes only, and the
  Lambda permissions name their source; MediaConvert's role reads originals and writes conversions,
  nothing else; the trigger may pass only that role, and only to MediaConvert; nothing of a
  conversion's end is lost: the rule retries delivery for an hour and the function's failed events
  both end in one encrypted dead-letter queue (only that rule may send to it), which raises an alarm;
- each function has a reserved concurrency; the API and the distribution write access logs (kept 30
  and 90 days); the main bucket keeps a deleted video's files 30 days;
- the policies: no wildcard action in any Allow (a Deny may have one: the buckets' TLS-only
  statements refuse every S3 action), no `*` resource outside STAR_RESOURCES, each function's own
  role with exactly the actions its code calls, its own log group;
- each function's environment is what the Swift code reads (Sources/VideoFunctions/Functions.swift,
  Sources/bootstrap/Handlers.swift);
- every bucket: public access blocked, encrypted, owner-enforced, TLS only; CORS and lifecycle;
- the site: CloudFront reads the site bucket through Origin Access Control only, and may list it
  (so a missing page is S3's 404, the site's 404 page) though no viewer can make it; the response
  headers policy holds the headers `site build` writes to dist/.site/headers.json that do not change
  from build to build (read from Sources/SiteBuild/SecurityPolicy.swift, and from a real production
  build when a `site` binary is there);
- one distribution, three behaviours: the site by default; `/api/*` → the HTTP API (no caching,
  every method, Authorization and the query string forwarded, not Host); `/media/*` → the main
  bucket through its own Origin Access Control, only with cookies signed by a key of the stack's
  key group, cached long with nothing of the request in the key, the viewer told `private`; a
  CloudFront Function (run here with node) takes `/media` off the path; error responses that keep
  every 403's body (the API's `LimitExceeded`, a refused media cookie's), give a 404 the site's
  404 page, and are never cached;
- the media key slots: a public key per non-empty slot, the key group of exactly those, the video
  function's key id, secret and origin from the active slot, and its role reading that one secret
  (no other Secrets Manager or KMS grant anywhere);
- no circular dependency between the resources (the function names the distribution, which names
  the API: the API must not name the function);
- infra/deploy's media key, with a fake `aws` on PATH (real openssl): the first deploy makes a key
  pair and stores the private key in a secret through a private file, slot A; later deploys keep
  the slots; a rotation fills the free slot and activates it; a retire is refused while cookies of
  the old key may live, then empties the slot and schedules the secret's deletion; a failed deploy
  leaves no unused secret; the private key shows in no argument and no output;
- infra/deploy's artifacts bucket, with the same fake (which answers S3's errors, and whose bucket of
  another account lets anyone in, as a squatter's would): a bucket of that name another account made
  is refused with nothing uploaded; otherwise every call on it names this account as its owner, the
  zip is sent on every deploy, and the template CloudFormation gets names it and is otherwise the
  template (moto checks no expected bucket owner, so it cannot play the squatter);
- Cognito, the HTTP API's authorizer on every route (all under `/api`, no CORS), the table, the
  alarms and the dashboard, and the outputs `site build --stack` and `site publish --stack` read.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from support import REPO, fake_aws
from support.cfn_template import TEMPLATE, as_list, load_template
from support.site import built_site
from support.venv_commands import venv_command

# `*` resources an Allow statement of a role may have, each with why nothing narrower exists.
# Empty: every action this stack's roles use has a resource type (MediaConvert's CreateJob is
# scoped to this stack's queue, a resource type of CreateJob in the Service Authorization Reference).
STAR_RESOURCES: dict[str, str] = {}

# The names `site build --stack` and `site publish --stack` read, and the others the README lists.
OUTPUTS = {"CognitoRegion", "UserPoolId", "UserPoolClientId", "SignUpPolicy", "ApiEndpoint", "UploadOrigin",
           "SiteBucket", "SiteBucketRegion", "DistributionId", "SiteUrl",
           "TempBucket", "MainBucket", "VideoTable", "DashboardUrl"}

# The managed CloudFront policies the behaviours use, by id (CloudFront Developer Guide: "Use
# managed cache policies", "Use managed origin request policies").
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

# The active media key's secret, as the video function's variable and its role name it.
ACTIVE_MEDIA_SECRET = {"Fn::If": ["MediaKeyAIsActive", {"Ref": "MediaKeyASecretArn"}, {"Ref": "MediaKeyBSecretArn"}]}


# -- reading the template ----------------------------------------------------------------------------




def ref(name: str) -> dict:
    return {"Ref": name}


def get_att(name: str, attribute: str) -> dict:
    return {"Fn::GetAtt": [name, attribute]}


def sub(text: str) -> dict:
    return {"Fn::Sub": text}


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


@pytest.fixture(scope="module")
def resources(template) -> dict[str, dict]:
    return template["Resources"]


@pytest.fixture(scope="module")
def transformed(template) -> dict:
    """The template after SAM's transform, as CloudFormation deploys it (the zip's path stands in
    for the S3 location infra/deploy writes)."""
    translator = pytest.importorskip("samtranslator.translator.transform", reason="cfn-lint brings aws-sam-translator")
    document = copy.deepcopy(template)
    document["Globals"]["Function"]["CodeUri"] = "s3://artifacts/bootstrap.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

    class NoManagedPolicies:  # every function has its own role: SAM looks up no managed policy
        def load(self) -> dict:
            return {}

    return translator.transform(document, {}, NoManagedPolicies())


def of_type(resources: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def props(resources: dict, name: str) -> dict:
    return resources[name].get("Properties", {})


def functions(template: dict) -> dict[str, tuple[str, dict]]:
    """handler → (logical id, properties with the Globals applied)."""
    globals_ = template.get("Globals", {}).get("Function", {})
    found = {}
    for name, resource in of_type(template["Resources"], "AWS::Serverless::Function").items():
        merged = {**globals_, **resource["Properties"]}
        merged["Environment"] = {"Variables": {**globals_.get("Environment", {}).get("Variables", {}),
                                               **resource["Properties"].get("Environment", {}).get("Variables", {})}}
        found[merged["Handler"]] = (name, merged)
    return found


def role_statements(resources: dict, role: str) -> list[dict]:
    return [s for policy in props(resources, role).get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]


def statement(resources: dict, role: str, sid: str) -> dict:
    found = [s for s in role_statements(resources, role) if s.get("Sid") == sid]
    assert len(found) == 1, f"{role} has no single statement {sid}"
    return found[0]


def policy_statements(resources: dict) -> list[tuple[str, dict]]:
    """Every statement of every policy document in the template: (where, statement)."""
    found = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            if "Statement" in value and isinstance(value["Statement"], (list, dict)):
                found.extend((f"{where}.Statement[{i}]", s) for i, s in enumerate(as_list(value["Statement"])))
                return
            for key, item in value.items():
                walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")

    for name, resource in resources.items():
        if resource["Type"] != "AWS::WAFv2::WebACL":  # its rules' `Statement` is WAF's, not IAM's
            walk(resource.get("Properties", {}), name)
    return found


def bucket_name_text(resources: dict, bucket: str) -> str:
    name = props(resources, bucket)["BucketName"]
    assert set(name) == {"Fn::Sub"} and isinstance(name["Fn::Sub"], str), name
    return name["Fn::Sub"]


# -- cfn-lint ---------------------------------------------------------------------------------------------


def test_cfn_lint_reports_no_error_and_no_warning():
    cfn_lint = venv_command("cfn-lint")
    command = [cfn_lint] if cfn_lint else [sys.executable, "-m", "cfnlint"]
    result = subprocess.run([*command, "--format", "parseable", str(TEMPLATE)], capture_output=True, text=True,
                            timeout=300, check=False)
    if result.returncode != 0 and "No module named cfnlint" in result.stderr:
        pytest.fail("cfn-lint is not installed: scripts/install-deps test (it fills .venv/ from Tests/EndToEnd/requirements.txt)")
    assert (result.returncode, result.stdout.strip()) == (0, ""), result.stdout + result.stderr


# -- the upload path --------------------------------------------------------------------------------------


def test_the_topic_policy_lets_only_the_temp_bucket_of_this_account_publish(resources):
    policy = props(resources, "UploadTopicPolicy")
    assert policy["Topics"] == [ref("UploadTopic")]
    [only] = policy["PolicyDocument"]["Statement"]
    assert (only["Effect"], only["Principal"], only["Action"], only["Resource"]) == (
        "Allow", {"Service": "s3.amazonaws.com"}, "sns:Publish", ref("UploadTopic"))
    # The bucket's ARN from its name: the same text as the bucket's BucketName.
    temp_name = bucket_name_text(resources, "TempBucket")
    assert only["Condition"] == {
        "ArnEquals": {"aws:SourceArn": sub(f"arn:${{AWS::Partition}}:s3:::{temp_name}")},
        "StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}
    # S3 checks it may publish when the notification is set: the policy must exist first.
    assert "UploadTopicPolicy" in as_list(resources["TempBucket"].get("DependsOn", []))


def test_bucket_names_are_built_from_the_stack_account_and_region(resources):
    """So the topic policy can name the temp bucket before it exists; infra/deploy checks that the
    stack name makes valid bucket names."""
    for bucket in of_type(resources, "AWS::S3::Bucket"):
        name = bucket_name_text(resources, bucket)
        assert name.startswith("${AWS::StackName}-") and name.endswith("-${AWS::AccountId}-${AWS::Region}"), name
        middle = name.removeprefix("${AWS::StackName}-").removesuffix("-${AWS::AccountId}-${AWS::Region}")
        assert re.fullmatch(r"[a-z]+", middle), name


def test_the_queue_policy_lets_only_the_upload_topic_send(resources):
    policy = props(resources, "UploadQueuePolicy")
    assert policy["Queues"] == [ref("UploadQueue")]
    [only] = policy["PolicyDocument"]["Statement"]
    assert only == {"Sid": only.get("Sid"), "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage", "Resource": get_att("UploadQueue", "Arn"),
                    "Condition": {"ArnEquals": {"aws:SourceArn": ref("UploadTopic")}}}


def test_the_temp_bucket_announces_every_upload_to_the_topic_and_nothing_else(resources):
    notification = props(resources, "TempBucket")["NotificationConfiguration"]
    assert set(notification) == {"TopicConfigurations"}
    assert notification["TopicConfigurations"] == [{
        "Event": "s3:ObjectCreated:*", "Topic": ref("UploadTopic"),
        "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "uploads/"}]}}}]
    subscriptions = of_type(resources, "AWS::SNS::Subscription")
    uploads = [s["Properties"] for s in subscriptions.values() if s["Properties"]["TopicArn"] == ref("UploadTopic")]
    # The trigger unwraps SNS's envelope: raw delivery stays off.
    assert uploads == [{"TopicArn": ref("UploadTopic"), "Protocol": "sqs", "Endpoint": get_att("UploadQueue", "Arn"),
                        "RawMessageDelivery": False}]


def test_the_queue_outlasts_six_trigger_timeouts_and_dead_letters_after_five_receives(template, resources):
    _, trigger = functions(template)["trigger"]
    queue = props(resources, "UploadQueue")
    assert queue["VisibilityTimeout"] >= 6 * trigger["Timeout"], (queue["VisibilityTimeout"], trigger["Timeout"])
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": get_att("UploadDeadLetterQueue", "Arn"), "maxReceiveCount": 5}
    dead = props(resources, "UploadDeadLetterQueue")
    assert dead["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"], "a dead letter must outlive its original's retention"
    assert queue.get("SqsManagedSseEnabled") and dead.get("SqsManagedSseEnabled")


def test_the_trigger_takes_batches_of_ten_and_reports_failed_messages_alone(template, transformed):
    _, trigger = functions(template)["trigger"]
    # The event source runs no more batches at once than the function may: a throttled batch would
    # go back to the queue as one more receive, and five make a dead letter.
    scaling = {"MaximumConcurrency": trigger["ReservedConcurrentExecutions"]}
    assert trigger["Events"] == {"Uploads": {"Type": "SQS", "Properties": {
        "Queue": get_att("UploadQueue", "Arn"), "BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": scaling}}}
    mappings = [r["Properties"] for r in transformed["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mappings == [{"BatchSize": 10, "EventSourceArn": get_att("UploadQueue", "Arn"), "FunctionName": ref("TriggerFunction"),
                         "FunctionResponseTypes": ["ReportBatchItemFailures"], "ScalingConfig": scaling}]


# -- the conversion -----------------------------------------------------------------------------------


def test_the_completion_rule_matches_only_this_stacks_job_state_changes(template, resources):
    _, complete = functions(template)["complete"]
    assert set(complete["Events"]) == {"JobStateChange", "Sweep"}
    event = complete["Events"]["JobStateChange"]
    assert event["Type"] == "EventBridgeRule"
    assert event["Properties"]["Pattern"] == {
        "source": ["aws.mediaconvert"], "detail-type": ["MediaConvert Job State Change"],
        "detail": {"status": ["STATUS_UPDATE", "COMPLETE", "ERROR"], "queue": [get_att("ConversionQueue", "Arn")]}}
    assert props(resources, "ConversionQueue")["PricingPlan"] == "ON_DEMAND"


def test_the_sweeper_runs_every_quarter_hour_with_only_the_reads_it_needs(template, resources):
    """A video whose end event was lost is settled by the sweeper (ConversionSweep): the complete
    function on a schedule, which may scan the table and read this account's MediaConvert jobs in
    this region, and nothing more than before."""
    _, complete = functions(template)["complete"]
    assert complete["Events"]["Sweep"] == {"Type": "Schedule", "Properties": {"Schedule": "rate(15 minutes)"}}
    assert statement(resources, "CompleteRole", "Library") == {
        "Sid": "Library", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Scan"],
        "Resource": get_att("VideoTable", "Arn")}
    assert statement(resources, "CompleteRole", "Jobs") == {
        "Sid": "Jobs", "Effect": "Allow", "Action": "mediaconvert:GetJob",
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:mediaconvert:${AWS::Region}:${AWS::AccountId}:jobs/*"}}


def test_a_conversions_end_that_cannot_be_recorded_is_kept_and_raises_an_alarm(template, resources, transformed):
    """EventBridge retries delivering a job state change to the function for an hour; the function's
    own failures are retried twice by Lambda. Either way the event then goes to one dead-letter queue
    (encrypted, kept 14 days), which only that rule may send to besides the function's role, and any
    message there raises the alarm: a video does not stay `converting` unnoticed."""
    complete_id, complete = functions(template)["complete"]
    name, event = "JobStateChange", complete["Events"]["JobStateChange"]
    dead_letters = get_att("CompletionDeadLetterQueue", "Arn")
    assert event["Properties"]["RetryPolicy"] == {"MaximumRetryAttempts": 20, "MaximumEventAgeInSeconds": 3600}
    assert event["Properties"]["DeadLetterConfig"] == {"Arn": dead_letters}
    assert complete["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": dead_letters}
    assert statement(resources, "CompleteRole", "DeadLetters") == {
        "Sid": "DeadLetters", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dead_letters}
    queue = props(resources, "CompletionDeadLetterQueue")
    assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] == 1209600
    [policy] = [p["Properties"] for p in of_type(resources, "AWS::SQS::QueuePolicy").values()
                if p["Properties"]["Queues"] == [ref("CompletionDeadLetterQueue")]]
    rule = f"{complete_id}{name}"
    assert policy["PolicyDocument"]["Statement"] == [{
        "Sid": "CompletionRuleDeadLetters", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": dead_letters,
        "Condition": {"ArnEquals": {"aws:SourceArn": get_att(rule, "Arn")}}}]
    # SAM makes the rule under that name, its target carrying the retry policy and the queue.
    generated = transformed["Resources"][rule]
    assert generated["Type"] == "AWS::Events::Rule"
    [target] = generated["Properties"]["Targets"]
    assert target["RetryPolicy"] == event["Properties"]["RetryPolicy"]
    assert target["DeadLetterConfig"] == {"Arn": dead_letters}
    [alarm] = [a["Properties"] for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
               if a["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": get_att("CompletionDeadLetterQueue", "QueueName")}]]
    assert (alarm["MetricName"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0)
    assert alarm["AlarmActions"] == [ref("AlarmTopic")]


def test_each_function_has_a_reserved_concurrency(template):
    """A ceiling on what a flood of requests or uploads can cost; 75 in all, so the account's
    Lambda concurrency must be at least 175 (100 stay unreserved)."""
    found = {handler: function.get("ReservedConcurrentExecutions") for handler, (_, function) in functions(template).items()}
    assert found == {"video": 50, "trigger": 10, "complete": 10, "signout": 5}


def test_the_api_and_the_distribution_write_access_logs_that_expire(resources):
    stage = props(resources, "VideoApiStage")["AccessLogSettings"]
    assert stage["DestinationArn"] == get_att("VideoApiLogGroup", "Arn")
    fields = json.loads(stage["Format"])
    assert {"requestId", "routeKey", "status", "authorizer.claims.sub"} <= {
        value.removeprefix("$context.") for value in fields.values()}
    assert props(resources, "VideoApiLogGroup")["RetentionInDays"] == 30
    logging = props(resources, "Distribution")["DistributionConfig"]["Logging"]
    assert logging == {"Bucket": get_att("LogBucket", "DomainName"), "Prefix": "cloudfront/", "IncludeCookies": False}
    logs = props(resources, "LogBucket")
    # CloudFront's standard logging writes with an ACL grant: ACLs on, the bucket owning the objects.
    assert logs["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    assert logs["LifecycleConfiguration"]["Rules"] == [{"Id": "expire-logs", "Status": "Enabled", "ExpirationInDays": 90}]


def test_a_deleted_videos_files_stay_recoverable_for_thirty_days(resources):
    main = props(resources, "MainBucket")
    assert main["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = main["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and "Prefix" not in rule and "Filter" not in rule
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rule["ExpiredObjectDeleteMarker"] is True
    assert "ExpirationInDays" not in rule, "a current video must never expire"
    days = re.search(r"deleted video stays recoverable for (\d+) days", (REPO / "docs" / "production.md").read_text())
    assert days and int(days.group(1)) == 30, "docs/production.md states the days"


def test_jobs_go_to_the_queue_the_rule_listens_to(template, resources):
    _, trigger = functions(template)["trigger"]
    assert trigger["Environment"]["Variables"]["MEDIACONVERT_QUEUE_ARN"] == get_att("ConversionQueue", "Arn")
    queue_name = props(resources, "ConversionQueue")["Name"]["Fn::Sub"]
    convert = statement(resources, "TriggerRole", "Convert")
    assert convert["Action"] == "mediaconvert:CreateJob"
    assert convert["Resource"] == sub(f"arn:${{AWS::Partition}}:mediaconvert:${{AWS::Region}}:${{AWS::AccountId}}:queues/{queue_name}")


def test_every_lambda_permission_names_its_source(transformed):
    permissions = {name: r["Properties"] for name, r in transformed["Resources"].items() if r["Type"] == "AWS::Lambda::Permission"}
    assert permissions, "SAM made no Lambda permission"
    for name, permission in permissions.items():
        assert permission["Action"] == "lambda:InvokeFunction", name
        assert "SourceArn" in permission, f"{name}: any {permission['Principal']} source could invoke"
    rule = [p for p in permissions.values() if p["Principal"] == "events.amazonaws.com"]
    assert rule == [{"Action": "lambda:InvokeFunction", "FunctionName": ref("CompleteFunction"),
                     "Principal": "events.amazonaws.com", "SourceArn": get_att("CompleteFunctionJobStateChange", "Arn")}]
    # The API's routes are all under /api; API Gateway may invoke the function for those only.
    api = [p for p in permissions.values() if p["Principal"] == "apigateway.amazonaws.com"]
    assert api == [{"Action": "lambda:InvokeFunction", "FunctionName": ref("VideoFunction"), "Principal": "apigateway.amazonaws.com",
                    "SourceArn": sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${VideoApi}/*/*/api/*")}]
    assert {p["Principal"] for p in permissions.values()} == {"events.amazonaws.com", "apigateway.amazonaws.com"}


def test_mediaconvert_role_reads_originals_and_writes_conversions_only(resources):
    role = props(resources, "MediaConvertRole")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [{
        "Effect": "Allow", "Principal": {"Service": "mediaconvert.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    assert "ManagedPolicyArns" not in role
    granted = {(s["Action"], json.dumps(s["Resource"])) for s in role_statements(resources, "MediaConvertRole")}
    assert granted == {("s3:GetObject", json.dumps(sub("${TempBucket.Arn}/uploads/*"))),
                       ("s3:PutObject", json.dumps(sub("${MainBucket.Arn}/videos/*")))}


def test_the_trigger_may_pass_only_mediaconverts_role_and_only_to_mediaconvert(resources):
    passes = [s for where, s in policy_statements(resources) if "iam:PassRole" in as_list(s.get("Action", []))]
    assert len(passes) == 1
    [only] = passes
    assert only == statement(resources, "TriggerRole", "PassConversionRole")
    assert only["Resource"] == get_att("MediaConvertRole", "Arn")
    assert only["Condition"] == {"StringEquals": {"iam:PassedToService": "mediaconvert.amazonaws.com"}}


# -- the policies ---------------------------------------------------------------------------------------


def test_no_allow_statement_has_a_wildcard_action(resources):
    wildcards = []
    for where, s in policy_statements(resources):
        assert "NotAction" not in s and "NotResource" not in s, where
        actions = as_list(s.get("Action", []))
        if s["Effect"] == "Deny":
            # A Deny takes away: the TLS-only statements refuse every S3 action over plain HTTP.
            assert actions == ["s3:*"] and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, where
            continue
        wildcards += [f"{where}: {a}" for a in actions if "*" in a]
    assert wildcards == []


def test_a_star_resource_only_where_nothing_narrower_exists(resources):
    stars = []
    for where, s in policy_statements(resources):
        if s["Effect"] == "Allow" and "*" in as_list(s.get("Resource", [])):
            stars += [(where, a) for a in as_list(s["Action"]) if a not in STAR_RESOURCES]
    assert stars == []


EXPECTED_GRANTS = {
    # handler: {action: resources}
    "video": {
        "dynamodb:PutItem": ["table"], "dynamodb:GetItem": ["table"], "dynamodb:Query": ["table"],
        "dynamodb:DeleteItem": ["table"], "dynamodb:UpdateItem": ["table"],
        "s3:PutObject": ["temp uploads"], "s3:ListMultipartUploadParts": ["temp uploads"],
        "s3:AbortMultipartUpload": ["temp uploads"], "s3:DeleteObject": ["main videos", "temp uploads"],
        "secretsmanager:GetSecretValue": ["active media key"],
        "logs:CreateLogStream": ["own log group"], "logs:PutLogEvents": ["own log group"]},
    "trigger": {
        "dynamodb:GetItem": ["table"], "dynamodb:Query": ["table"], "dynamodb:UpdateItem": ["table"], "s3:GetObject": ["temp uploads"],
        "mediaconvert:CreateJob": ["conversion queue"], "iam:PassRole": ["mediaconvert role"],
        "sqs:ReceiveMessage": ["upload queue"], "sqs:DeleteMessage": ["upload queue"], "sqs:GetQueueAttributes": ["upload queue"],
        "logs:CreateLogStream": ["own log group"], "logs:PutLogEvents": ["own log group"]},
    "complete": {
        "dynamodb:GetItem": ["table"], "dynamodb:UpdateItem": ["table"], "dynamodb:Scan": ["table"],
        "mediaconvert:GetJob": ['{"Fn::Sub": "arn:${AWS::Partition}:mediaconvert:${AWS::Region}:${AWS::AccountId}:jobs/*"}'],
        "s3:DeleteObject": ["main videos", "temp uploads"], "sqs:SendMessage": ["completion dead letters"],
        "logs:CreateLogStream": ["own log group"], "logs:PutLogEvents": ["own log group"]},
    "signout": {
        "cognito-idp:AdminUserGlobalSignOut": ["the account's user pools in the region"],
        "logs:CreateLogStream": ["own log group"], "logs:PutLogEvents": ["own log group"]},
}


def test_each_function_has_its_own_role_with_exactly_what_its_code_calls(template, resources):
    """The video function inserts, reads, lists and removes records (status changes are the other
    functions'), presigns uploads, deletes a video's files and reads the active media key (playback
    goes through CloudFront: no s3:GetObject); the trigger reads a record and the upload's header,
    starts a job and marks it queued; the completion handler updates the record and deletes files;
    the sign-out trigger ends a user's sessions (the pool cannot be named: see the template)."""
    names = {json.dumps(get_att("VideoTable", "Arn")): "table",
             json.dumps(sub("${TempBucket.Arn}/uploads/*")): "temp uploads",
             json.dumps(sub("${MainBucket.Arn}/videos/*")): "main videos",
             json.dumps(get_att("MediaConvertRole", "Arn")): "mediaconvert role",
             json.dumps(get_att("UploadQueue", "Arn")): "upload queue",
             json.dumps(get_att("CompletionDeadLetterQueue", "Arn")): "completion dead letters",
             json.dumps(ACTIVE_MEDIA_SECRET): "active media key",
             json.dumps(statement(resources, "TriggerRole", "Convert")["Resource"]): "conversion queue",
             json.dumps(sub("arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/*")):
                 "the account's user pools in the region"}
    roles = set()
    for handler, (function_id, function) in functions(template).items():
        role = function["Role"]["Fn::GetAtt"][0]
        roles.add(role)
        assert function["Role"] == get_att(role, "Arn")
        role_props = props(resources, role)
        assert "ManagedPolicyArns" not in role_props, role
        assert role_props["AssumeRolePolicyDocument"]["Statement"] == [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
        log_group = function["LoggingConfig"]["LogGroup"]["Ref"]
        names_here = {**names, json.dumps(get_att(log_group, "Arn")): "own log group"}
        granted: dict[str, list[str]] = {}
        for s in role_statements(resources, role):
            assert s["Effect"] == "Allow"
            for action in as_list(s["Action"]):
                granted.setdefault(action, []).extend(names_here.get(json.dumps(r), json.dumps(r)) for r in as_list(s["Resource"]))
        assert {a: sorted(r) for a, r in granted.items()} == EXPECTED_GRANTS[handler], handler
    assert len(roles) == 4


def test_each_function_logs_to_its_own_log_group_kept_thirty_days(template, resources):
    groups = set()
    for handler, (_, function) in functions(template).items():
        group = function["LoggingConfig"]["LogGroup"]["Ref"]
        groups.add(group)
        assert resources[group]["Type"] == "AWS::Logs::LogGroup"
        assert props(resources, group)["RetentionInDays"] == 30
    assert len(groups) == 4


# -- the functions ---------------------------------------------------------------------------------------


def handler_needs(handlers_swift: str) -> dict[str, set[str]]:
    """handler → the variables Handlers.swift makes it need besides the common ones: its table
    `static let variables = ["video": [...], "trigger": [...]]` (or the older
    `needs: name == "trigger" ? [...]`)."""
    table = re.search(r'static let variables\s*(?::[^=]*)?=\s*\[(.*?)\]\s*\n', handlers_swift, re.S)
    if table:
        return {name: set(re.findall(r'"([A-Z0-9_]+)"', names))
                for name, names in re.findall(r'"([a-z]+)"\s*:\s*\[([^\]]*)\]', table.group(1))}
    needs = re.search(r'needs: name == "trigger" \? \[([^\]]*)\]', handlers_swift)
    assert needs, "the handlers' extra variables are not where the test looks (Sources/bootstrap/Handlers.swift)"
    return {"trigger": set(re.findall(r'"([A-Z0-9_]+)"', needs.group(1)))}


def variables_the_code_reads() -> dict[str, set[str]]:
    """handler → the variables the Swift code reads: FunctionSettings' required names (all), plus
    `settings.variables["…"]` in each function's type, plus what Handlers.swift makes each handler
    need; AWS_REGION is Lambda's own."""
    functions_swift = (REPO / "Sources" / "VideoFunctions" / "Functions.swift").read_text()
    types_swift = functions_swift + "\n" + (REPO / "Sources" / "VideoFunctions" / "SignOutFunction.swift").read_text()
    handlers_swift = (REPO / "Sources" / "bootstrap" / "Handlers.swift").read_text()
    required = re.search(r'let names = \[([^\]]*)\]', functions_swift)
    assert required, "FunctionSettings' variable names are not where the test looks"
    common = set(re.findall(r'"([A-Z0-9_]+)"', required.group(1)))
    # Every function reads the limits' variables (FunctionSettings: UsageLimits.from(environment:)).
    common |= limit_variables()
    types = {"video": "VideoFunction", "trigger": "TriggerFunction", "complete": "CompletionFunction",
             "signout": "SignOutFunction"}
    found = {}
    for handler, type_name in types.items():
        body = re.search(rf"public struct {type_name}\b(.*?)(?=\npublic |\n///|\Z)", types_swift, re.S)
        assert body, f"{type_name} is not in Functions.swift or SignOutFunction.swift"
        found[handler] = (common | set(re.findall(r'variables\["([A-Z0-9_]+)"\]', body.group(1)))) - {"AWS_REGION"}
    for handler, names in handler_needs(handlers_swift).items():
        found[handler] |= names
    return found


def limit_variables() -> set[str]:
    """The variables of everyone's limits, as UsageLimits.settingNames names them."""
    usage_swift = (REPO / "Sources" / "VideoService" / "UsageLimits.swift").read_text()
    names = re.search(r"static let settingNames = \((.*?)\)\n", usage_swift, re.S)
    assert names, "UsageLimits.settingNames is not where the test looks"
    return set(re.findall(r'"(LIMIT_[A-Z_]+)"', names.group(1)))


def test_every_users_limits_are_parameters_with_a_persons_defaults_given_to_every_function(template):
    """200 GiB, 1,000 videos, 50 GiB a file, 600 converted minutes a month, videos cut at 180
    minutes, each a stack parameter that every function reads (the API and the trigger check them;
    the completion counts minutes; the trigger clips at the longest)."""
    parameters = template["Parameters"]
    expected = {"LimitStoredGiB": ("LIMIT_STORED_GIB", 200), "LimitVideos": ("LIMIT_VIDEOS", 1000),
                "LimitLargestGiB": ("LIMIT_LARGEST_GIB", 50), "LimitConvertedMinutes": ("LIMIT_MINUTES_PER_MONTH", 600),
                "LimitLongestMinutes": ("LIMIT_LONGEST_MINUTES", 180)}
    assert {variable for variable, _ in expected.values()} == limit_variables()
    for parameter, (variable, default) in expected.items():
        assert parameters[parameter]["Type"] == "Number" and parameters[parameter]["Default"] == default, parameter
        # Every limit may be 0 but the longest duration, which must let some video through.
        assert parameters[parameter]["MinValue"] == (0.01 if parameter == "LimitLongestMinutes" else 0), parameter
        for handler, (_, function) in functions(template).items():
            assert function["Environment"]["Variables"][variable] == ref(parameter), (handler, variable)
    assert parameters["LimitLargestGiB"]["MaxValue"] == 5120


def test_each_functions_environment_is_what_its_code_reads(template):
    expected = variables_the_code_reads()
    assert expected["video"] >= {"VIDEO_TABLE", "TEMP_BUCKET", "MAIN_BUCKET", "COGNITO_CLIENT_ID"}
    assert expected["trigger"] >= {"MEDIACONVERT_ROLE_ARN", "MEDIACONVERT_QUEUE_ARN"}
    given = {handler: function["Environment"]["Variables"] for handler, (_, function) in functions(template).items()}
    assert {h: set(v) for h, v in given.items()} == expected
    for variables in given.values():
        assert variables["VIDEO_TABLE"] == ref("VideoTable")
        assert variables["TEMP_BUCKET"] == ref("TempBucket")
        assert variables["MAIN_BUCKET"] == ref("MainBucket")
    assert given["video"]["COGNITO_CLIENT_ID"] == ref("UserPoolClient")
    assert given["trigger"]["MEDIACONVERT_ROLE_ARN"] == get_att("MediaConvertRole", "Arn")


def test_the_video_function_signs_media_cookies_with_the_active_slot_for_the_sites_origin(template):
    """MEDIA_KEY_PAIR_ID is the active slot's CloudFront public key id, MEDIA_KEY_SECRET its
    private key's secret, MEDIA_ORIGIN the origin the site is served from (the custom one when set,
    else the distribution's own domain)."""
    _, video = functions(template)["video"]
    variables = video["Environment"]["Variables"]
    assert variables["MEDIA_KEY_PAIR_ID"] == {"Fn::If": ["MediaKeyAIsActive", ref("MediaPublicKeyA"), ref("MediaPublicKeyB")]}
    assert variables["MEDIA_KEY_SECRET"] == ACTIVE_MEDIA_SECRET
    assert variables["MEDIA_ORIGIN"] == {"Fn::If": ["HasSiteOrigin", ref("SiteOrigin"), sub("https://${Distribution.DomainName}")]}
    # After a rotation the function signs with the new key only once the key group holds it.
    assert "MediaKeyGroup" in as_list(template["Resources"]["VideoFunction"].get("DependsOn", []))
    conditions = template["Conditions"]
    assert conditions["MediaKeyAIsActive"] == {"Fn::Equals": [ref("ActiveMediaKey"), "A"]}
    # Each branch's key exists whenever that branch is taken.
    assert {"Condition": "MediaKeyAIsActive"} in conditions["HasMediaKeyA"]["Fn::Or"]
    assert {"Fn::Not": [{"Condition": "MediaKeyAIsActive"}]} in conditions["HasMediaKeyB"]["Fn::Or"]


def test_the_four_functions_run_the_bootstrap_zip(template):
    found = functions(template)
    assert set(found) == {"video", "trigger", "complete", "signout"}
    for handler, (_, function) in found.items():
        assert function["CodeUri"] == "../.build-lambda/bootstrap.zip"
        assert (function["Runtime"], function["Architectures"], function["MemorySize"]) == ("provided.al2023", ["x86_64"], 512)
    assert {h: f["Timeout"] for h, (_, f) in found.items()} == {"video": 10, "trigger": 30, "complete": 30, "signout": 5}


def test_a_password_reset_reaches_the_signout_function_from_this_pool_only(resources):
    """The pool's post-confirmation trigger (ConfirmForgotPassword fires it) is the signout
    function, which Cognito may invoke for this pool and account only."""
    assert props(resources, "UserPool")["LambdaConfig"] == {"PostConfirmation": get_att("SignOutFunction", "Arn")}
    permissions = [p["Properties"] for p in of_type(resources, "AWS::Lambda::Permission").values()
                   if p["Properties"]["FunctionName"] == ref("SignOutFunction")]
    assert permissions == [{"Action": "lambda:InvokeFunction", "FunctionName": ref("SignOutFunction"),
                            "Principal": "cognito-idp.amazonaws.com", "SourceArn": get_att("UserPool", "Arn"),
                            "SourceAccount": ref("AWS::AccountId")}]
    assert props(resources, "SignOutFunction")["Handler"] == "signout"


# -- buckets ------------------------------------------------------------------------------------------------


def test_every_bucket_blocks_public_access_is_encrypted_and_refuses_plain_http(resources):
    buckets = of_type(resources, "AWS::S3::Bucket")
    assert set(buckets) == {"TempBucket", "MainBucket", "SiteBucket", "LogBucket"}
    # CloudFront's standard logs are written with an ACL grant (see the access logs' test).
    ownership = {name: "BucketOwnerPreferred" if name == "LogBucket" else "BucketOwnerEnforced" for name in buckets}
    policies = {p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
                for p in of_type(resources, "AWS::S3::BucketPolicy").values()}
    for name in buckets:
        bucket = props(resources, name)
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}, name
        [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms"), name
        assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": ownership[name]}]}, name
        assert "AccessControl" not in bucket and "WebsiteConfiguration" not in bucket, name
        tls = [s for s in policies.get(name, []) if s["Effect"] == "Deny"]
        assert tls == [{"Sid": "TLSOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                        "Resource": [get_att(name, "Arn"), sub(f"${{{name}.Arn}}/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}], name


def site_origins() -> list:
    return [sub("https://${Distribution.DomainName}"), {"Fn::If": ["HasSiteOrigin", ref("SiteOrigin"), ref("AWS::NoValue")]}]


def test_the_temp_bucket_takes_presigned_puts_from_the_site_and_forgets_strays(resources):
    temp = props(resources, "TempBucket")
    [cors] = temp["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedOrigins"] == site_origins()
    assert cors["AllowedMethods"] == ["PUT"]
    assert {h.lower() for h in cors["AllowedHeaders"]} == {"content-type", "x-amz-checksum-sha256", "content-length"}
    assert {h.lower() for h in cors["ExposedHeaders"]} == {"etag", "x-amz-checksum-sha256"}
    rules = {r["Id"]: r for r in temp["LifecycleConfiguration"]["Rules"]}
    assert all(r["Status"] == "Enabled" for r in rules.values())
    assert [r["AbortIncompleteMultipartUpload"] for r in rules.values() if "AbortIncompleteMultipartUpload" in r] == [{"DaysAfterInitiation": 1}]
    assert [(r["Prefix"], r["ExpirationInDays"]) for r in rules.values() if "ExpirationInDays" in r] == [("uploads/", 7)]


UPLOAD_ORIGIN = {"Fn::If": ["AccelerateUploads", sub("https://${TempBucket}.s3-accelerate.amazonaws.com"),
                            sub("https://${TempBucket}.s3.${AWS::Region}.${AWS::URLSuffix}")]}


def test_upload_acceleration_is_off_by_default_and_on_moves_the_bucket_the_function_and_the_output(template, resources):
    """UploadAcceleration "true": the temp bucket has Transfer Acceleration enabled, the video
    function presigns uploads for its s3-accelerate endpoint, and UploadOrigin (the upload origin
    `site build --stack` puts in the config and the CSP's connect-src) names that endpoint. Off, the
    bucket has no accelerate configuration at all (regions without acceleration refuse even
    "Suspended") and everything stays regional. The bucket's CORS rules are the bucket's own, so
    they answer on both endpoints alike."""
    parameter = template["Parameters"]["UploadAcceleration"]
    assert (parameter["Type"], parameter["Default"], parameter["AllowedValues"]) == ("String", "false", ["false", "true"])
    assert template["Conditions"]["AccelerateUploads"] == {"Fn::Equals": [ref("UploadAcceleration"), "true"]}
    temp = props(resources, "TempBucket")
    assert temp["AccelerateConfiguration"] == {"Fn::If": ["AccelerateUploads", {"AccelerationStatus": "Enabled"}, ref("AWS::NoValue")]}
    assert not [b for b in of_type(resources, "AWS::S3::Bucket") if b != "TempBucket" and "AccelerateConfiguration" in props(resources, b)]
    # An accelerated bucket's name must be a DNS label without dots: the stack name (lowercase,
    # digits, hyphens; infra/deploy checks it), account id and region have none.
    assert "." not in bucket_name_text(resources, "TempBucket")
    _, video = functions(template)["video"]
    assert video["Environment"]["Variables"]["UPLOAD_ACCELERATION"] == ref("UploadAcceleration")
    assert all("UPLOAD_ACCELERATION" not in f["Environment"]["Variables"] for h, (_, f) in functions(template).items() if h != "video")
    assert template["Outputs"]["UploadOrigin"]["Value"] == UPLOAD_ORIGIN


def distribution_source_arn() -> dict:
    return {"StringEquals": {"AWS:SourceArn": sub("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}")}}


def test_the_main_bucket_is_read_by_this_distribution_only_and_has_no_cors(resources):
    """Media are same-origin now (/media/* on the site's distribution): no CORS, no presigned GET;
    CloudFront reads the conversions under videos/ and nothing else of the bucket."""
    assert "CorsConfiguration" not in props(resources, "MainBucket")
    [allow] = [s for s in props(resources, "MainBucketPolicy")["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert (allow["Action"], allow["Resource"]) == ("s3:GetObject", sub("${MainBucket.Arn}/videos/*"))
    assert allow["Condition"] == distribution_source_arn()


def test_the_site_bucket_is_read_and_listed_by_this_distribution_only(resources):
    """GetObject on the objects and ListBucket on the bucket (one statement, for the template's
    bytes), so that S3 answers a missing page with 404 rather than 403
    (test_a_missing_page_is_the_404_page_and_every_403_keeps_its_body)."""
    [allow] = [s for s in props(resources, "SiteBucketPolicy")["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert sorted(as_list(allow["Action"])) == ["s3:GetObject", "s3:ListBucket"]
    assert as_list(allow["Resource"]) == [get_att("SiteBucket", "Arn"), sub("${SiteBucket.Arn}/*")]
    assert allow["Condition"] == distribution_source_arn()
    config = props(resources, "Distribution")["DistributionConfig"]
    origin = origins(resources)["site"]
    assert origin["DomainName"] == get_att("SiteBucket", "RegionalDomainName")
    assert origin["OriginAccessControlId"] == get_att("SiteOriginAccessControl", "Id")
    oac = props(resources, "SiteOriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == ("s3", "always", "sigv4")


def test_the_distribution_serves_the_built_site(resources):
    config = props(resources, "Distribution")["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["Compress"] is True
    assert behaviour["ResponseHeadersPolicyId"] == ref("SecurityHeadersPolicy")
    # /dir/ and /dir are dir/index.html; the bucket's .site/ records are not served.
    code = props(resources, "SitePathsFunction")["FunctionCode"]
    assert "index.html" in code and "/.site/" in code


def test_a_missing_page_is_the_404_page_and_every_403_keeps_its_body(resources):
    """Error responses hold for every behaviour, /api/* and /media/* included. A 403 mapped to a
    page would hide the API's `403 LimitExceeded` body (which limit, by how much) and turn a refused
    media cookie into a 404; so no 403 is mapped. A missing page is S3's 404 instead, which needs
    s3:ListBucket on the site bucket, granted to this distribution alone."""
    config = props(resources, "Distribution")["DistributionConfig"]
    pages = {(e["ErrorCode"], e.get("ResponseCode"), e.get("ResponsePagePath")) for e in config["CustomErrorResponses"]
             if "ResponsePagePath" in e or "ResponseCode" in e}
    assert pages == {(404, 404, "/404.html")}
    listing = [(where, s) for where, s in policy_statements(resources)
               if s["Effect"] == "Allow" and any(a.lower() in ("s3:listbucket", "s3:*", "s3:list*") for a in as_list(s.get("Action", [])))
               and where.startswith(("SiteBucketPolicy.", "MainBucketPolicy."))]
    assert [where.split(".")[0] for where, _ in listing] == ["SiteBucketPolicy"]
    [(_, grant)] = listing
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert get_att("SiteBucket", "Arn") in as_list(grant["Resource"])
    assert grant["Condition"] == distribution_source_arn()


def test_no_viewer_can_make_the_distribution_list_the_site_bucket(resources):
    """A listing is a GET of the bucket's root, or with `?list-type=2`. The default behaviour sends
    S3 no query string (CachingOptimized forwards none; no origin request policy adds one), and its
    function (run here with node) leaves no path ending in /, so the root is never asked for."""
    site = behaviours(resources)["*"]
    assert site["CachePolicyId"] == CACHING_OPTIMIZED
    assert "OriginRequestPolicyId" not in site
    [association] = site["FunctionAssociations"]
    assert association == {"EventType": "viewer-request", "FunctionARN": get_att("SitePathsFunction", "FunctionMetadata.FunctionARN")}
    uris = ["/", "//", "/library/", "/library", "/app.js", "/.site/deploy.json", "/a.b/"]
    answers = run_viewer_request(props(resources, "SitePathsFunction")["FunctionCode"], uris)
    asked = [answer["uri"] for answer in answers if "uri" in answer]
    assert asked == ["/index.html", "//index.html", "/library/index.html", "/library/index.html", "/app.js", "/a.b/index.html"]


def origins(resources: dict) -> dict[str, dict]:
    return {o["Id"]: o for o in props(resources, "Distribution")["DistributionConfig"]["Origins"]}


def behaviours(resources: dict) -> dict[str, dict]:
    """Path pattern → cache behaviour; the default one under "*"."""
    config = props(resources, "Distribution")["DistributionConfig"]
    return {"*": config["DefaultCacheBehavior"], **{b["PathPattern"]: b for b in config.get("CacheBehaviors", [])}}


def test_one_distribution_has_three_behaviours_site_api_and_media(resources):
    assert list(of_type(resources, "AWS::CloudFront::Distribution")) == ["Distribution"]
    found = behaviours(resources)
    assert {pattern: b["TargetOriginId"] for pattern, b in found.items()} == {"*": "site", "/api/*": "api", "/media/*": "media"}
    assert set(origins(resources)) == {"site", "api", "media"}
    site = found["*"]
    assert (site["CachePolicyId"], site["AllowedMethods"]) == (CACHING_OPTIMIZED, ["GET", "HEAD"])
    assert "TrustedKeyGroups" not in site and "TrustedKeyGroups" not in found["/api/*"]
    for pattern, behaviour in found.items():
        assert behaviour["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only"), pattern
        assert "ForwardedValues" not in behaviour, f"{pattern}: legacy cache settings"


def test_the_api_behaviour_forwards_every_method_authorization_and_the_query_never_caching(resources):
    """CachingDisabled with AllViewerExceptHostHeader: every viewer header (Authorization included:
    an origin request policy may not name it, but with caching disabled the all-viewer policies
    forward it) and the query string, not Host (API Gateway routes by its own host name)."""
    api = behaviours(resources)["/api/*"]
    assert sorted(api["AllowedMethods"]) == sorted(["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"])
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert api["ViewerProtocolPolicy"] == "https-only"  # a redirected POST would lose its body
    assert "FunctionAssociations" not in api
    origin = origins(resources)["api"]
    assert origin["DomainName"] == sub("${VideoApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}")
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origin["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    assert "OriginAccessControlId" not in origin and "S3OriginConfig" not in origin


def test_the_media_behaviour_needs_the_key_group_and_reads_the_main_bucket_through_its_own_oac(resources):
    media = behaviours(resources)["/media/*"]
    assert media["TrustedKeyGroups"] == [ref("MediaKeyGroup")]
    assert "TrustedSigners" not in media
    assert (media["AllowedMethods"], media["CachedMethods"]) == (["GET", "HEAD"], ["GET", "HEAD"])
    assert media["CachePolicyId"] == ref("MediaCachePolicy")
    assert "OriginRequestPolicyId" not in media  # nothing of the viewer's request goes to S3
    assert media["ResponseHeadersPolicyId"] == ref("MediaHeadersPolicy")
    origin = origins(resources)["media"]
    assert origin["DomainName"] == get_att("MainBucket", "RegionalDomainName")
    assert origin["OriginAccessControlId"] == get_att("MediaOriginAccessControl", "Id")
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    oac = props(resources, "MediaOriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == ("s3", "always", "sigv4")


def test_media_is_cached_long_with_nothing_of_the_request_in_the_key(resources):
    """Signed cookies are checked before the cache: they must not split it (nor headers or query)."""
    config = props(resources, "MediaCachePolicy")["CachePolicyConfig"]
    day, year = 86400, 365 * 86400
    assert (config["MinTTL"], config["DefaultTTL"], config["MaxTTL"]) == (day, year, year)
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}


def test_media_responses_are_private_for_a_day_with_the_sites_security_headers(resources):
    site = headers_of(resources, "SecurityHeadersPolicy")
    media = headers_of(resources, "MediaHeadersPolicy")
    assert media.pop("Cache-Control") == "private, max-age=86400"
    assert media == site


def media_function_code(resources: dict) -> str:
    [association] = behaviours(resources)["/media/*"]["FunctionAssociations"]
    assert association == {"EventType": "viewer-request", "FunctionARN": get_att("MediaPathsFunction", "FunctionMetadata.FunctionARN")}
    function = props(resources, "MediaPathsFunction")
    assert function["AutoPublish"] is True and function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    return function["FunctionCode"]


def run_viewer_request(code: str, uris: list[str]) -> list[dict]:
    """What a CloudFront Function's `handler` returns for a viewer request of each URI (a request to
    send on, or a response), run with node on CloudFront Functions' event shape; skips without node."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed; the association and the code's presence were checked")
    runner = """
const code = require('fs').readFileSync(0, 'utf8');
const handler = new Function(code + '\\nreturn handler;')();
const out = JSON.parse(process.argv[1]).map((uri) => handler({
  version: '1.0', context: {eventType: 'viewer-request'}, viewer: {ip: '192.0.2.1'},
  request: {method: 'GET', uri, querystring: {}, headers: {host: {value: 'd111111abcdef8.cloudfront.net'}},
            cookies: {'CloudFront-Key-Pair-Id': {value: 'K2JCJMDEHXQW5F'}}}}));
process.stdout.write(JSON.stringify(out));
"""
    result = subprocess.run([node, "-e", runner, json.dumps(uris)], input=code, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_media_function_takes_media_off_the_path_and_refuses_anything_but_videos(resources):
    """Run with node on CloudFront Functions' event shape (viewer request): /media/videos/<sub>/...
    becomes videos/<sub>/... of the bucket; anything else under /media/ is a 404 of the function's."""
    code = media_function_code(resources)
    sub_id = "0a11ce00-0000-4000-8000-000000000001"
    uris = [f"/media/videos/{sub_id}/abcdefghijklmnopqrstuvwxyz/video.mp4",
            f"/media/videos/{sub_id}/abcdefghijklmnopqrstuvwxyz/thumbnail.0000000.jpg",
            "/media/uploads/x/y/clip.mov", "/media/", "/media/.site/deploy.json"]
    answers = run_viewer_request(code, uris)
    assert answers[0]["uri"] == f"/videos/{sub_id}/abcdefghijklmnopqrstuvwxyz/video.mp4"
    assert answers[1]["uri"] == f"/videos/{sub_id}/abcdefghijklmnopqrstuvwxyz/thumbnail.0000000.jpg"
    # The rest of the request goes on unchanged (the cookies were checked before the function).
    assert answers[0]["cookies"] == {"CloudFront-Key-Pair-Id": {"value": "K2JCJMDEHXQW5F"}} and answers[0]["method"] == "GET"
    for answer in answers[2:]:
        assert answer == {"statusCode": 404, "statusDescription": "Not Found"}


def test_the_key_group_holds_exactly_the_slots_that_hold_a_key(template, resources):
    keys = of_type(resources, "AWS::CloudFront::PublicKey")
    assert set(keys) == {"MediaPublicKeyA", "MediaPublicKeyB"}
    for slot in "AB":
        key = resources[f"MediaPublicKey{slot}"]
        assert key["Condition"] == f"HasMediaKey{slot}"
        config = key["Properties"]["PublicKeyConfig"]
        assert config["EncodedKey"] == ref(f"MediaKey{slot}PublicKey")
        # Stable per slot: a slot is emptied and filled again, never changed in place.
        assert config["CallerReference"] == sub(f"${{AWS::StackName}}-media-key-{slot.lower()}")
        assert config["Name"] == sub(f"${{AWS::StackName}}-media-key-{slot.lower()}")
    [group] = of_type(resources, "AWS::CloudFront::KeyGroup")
    assert group == "MediaKeyGroup"
    assert props(resources, group)["KeyGroupConfig"]["Items"] == [
        {"Fn::If": ["HasMediaKeyA", ref("MediaPublicKeyA"), ref("AWS::NoValue")]},
        {"Fn::If": ["HasMediaKeyB", ref("MediaPublicKeyB"), ref("AWS::NoValue")]}]
    parameters = template["Parameters"]
    assert parameters["ActiveMediaKey"]["AllowedValues"] == ["A", "B"] and parameters["ActiveMediaKey"]["Default"] == "A"
    for slot in "AB":
        for name in (f"MediaKey{slot}PublicKey", f"MediaKey{slot}SecretArn"):
            # infra/deploy passes them; an empty value is an empty slot.
            assert re.fullmatch(parameters[name]["AllowedPattern"], ""), name
    pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1L7VLPHCgcBIjd+A\n-----END PUBLIC KEY-----\n"
    assert re.fullmatch(parameters["MediaKeyAPublicKey"]["AllowedPattern"], pem)
    arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:video/media-key/20250101T000000Z-AbCdEf"
    assert re.fullmatch(parameters["MediaKeyASecretArn"]["AllowedPattern"], arn)
    # The active slot holds a key; a slot is a key and its secret together.
    assert {"MediaKeySlotsArePairs", "ActiveMediaKeyAIsSet", "ActiveMediaKeyBIsSet"} <= set(template["Rules"])


def test_the_video_role_reads_only_the_active_media_keys_secret(resources):
    """Exactly one Secrets Manager grant in the whole template: GetSecretValue on the active slot's
    secret, by its ARN. No KMS grant: the secrets use Secrets Manager's default key."""
    assert statement(resources, "VideoRole", "MediaKey") == {
        "Sid": "MediaKey", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": ACTIVE_MEDIA_SECRET}
    grants = [(where, s) for where, s in policy_statements(resources)
              if any(a.lower().startswith(("secretsmanager:", "kms:")) for a in as_list(s.get("Action", [])))]
    assert [where for where, _ in grants] == [w for w, s in policy_statements(resources) if s.get("Sid") == "MediaKey"]
    assert not of_type(resources, "AWS::SecretsManager::Secret"), "the private keys are infra/deploy's, never the template's"


def test_error_responses_are_never_cached_and_only_a_404_has_a_page(resources):
    """Custom error responses hold for every behaviour. An error CloudFront caches would be served
    to other users for its ErrorCachingMinTTL (10 s by default, even with caching disabled) under a
    key without Authorization or the query; so every cacheable error code is kept 0 s. Only a 404
    (a missing site page; the API's 404s too) has a page; the API's 400, 403 and 5xx go through as
    the API wrote them."""
    config = props(resources, "Distribution")["DistributionConfig"]
    responses = {e["ErrorCode"]: e for e in config["CustomErrorResponses"]}
    cacheable = {400, 403, 404, 405, 414, 500, 501, 502, 503, 504}
    assert set(responses) == cacheable
    assert all(e["ErrorCachingMinTTL"] == 0 for e in responses.values())
    assert [code for code, e in responses.items() if "ResponsePagePath" in e or "ResponseCode" in e] == [404]


# -- the security headers ---------------------------------------------------------------------------------


def policy_headers(resources: dict) -> dict[str, str]:
    """The headers the site's response headers policy sets, as a browser receives them."""
    return headers_of(resources, "SecurityHeadersPolicy")


def headers_of(resources: dict, policy: str) -> dict[str, str]:
    """The headers a response headers policy sets, as a browser receives them."""
    config = props(resources, policy)["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    headers: dict[str, str] = {}
    for name, item in security.items():
        assert item.get("Override") is True, f"{name}: the policy must win over what the origin sends"
    if hsts := security.get("StrictTransportSecurity"):
        headers["Strict-Transport-Security"] = "; ".join(
            [f"max-age={hsts['AccessControlMaxAgeSec']}"] + (["includeSubDomains"] if hsts.get("IncludeSubdomains") else [])
            + (["preload"] if hsts.get("Preload") else []))
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = "nosniff"
    if frame := security.get("FrameOptions"):
        headers["X-Frame-Options"] = frame["FrameOption"]
    if referrer := security.get("ReferrerPolicy"):
        headers["Referrer-Policy"] = referrer["ReferrerPolicy"]
    if csp := security.get("ContentSecurityPolicy"):
        headers["Content-Security-Policy"] = csp["ContentSecurityPolicy"]
    for item in config.get("CustomHeadersConfig", {}).get("Items", []):
        assert item.get("Override") is True, item["Header"]
        headers[item["Header"]] = item["Value"]
    return headers


def directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: " ".join(part.split()[1:]) for part in (p.strip() for p in policy.split(";")) if part}


def source_security_headers() -> tuple[dict[str, str], dict[str, str]]:
    """From Sources/SiteBuild/SecurityPolicy.swift: the fixed headers of a production build
    (everything but the Content-Security-Policy), and the CSP directives only the header carries."""
    source = (REPO / "Sources" / "SiteBuild" / "SecurityPolicy.swift").read_text()
    body = re.search(r"public func headers\(.*?\n    \}\n", source, re.S)
    assert body, "SecurityPolicy.headers is not where the test looks"
    fixed = dict(re.findall(r'^\s*"([A-Za-z-]+)": "([^"]*)",?$', body.group(0), re.M))
    # Added outside the local environment (production).
    fixed.update(re.findall(r'headers\["([A-Za-z-]+)"\] = "([^"]*)"', body.group(0)))
    header_only = {name: " ".join(re.findall(r'"([^"]*)"', sources))
                   for name, sources in re.findall(r'if forHeader \{ directives\.append\(\("([a-z-]+)", \[([^\]]*)\]\)\) \}', source)}
    assert fixed and header_only, "SecurityPolicy.swift does not read as the test expects"
    return fixed, header_only


def test_the_header_policy_holds_what_security_policy_swift_fixes_for_every_build(resources):
    fixed, header_only = source_security_headers()
    headers = policy_headers(resources)
    csp = headers.pop("Content-Security-Policy")
    assert headers == fixed
    # The rest of the policy (script hashes, origins) is each page's meta element.
    assert directives(csp) == header_only


def test_the_header_policy_agrees_with_a_production_builds_headers_json(resources, tmp_path):
    binary = built_site()  # skipped if there is none: the source check above still ran
    out = tmp_path / "dist"
    result = subprocess.run([str(binary), "build", "--site", str(REPO), "--env", "production", "--out", str(out), "--quiet"],
                            capture_output=True, text=True, timeout=120, check=False, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    built = json.loads((out / ".site" / "headers.json").read_text())
    assert built["environment"] == "production"
    built_headers = dict(built["headers"])
    header_csp = directives(built_headers.pop("Content-Security-Policy"))
    meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', (out / "index.html").read_text())
    assert meta, "the built page has no meta policy"
    headers = policy_headers(resources)
    csp = directives(headers.pop("Content-Security-Policy"))
    assert headers == built_headers
    # What the header adds to the page's own policy: directives a meta element cannot carry.
    assert csp == {k: v for k, v in header_csp.items() if k not in directives(meta.group(1))}


# -- accounts, API, table ------------------------------------------------------------------------------------


def test_the_user_pool_requires_totp_mfa_and_signs_in_by_email(template, resources):
    pool = props(resources, "UserPool")
    assert pool["UsernameAttributes"] == ["email"] and pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"] | {"TemporaryPasswordValidityDays": 0} == {
        "MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True, "RequireNumbers": True,
        "RequireSymbols": True, "TemporaryPasswordValidityDays": 0}
    assert (pool["MfaConfiguration"], pool["EnabledMfas"]) == ("ON", ["SOFTWARE_TOKEN_MFA"])
    assert pool["AccountRecoverySetting"] == {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]}
    assert pool["DeletionProtection"] == "ACTIVE"
    client = props(resources, "UserPoolClient")
    assert client["GenerateSecret"] is False
    # Short sessions: tokens of 15 minutes, a sign-in of a day at most, refresh tokens rotated
    # (GetTokensFromRefreshToken; rotation refuses REFRESH_TOKEN_AUTH, so it is not allowed).
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH"]
    assert client["RefreshTokenRotation"] == {"Feature": "ENABLED", "RetryGracePeriodSeconds": 10}
    assert (client["AccessTokenValidity"], client["IdTokenValidity"], client["RefreshTokenValidity"]) == (
        ref("AccessTokenMinutes"), ref("AccessTokenMinutes"), ref("RefreshTokenHours"))
    assert client["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "hours"}
    parameters = template["Parameters"]
    assert (parameters["AccessTokenMinutes"]["Default"], parameters["AccessTokenMinutes"]["MaxValue"]) == (15, 60)
    assert (parameters["RefreshTokenHours"]["Default"], parameters["RefreshTokenHours"]["MaxValue"]) == (24, 24)
    assert (client["PreventUserExistenceErrors"], client["EnableTokenRevocation"]) == ("ENABLED", True)


def test_only_an_administrator_makes_accounts_unless_the_sign_up_policy_is_open(template, resources):
    """SignUpPolicy: invite by default (personal use), open or closed; unless open the pool refuses
    SignUp (AllowAdminCreateUserOnly), its invitation names the username and the temporary password,
    and the stack outputs the policy so `site build --stack` hides sign-up in the app."""
    parameter = template["Parameters"]["SignUpPolicy"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("invite", ["invite", "open", "closed"])
    assert template["Conditions"]["SignUpIsOpen"] == {"Fn::Equals": [ref("SignUpPolicy"), "open"]}
    config = props(resources, "UserPool")["AdminCreateUserConfig"]
    assert config["AllowAdminCreateUserOnly"] == {"Fn::If": ["SignUpIsOpen", False, True]}
    message = config["InviteMessageTemplate"]["EmailMessage"]
    assert "{username}" in message and "{####}" in message
    assert template["Outputs"]["SignUpPolicy"]["Value"] == ref("SignUpPolicy")


def test_every_api_route_is_under_api_needs_a_cognito_token_and_reaches_the_video_function(resources):
    """ANY /api/videos, ANY /api/videos/{proxy+}, POST and DELETE /api/session (the media cookies),
    each with the Cognito JWT authorizer, into the video function (payload format 2.0); no CORS:
    the browser calls the API on the site's own origin."""
    apis = of_type(resources, "AWS::ApiGatewayV2::Api")
    assert set(apis) == {"VideoApi"} and not of_type(resources, "AWS::Serverless::HttpApi")
    api = props(resources, "VideoApi")
    assert api["ProtocolType"] == "HTTP"
    assert "CorsConfiguration" not in api and "Body" not in api and "BodyS3Location" not in api
    [(authorizer_id, authorizer)] = of_type(resources, "AWS::ApiGatewayV2::Authorizer").items()
    assert authorizer["Properties"] == {
        "ApiId": ref("VideoApi"), "Name": "CognitoJwt", "AuthorizerType": "JWT",
        "IdentitySource": ["$request.header.Authorization"],
        "JwtConfiguration": {"Issuer": sub("https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"),
                             "Audience": [ref("UserPoolClient")]}}
    [(integration_id, integration)] = of_type(resources, "AWS::ApiGatewayV2::Integration").items()
    integration = integration["Properties"]
    assert (integration["ApiId"], integration["IntegrationType"], integration["IntegrationUri"], integration["PayloadFormatVersion"]) == (
        ref("VideoApi"), "AWS_PROXY", get_att("VideoFunction", "Arn"), "2.0")
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in of_type(resources, "AWS::ApiGatewayV2::Route").values()}
    assert set(routes) == {"ANY /api/videos", "ANY /api/videos/{proxy+}", "POST /api/session", "DELETE /api/session"}
    for key, route in routes.items():
        assert route == {"ApiId": ref("VideoApi"), "RouteKey": key, "AuthorizationType": "JWT", "AuthorizerId": ref(authorizer_id),
                         "Target": sub(f"integrations/${{{integration_id}}}")}, key
    [stage] = [r["Properties"] for r in of_type(resources, "AWS::ApiGatewayV2::Stage").values()]
    assert (stage["ApiId"], stage["StageName"], stage["AutoDeploy"]) == (ref("VideoApi"), "$default", True)
    throttling = stage["DefaultRouteSettings"]
    assert throttling["ThrottlingBurstLimit"] > 0 and throttling["ThrottlingRateLimit"] > 0
    # The old CORS list named the distribution; nothing of the API does now (see the cycle test).
    assert "Distribution" not in json.dumps(api)


def test_no_resource_depends_on_itself(template, resources):
    """The video function names the distribution (MEDIA_ORIGIN), the distribution names the API
    (its origin): the API must not name the function, as SAM's HttpApi with function events would
    (it inlines the integration). Checked on the template as written, and as SAM transforms it."""
    def references(value: Any, found: set[str]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "Ref" and isinstance(item, str):
                    found.add(item)
                elif key == "Fn::GetAtt":
                    found.add(item[0] if isinstance(item, list) else item.split(".")[0])
                elif key == "Fn::Sub":
                    text, variables = (item, {}) if isinstance(item, str) else item
                    found.update(name.split(".")[0] for name in re.findall(r"\$\{([^}!][^}]*)\}", text))
                    references(variables, found)
                else:
                    references(item, found)
        elif isinstance(value, list):
            for item in value:
                references(item, found)

    def cycle(document: dict) -> list[str] | None:
        nodes = document["Resources"]
        globals_ = document.get("Globals", {})
        graph = {}
        for name, resource in nodes.items():
            found: set[str] = set()
            references(resource.get("Properties", {}), found)
            if resource["Type"] == "AWS::Serverless::Function":
                references(globals_.get("Function", {}), found)
            found.update(as_list(resource.get("DependsOn", [])))
            graph[name] = sorted(found & set(nodes))
        state: dict[str, int] = {}
        path: list[str] = []

        def visit(node: str) -> list[str] | None:
            state[node] = 1
            path.append(node)
            for target in graph[node]:
                if state.get(target) == 1:
                    return path[path.index(target):] + [target]
                if not state.get(target) and (found := visit(target)):
                    return found
            state[node] = 2
            path.pop()
            return None

        for node in graph:
            if not state.get(node) and (found := visit(node)):
                return found
        return None

    assert cycle(template) is None, " → ".join(cycle(template))
    # The chain the cycle would go through is there: function → distribution → API.
    _, video = functions(template)["video"]
    assert "Distribution" in json.dumps(video["Environment"]) and "VideoApi" in json.dumps(props(resources, "Distribution"))
    try:
        import samtranslator  # noqa: F401
    except ImportError:
        return  # the template as written was checked; SAM adds no API of its own (no HttpApi events)
    translator = pytest.importorskip("samtranslator.translator.transform")
    document = copy.deepcopy(template)
    document["Globals"]["Function"]["CodeUri"] = "s3://artifacts/bootstrap.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    translated = translator.transform(document, {}, NoManagedPolicies())
    assert cycle(translated) is None, " → ".join(cycle(translated))


def test_the_table_is_keyed_by_owner_and_video_and_recoverable(resources):
    table = props(resources, "VideoTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "sub", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "sub", "AttributeType": "S"}, {"AttributeName": "id", "AttributeType": "S"}]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True and table["DeletionProtectionEnabled"] is True


# -- monitoring and outputs ------------------------------------------------------------------------------


def test_dead_letters_and_failed_conversions_raise_alarms(resources):
    alarms = {name: a["Properties"] for name, a in of_type(resources, "AWS::CloudWatch::Alarm").items()}
    watched = {(a["Namespace"], a["MetricName"], json.dumps(a["Dimensions"])): a for a in alarms.values()}
    dead = watched[("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                    json.dumps([{"Name": "QueueName", "Value": get_att("UploadDeadLetterQueue", "QueueName")}]))]
    failed = watched[("AWS/MediaConvert", "JobsErroredCount",
                      json.dumps([{"Name": "Queue", "Value": get_att("ConversionQueue", "Arn")}]))]
    for alarm in (dead, failed):
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
        assert alarm["AlarmActions"] == [ref("AlarmTopic")]
        assert alarm["TreatMissingData"] == "notBreaching"
    [email] = [s for s in of_type(resources, "AWS::SNS::Subscription").values() if s["Properties"]["TopicArn"] == ref("AlarmTopic")]
    assert email["Condition"] == "HasAlarmEmail" and email["Properties"]["Protocol"] == "email"


def test_the_dashboard_is_json_with_the_metrics_the_seed_lists(resources):
    text, variables = props(resources, "Dashboard")["DashboardBody"]["Fn::Sub"]
    references = set(re.findall(r"\$\{([^}]+)\}", text))
    for name in references:
        base = name.split(".")[0]
        assert name.startswith("AWS::") or name in variables or base in resources, f"${{{name}}} names nothing"
    body = json.loads(re.sub(r"\$\{[^}]+\}", "x", text))
    metrics = {(m[0], m[1]) for w in body["widgets"] if w["type"] == "metric"
               for m in w["properties"]["metrics"] if isinstance(m[0], str)}
    assert metrics >= {
        ("AWS/Cognito", "SignInSuccesses"), ("AWS/Cognito", "SignInThrottles"), ("AWS/Cognito", "TokenRefreshSuccesses"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"), ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/MediaConvert", "JobsCompletedCount"), ("AWS/MediaConvert", "JobsErroredCount"),
        ("AWS/Lambda", "Errors"), ("AWS/Lambda", "Duration")}
    for function in ("VideoFunction", "TriggerFunction", "CompleteFunction", "SignOutFunction"):
        assert f"${{{function}}}" in text
    assert "${DeadLetterQueueName}" in text and variables["DeadLetterQueueName"] == get_att("UploadDeadLetterQueue", "QueueName")


def test_the_outputs_site_build_and_publish_read_exist(template):
    outputs = template["Outputs"]
    assert set(outputs) == OUTPUTS
    assert outputs["UploadOrigin"]["Value"] == UPLOAD_ORIGIN
    # For API clients outside the browser; the app calls /api on the site's own origin.
    assert outputs["ApiEndpoint"]["Value"] == get_att("VideoApi", "ApiEndpoint")
    assert outputs["SiteUrl"]["Value"] == sub("https://${Distribution.DomainName}")
    assert outputs["CognitoRegion"]["Value"] == outputs["SiteBucketRegion"]["Value"] == ref("AWS::Region")
    assert outputs["DistributionId"]["Value"] == ref("Distribution")


# -- infra/deploy's media key -------------------------------------------------------------------------

FAKE_AWS = r"""# A stand-in for the AWS CLI, for infra/deploy: the calls it makes, answered from a JSON state file.
import hashlib, re, stat, time

def values(name):
    if name not in args:
        return []
    found = []
    for item in args[args.index(name) + 1:]:
        if item.startswith("--"):
            break
        found.append(item)
    return found

def tag_query(tags):
    key = re.search(r"Key=='([^']+)'", option("--query", "")).group(1)
    return tags.get(key, "None") + "\n"

service, command = args[0], args[1]
stack = state.get("stack")
if (service, command) == ("configure", "get"):
    done(code=1)
if (service, command) == ("sts", "get-caller-identity"):
    done("111122223333\n")
if service == "s3api":
    # S3 as the real CLI answers it (its error lines, exit 255). A bucket of another account lets
    # anyone in (a squatter's policy would): only --expected-bucket-owner tells it apart.
    buckets = state["buckets"]
    name, expected = option("--bucket"), option("--expected-bucket-owner")
    operation = "HeadBucket" if command == "wait" else "".join(word.title() for word in command.split("-"))
    if command == "create-bucket":
        if name in buckets:
            done(code=255, err="\nAn error occurred (BucketAlreadyExists) when calling the CreateBucket operation: The requested bucket name is not available.\n")
        buckets[name] = {"owner": "111122223333", "objects": {}, "settings": []}
        done("{}\n")
    bucket = buckets.get(name)
    if bucket is None:
        done(code=255, err="\nAn error occurred (404) when calling the HeadBucket operation: Not Found\n" if operation == "HeadBucket"
             else "\nAn error occurred (NoSuchBucket) when calling the %s operation: The specified bucket does not exist\n" % operation)
    if expected is not None and expected != bucket["owner"]:
        done(code=255, err="\nAn error occurred (403) when calling the HeadBucket operation: Forbidden\n" if operation == "HeadBucket"
             else "\nAn error occurred (AccessDenied) when calling the %s operation: Access Denied\n" % operation)
    if command == "put-object":
        with open(option("--body"), "rb") as f:
            bucket["objects"][option("--key")] = hashlib.sha256(f.read()).hexdigest()
        done("{}\n")
    if command.startswith("put-bucket") or command == "put-public-access-block":
        bucket["settings"].append(command)
    done()
if (service, command) == ("cloudformation", "describe-stacks"):
    if stack is None:
        done(code=255, err="An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id %s does not exist\n" % option("--stack-name"))
    query = option("--query", "")
    wanted = re.search(r"ParameterKey=='([^']+)'", query)
    if wanted:
        value = stack["parameters"].get(wanted.group(1))
        done(("None" if value is None else value) + "\n")
    done("outputs\n")
if (service, command) == ("cloudformation", "deploy"):
    overrides = dict(item.split("=", 1) for item in values("--parameter-overrides"))
    if os.environ.get("FAKE_AWS_FAIL_DEPLOY"):
        done(code=255, err="Failed to create/update the stack\n")
    parameters = dict(stack["parameters"]) if stack else {}
    for name, default in state["parameters"].items():
        if name in overrides:
            parameters[name] = overrides[name]
        elif name not in parameters:
            if default is None:
                done(code=255, err="Parameter %s has no value\n" % name)
            parameters[name] = default
    # The template's Rules.
    for slot in "AB":
        if bool(parameters["MediaKey%sPublicKey" % slot]) != bool(parameters["MediaKey%sSecretArn" % slot]):
            done(code=255, err="Rule MediaKeySlotsArePairs failed\n")
    if not parameters["MediaKey%sPublicKey" % parameters["ActiveMediaKey"]]:
        done(code=255, err="Rule ActiveMediaKey?IsSet failed\n")
    state["stack"] = {"parameters": parameters}
    state["deploys"].append(overrides)
    done()
if service == "secretsmanager":
    secrets = state["secrets"]
    if command == "create-secret":
        name, source = option("--name"), option("--secret-string")
        if any(secret["name"] == name for secret in secrets.values()):
            done(code=254, err="ResourceExistsException: %s\n" % name)
        assert source.startswith("file://"), source
        path = source[len("file://"):]
        arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:%s-%06d" % (name, len(secrets))
        secrets[arn] = {"name": name, "value": open(path).read(), "path": path,
                        "file_mode": stat.S_IMODE(os.stat(path).st_mode),
                        "dir_mode": stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode),
                        "tags": dict(t[len("Key="):].split(",Value=", 1) for t in values("--tags")), "deleted": None}
        done(arn + "\n")
    secret = secrets[option("--secret-id")]
    if command == "describe-secret":
        done(tag_query(secret["tags"]))
    if command == "tag-resource":
        secret["tags"].update(dict(t[len("Key="):].split(",Value=", 1) for t in values("--tags")))
        done()
    if command == "delete-secret":
        secret["deleted"] = int(option("--recovery-window-in-days"))
        done("2031-01-08T00:00:00Z\n" if "--query" in args else "{}\n")
done(code=2, err="fake aws: unexpected call %r\n" % (args,))
"""


class Deployer:
    """infra/deploy in a copy of infra/ (with a stand-in zip), against the fake aws above."""

    def __init__(self, tmp_path: Path, template: dict):
        self.root = tmp_path / "repo"
        (self.root / "infra").mkdir(parents=True)
        shutil.copy2(REPO / "infra" / "deploy", self.root / "infra" / "deploy")
        shutil.copy2(TEMPLATE, self.root / "infra" / "template.yaml")
        (self.root / ".build-lambda").mkdir()
        (self.root / ".build-lambda" / "bootstrap.zip").write_bytes(b"PK\x05\x06" + bytes(18))
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        parameters = {name: (str(p["Default"]) if "Default" in p else None) for name, p in template["Parameters"].items()}
        self.state_file, self.env = fake_aws.install(tmp_path, FAKE_AWS, {"stack": None, "secrets": {}, "deploys": [],
                                                                          "parameters": parameters, "buckets": {}})
        self.env["TMPDIR"] = str(self.tmp)

    def __call__(self, *options: str, fail_deploy: bool = False) -> subprocess.CompletedProcess:
        env = {**self.env, **({"FAKE_AWS_FAIL_DEPLOY": "1"} if fail_deploy else {})}
        return subprocess.run([str(self.root / "infra" / "deploy"), "video", "--region", "us-east-1", "--no-build", *options],
                              capture_output=True, text=True, timeout=120, env=env, check=False)

    @property
    def state(self) -> dict:
        return json.loads(self.state_file.read_text())

    def set_state(self, state: dict) -> None:
        self.state_file.write_text(json.dumps(state))

    def slots(self) -> dict[str, str]:
        return self.state["stack"]["parameters"]


def assert_key_pair(public_pem: str, secret: dict) -> None:
    """The slot's public key is RSA-2048 and the secret holds its private key (PEM, nothing else)."""
    from cryptography.hazmat.primitives import serialization
    public = serialization.load_pem_public_key(public_pem.encode())
    private = serialization.load_pem_private_key(secret["value"].encode(), password=None)
    assert public.key_size == 2048
    assert private.public_key().public_numbers() == public.public_numbers()
    assert secret["file_mode"] == 0o600 and secret["dir_mode"] == 0o700, secret
    assert not Path(secret["path"]).exists() and not Path(secret["path"]).parent.exists(), "the key's folder is left behind"


def assert_private_keys_unseen(deployer: Deployer, *results: subprocess.CompletedProcess) -> None:
    state = deployer.state
    bodies = [line for secret in state["secrets"].values() for line in secret["value"].splitlines()[1:-1]]
    assert bodies
    seen = json.dumps(state["calls"]) + "".join(r.stdout + r.stderr for r in results)
    assert "PRIVATE KEY" not in seen and not [line for line in bodies if line in seen]
    assert list(deployer.tmp.iterdir()) == []


def test_deploy_makes_rotates_and_retires_the_media_key(tmp_path, template):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    deploy = Deployer(tmp_path, template)
    results = []

    # First deploy: a key pair, its private key in a new secret, slot A active, B empty.
    first = deploy()
    results.append(first)
    assert first.returncode == 0, first.stderr
    [(arn_a, secret_a)] = deploy.state["secrets"].items()
    assert re.fullmatch(r"video/media-key/\d{8}T\d{6}Z", secret_a["name"]), secret_a["name"]
    slots = deploy.slots()
    assert (slots["MediaKeyASecretArn"], slots["ActiveMediaKey"], slots["MediaKeyBPublicKey"], slots["MediaKeyBSecretArn"]) == (arn_a, "A", "", "")
    assert_key_pair(slots["MediaKeyAPublicKey"], secret_a)
    assert int(secret_a["tags"]["media-key-active-since"]) <= time.time()

    # A later deploy keeps the slots (previous values): no key, no media parameter.
    again = deploy()
    results.append(again)
    assert again.returncode == 0, again.stderr
    assert len(deploy.state["secrets"]) == 1
    assert not [k for k in deploy.state["deploys"][-1] if k.startswith(("MediaKey", "ActiveMediaKey"))]

    # Nothing to retire yet.
    nothing = deploy("--retire-media-key")
    assert nothing.returncode != 0 and "no previous media key to retire" in nothing.stderr

    # Rotation: a new key in slot B, active; slot A still there (it verifies the cookies it signed).
    time.sleep(1.1)  # secret names are made to the second
    rotated = deploy("--rotate-media-key")
    results.append(rotated)
    assert rotated.returncode == 0, rotated.stderr
    [arn_b] = set(deploy.state["secrets"]) - {arn_a}
    slots = deploy.slots()
    assert (slots["ActiveMediaKey"], slots["MediaKeyBSecretArn"], slots["MediaKeyASecretArn"]) == ("B", arn_b, arn_a)
    assert_key_pair(slots["MediaKeyBPublicKey"], deploy.state["secrets"][arn_b])
    assert "MediaKeyAPublicKey" not in deploy.state["deploys"][-1]

    # Both slots full: another rotation waits for a retire.
    refused = deploy("--rotate-media-key")
    assert refused.returncode != 0 and "retire it first" in refused.stderr
    assert len(deploy.state["secrets"]) == 2

    # A retire right away is refused: cookies signed with A's key may still be valid (1 hour).
    early = deploy("--retire-media-key")
    assert early.returncode != 0 and "refused" in early.stderr and "1 h" in early.stderr, early.stderr
    assert deploy.slots()["MediaKeyASecretArn"] == arn_a

    # An hour and more later: slot A is emptied, its secret scheduled for deletion; B signs on.
    state = deploy.state
    state["secrets"][arn_b]["tags"]["media-key-active-since"] = str(int(time.time()) - 3601)
    deploy.set_state(state)
    retired = deploy("--retire-media-key")
    results.append(retired)
    assert retired.returncode == 0, retired.stderr
    slots = deploy.slots()
    assert (slots["MediaKeyAPublicKey"], slots["MediaKeyASecretArn"], slots["ActiveMediaKey"], slots["MediaKeyBSecretArn"]) == ("", "", "B", arn_b)
    assert deploy.state["secrets"][arn_a]["deleted"] == 7 and deploy.state["secrets"][arn_b]["deleted"] is None

    # And round again: the next key goes to slot A.
    time.sleep(1.1)
    back = deploy("--rotate-media-key")
    results.append(back)
    assert back.returncode == 0, back.stderr
    assert deploy.slots()["ActiveMediaKey"] == "A" and deploy.slots()["MediaKeyASecretArn"] not in ("", arn_a)
    assert_private_keys_unseen(deploy, *results)


def test_deploy_drops_the_new_keys_secret_when_the_stack_does_not_take_it(tmp_path, template):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    deploy = Deployer(tmp_path, template)
    failed = deploy(fail_deploy=True)
    assert failed.returncode != 0
    [secret] = deploy.state["secrets"].values()
    assert secret["deleted"] == 7, "the unused key's secret is kept"
    assert "media-key-active-since" not in secret["tags"]
    assert deploy.state["stack"] is None
    assert_private_keys_unseen(deploy, failed)


def test_deploy_turns_upload_acceleration_on_and_off_and_otherwise_keeps_it(tmp_path, template):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    deploy = Deployer(tmp_path, template)
    first = deploy()
    assert first.returncode == 0, first.stderr
    assert "UploadAcceleration" not in deploy.state["deploys"][-1] and deploy.slots()["UploadAcceleration"] == "false"
    on = deploy("--upload-acceleration", "on")
    assert on.returncode == 0, on.stderr
    assert deploy.state["deploys"][-1]["UploadAcceleration"] == "true"
    kept = deploy()
    assert kept.returncode == 0, kept.stderr
    assert "UploadAcceleration" not in deploy.state["deploys"][-1] and deploy.slots()["UploadAcceleration"] == "true"
    off = deploy("--upload-acceleration=off")
    assert off.returncode == 0, off.stderr
    assert deploy.slots()["UploadAcceleration"] == "false"
    deploys = len(deploy.state["deploys"])
    wrong = deploy("--upload-acceleration", "true")
    assert wrong.returncode != 0 and "--upload-acceleration takes on or off, not 'true'" in wrong.stderr
    assert len(deploy.state["deploys"]) == deploys
    help_text = subprocess.run([str(REPO / "infra" / "deploy"), "--help"], capture_output=True, text=True, timeout=30, check=False).stdout
    for words in ("--upload-acceleration on|off", "S3 Transfer Acceleration", "$0.04 per GB", "$0.08"):
        assert words in help_text, words


def test_deploy_sets_the_sign_up_policy_invite_first_and_otherwise_keeps_it(tmp_path, template):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    deploy = Deployer(tmp_path, template)
    first = deploy()
    assert first.returncode == 0, first.stderr
    assert "SignUpPolicy" not in deploy.state["deploys"][-1] and deploy.slots()["SignUpPolicy"] == "invite"
    opened = deploy("--signup", "open")
    assert opened.returncode == 0, opened.stderr
    assert deploy.slots()["SignUpPolicy"] == "open"
    kept = deploy()
    assert kept.returncode == 0 and deploy.slots()["SignUpPolicy"] == "open"
    closed = deploy("--signup=closed")
    assert closed.returncode == 0 and deploy.slots()["SignUpPolicy"] == "closed"
    deploys = len(deploy.state["deploys"])
    wrong = deploy("--signup", "friends")
    assert wrong.returncode != 0 and "--signup takes invite, open or closed, not 'friends'" in wrong.stderr
    assert len(deploy.state["deploys"]) == deploys


def test_deploy_sets_any_parameter_of_the_template_and_otherwise_keeps_it(tmp_path, template):
    """Everyone's limits, the sessions' lifetimes, the web firewall: `--set NAME=VALUE`, refused for a
    name the template does not have, the media key's slots (the command's own) and the parameters
    that have an option of their own; a refusal deploys nothing."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    deploy = Deployer(tmp_path, template)
    first = deploy("--set", "LimitLongestMinutes=240", "--set=LimitConvertedMinutes=1200")
    assert first.returncode == 0, first.stderr
    assert deploy.state["deploys"][-1]["LimitLongestMinutes"] == "240" and deploy.state["deploys"][-1]["LimitConvertedMinutes"] == "1200"
    assert deploy.slots()["LimitLongestMinutes"] == "240" and deploy.slots()["LimitVideos"] == "1000"
    kept = deploy()
    assert kept.returncode == 0 and "LimitLongestMinutes" not in deploy.state["deploys"][-1]
    assert deploy.slots()["LimitLongestMinutes"] == "240"
    deploys = len(deploy.state["deploys"])
    for setting, words in [("LimitMinutes=5", "infra/template.yaml has no parameter LimitMinutes"),
                           ("MediaKeyAPublicKey=x", "the media key's parameters are this command's own"),
                           ("ActiveMediaKey=B", "the media key's parameters are this command's own"),
                           ("SignUpPolicy=open", "use --signup"), ("AlarmEmail=a@b.c", "use --alarm-email"),
                           ("LimitVideos", "--set takes NAME=VALUE, not 'LimitVideos'")]:
        refused = deploy("--set", setting)
        assert refused.returncode != 0 and words in refused.stderr, (setting, refused.stderr)
    assert len(deploy.state["deploys"]) == deploys
    assert "--set NAME=VALUE" in subprocess.run([str(REPO / "infra" / "deploy"), "--help"], capture_output=True, text=True,
                                                timeout=30, check=False).stdout


# -- infra/deploy's artifacts bucket ------------------------------------------------------------------
ARTIFACTS = "video-artifacts-111122223333-us-east-1"  # the fake's account and the Deployer's region


def bucket_calls(deploy: Deployer) -> list[list[str]]:
    return [call for call in deploy.state["calls"] if call[0] == "s3api"]


def test_deploy_refuses_an_artifacts_bucket_another_account_made(tmp_path, template):
    # The name is predictable: another account made it first, and lets anyone write to it.
    deploy = Deployer(tmp_path, template)
    state = deploy.state
    state["buckets"][ARTIFACTS] = {"owner": "444455556666", "objects": {}, "settings": []}
    deploy.set_state(state)
    refused = deploy()
    assert refused.returncode != 0
    assert f"refused: the artifacts bucket {ARTIFACTS} is not this account's (111122223333)" in refused.stderr, refused.stderr
    assert "Nothing was uploaded" in refused.stderr
    state = deploy.state
    assert state["buckets"][ARTIFACTS]["objects"] == {} and state["buckets"][ARTIFACTS]["settings"] == []
    assert [call[1] for call in bucket_calls(deploy)] == ["head-bucket"]
    assert state["stack"] is None and state["secrets"] == {} and not state["deploys"], "nothing deployed, no key made"


def test_deploy_uploads_the_code_to_its_own_bucket_checking_the_owner_on_every_call(tmp_path, template):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    deploy = Deployer(tmp_path, template)
    first = deploy()
    assert first.returncode == 0, first.stderr
    digest = hashlib.sha256((deploy.root / ".build-lambda" / "bootstrap.zip").read_bytes()).hexdigest()
    key = f"video/bootstrap-{digest}.zip"
    bucket = deploy.state["buckets"][ARTIFACTS]
    assert sorted(bucket["settings"]) == ["put-bucket-encryption", "put-bucket-lifecycle-configuration", "put-bucket-ownership-controls",
                                          "put-bucket-policy", "put-public-access-block"]
    # Every call on the bucket after its creation says it must be this account's.
    for call in bucket_calls(deploy):
        assert call[call.index("--bucket") + 1] == ARTIFACTS, call
        if call[1] != "create-bucket":
            assert call[call.index("--expected-bucket-owner") + 1] == "111122223333", call
    assert not [call for call in deploy.state["calls"] if call[:2] == ["cloudformation", "package"]]

    # CloudFormation gets the template with the code at that key, and otherwise the same, less its
    # comment lines. It is over the 51,200 bytes of a template sent inline, so it goes through the
    # bucket too: uploaded with the owner check under the key `aws cloudformation deploy --s3-bucket`
    # gives it (PREFIX/MD5.template), where the CLI finds it and sends nothing itself.
    packaged_file = deploy.root / ".build-lambda" / "packaged.yaml"
    expected = copy.deepcopy(template)
    expected["Globals"]["Function"]["CodeUri"] = f"s3://{ARTIFACTS}/{key}"
    assert load_template(packaged_file) == expected
    template_key = f"video/templates/{hashlib.md5(packaged_file.read_bytes()).hexdigest()}.template"
    assert bucket["objects"] == {key: digest, template_key: hashlib.sha256(packaged_file.read_bytes()).hexdigest()}
    [deployed] = [call for call in deploy.state["calls"] if call[:2] == ["cloudformation", "deploy"]]
    assert deployed[deployed.index("--template-file") + 1] == ".build-lambda/packaged.yaml"
    assert deployed[deployed.index("--s3-bucket") + 1] == ARTIFACTS and deployed[deployed.index("--s3-prefix") + 1] == "video/templates"

    # The next deploy finds the bucket and sends the zip again, though an object has that key: what
    # is there is replaced, never trusted.
    state = deploy.state
    state["buckets"][ARTIFACTS]["objects"][key] = "something else"
    deploy.set_state(state)
    again = deploy()
    assert again.returncode == 0, again.stderr
    calls = [call[1] for call in bucket_calls(deploy)]
    assert calls.count("create-bucket") == 1 and calls.count("put-object") == 4 and calls.count("head-bucket") == 2
    assert deploy.state["buckets"][ARTIFACTS]["objects"][key] == digest


def test_deploy_help_explains_the_media_key():
    result = subprocess.run([str(REPO / "infra" / "deploy"), "--help"], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    for words in ("--rotate-media-key", "--retire-media-key", "openssl genrsa", "STACK/media-key/", "file://",
                  "aws/secretsmanager", "1 h"):
        assert words in result.stdout, words


# -- the optional web firewall ---------------------------------------------------------------------


def rate_rule(acl: dict) -> dict:
    [rule] = acl["Rules"]
    assert rule["Action"] == {"Block": {}} and rule["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP", rule
    assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True
    return rule["Statement"]["RateBasedStatement"]


def test_the_web_firewall_is_off_by_default_and_only_in_us_east_1(template):
    """WebFirewall "false" makes nothing (no WAF charge); "true" is refused by a Rule outside
    us-east-1, where CloudFront's (CLOUDFRONT-scoped) web ACLs cannot be made."""
    parameter = template["Parameters"]["WebFirewall"]
    assert parameter["Default"] == "false" and parameter["AllowedValues"] == ["false", "true"]
    assert template["Conditions"]["WebFirewallIsOn"] == {"Fn::Equals": [ref("WebFirewall"), "true"]}
    rule = template["Rules"]["WebFirewallOnlyInUsEast1"]
    assert rule["RuleCondition"] == {"Fn::Equals": [ref("WebFirewall"), "true"]}
    assert [a["Assert"] for a in rule["Assertions"]] == [{"Fn::Equals": [ref("AWS::Region"), "us-east-1"]}]
    waf = {name for name, r in template["Resources"].items() if r["Type"].startswith("AWS::WAFv2::")}
    assert waf == {"EdgeFirewall", "SignInFirewall", "SignInFirewallAssociation"}
    for name in waf:
        assert template["Resources"][name]["Condition"] == "WebFirewallIsOn", name


def test_the_distribution_has_the_edge_web_acl_with_a_rate_rule_per_address(resources):
    edge = resources["EdgeFirewall"]["Properties"]
    assert edge["Scope"] == "CLOUDFRONT" and edge["DefaultAction"] == {"Allow": {}}
    # 20 requests a second over 5 minutes: above a person's pages, playback and API calls.
    assert rate_rule(edge) == {"Limit": 6000, "AggregateKeyType": "IP"}
    assert resources["Distribution"]["Properties"]["DistributionConfig"]["WebACLId"] == {
        "Fn::If": ["WebFirewallIsOn", get_att("EdgeFirewall", "Arn"), ref("AWS::NoValue")]}


def test_the_user_pool_has_a_regional_web_acl_against_sign_in_floods(resources):
    pool = resources["SignInFirewall"]["Properties"]
    assert pool["Scope"] == "REGIONAL" and pool["DefaultAction"] == {"Allow": {}}
    assert rate_rule(pool) == {"Limit": 300, "AggregateKeyType": "IP"}
    assert resources["SignInFirewallAssociation"]["Properties"] == {
        "ResourceArn": get_att("UserPool", "Arn"), "WebACLArn": get_att("SignInFirewall", "Arn")}
