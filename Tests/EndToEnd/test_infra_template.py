"""The production stack's template (infra/template.yaml), checked by reading it.

moto's CloudFormation skips most of these resource types, so a stack created there proves nothing;
these tests read the template itself (a YAML loader for CloudFormation's short tags, and SAM's own
translator for what the `AWS::Serverless-2016-10-31` transform generates) and pin its wiring:

- cfn-lint reports nothing (no error, no warning);
- the upload path: the temp bucket's `ObjectCreated` under `uploads/` → the topic, whose policy
  lets only that bucket (and account) publish → the queue, whose policy lets only that topic send;
  SNS's envelope kept (the trigger unwraps it); a dead-letter queue after five receives; a
  visibility timeout of at least six times the trigger's timeout; batches of ten with failures
  reported per message;
- the conversion: jobs go to this stack's MediaConvert queue (the trigger's variable, its
  CreateJob resource), the EventBridge rule matches that queue's job state changes only, and the
  Lambda permissions name their source; MediaConvert's role reads originals and writes conversions,
  nothing else; the trigger may pass only that role, and only to MediaConvert;
- the policies: no wildcard action in any Allow (a Deny may have one: the buckets' TLS-only
  statements refuse every S3 action), no `*` resource outside STAR_RESOURCES, each function's own
  role with exactly the actions its code calls, its own log group;
- each function's environment is what the Swift code reads (Sources/VideoFunctions/Functions.swift,
  Sources/bootstrap/Handlers.swift);
- every bucket: public access blocked, encrypted, owner-enforced, TLS only; CORS and lifecycle;
- the site: CloudFront reads the site bucket through Origin Access Control only; the response
  headers policy holds the headers `site build` writes to dist/.site/headers.json that do not change
  from build to build (read from Sources/SiteBuild/SecurityPolicy.swift, and from a real production
  build when a `site` binary is there);
- Cognito, the HTTP API's authorizer on every route, the table, the alarms and the dashboard, and
  the outputs `site build --stack` and `site publish --stack` read.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfn_template import load_template
from venv_commands import venv_command

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "infra" / "template.yaml"

# `*` resources an Allow statement of a role may have, each with why nothing narrower exists.
# Empty: every action this stack's roles use has a resource type (MediaConvert's CreateJob is
# scoped to this stack's queue, a resource type of CreateJob in the Service Authorization Reference).
STAR_RESOURCES: dict[str, str] = {}

# The names `site build --stack` and `site publish --stack` read, and the others the README lists.
OUTPUTS = {"CognitoRegion", "UserPoolId", "UserPoolClientId", "ApiBaseUrl", "UploadOrigin", "MediaOrigin",
           "SiteBucket", "SiteBucketRegion", "DistributionId", "SiteUrl",
           "TempBucket", "MainBucket", "VideoTable", "DashboardUrl"}


# -- reading the template ----------------------------------------------------------------------------




def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


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
    for the S3 location `aws cloudformation package` writes)."""
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
    assert trigger["Events"] == {"Uploads": {"Type": "SQS", "Properties": {
        "Queue": get_att("UploadQueue", "Arn"), "BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"]}}}
    mappings = [r["Properties"] for r in transformed["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mappings == [{"BatchSize": 10, "EventSourceArn": get_att("UploadQueue", "Arn"), "FunctionName": ref("TriggerFunction"),
                         "FunctionResponseTypes": ["ReportBatchItemFailures"]}]


# -- the conversion -----------------------------------------------------------------------------------


def test_the_completion_rule_matches_only_this_stacks_job_state_changes(template, resources):
    _, complete = functions(template)["complete"]
    [(name, event)] = complete["Events"].items()
    assert event["Type"] == "EventBridgeRule"
    assert event["Properties"]["Pattern"] == {
        "source": ["aws.mediaconvert"], "detail-type": ["MediaConvert Job State Change"],
        "detail": {"status": ["STATUS_UPDATE", "COMPLETE", "ERROR"], "queue": [get_att("ConversionQueue", "Arn")]}}
    assert props(resources, "ConversionQueue")["PricingPlan"] == "ON_DEMAND"


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
    api = [p for p in permissions.values() if p["Principal"] == "apigateway.amazonaws.com"]
    assert len(api) == 2 and all(p["FunctionName"] == ref("VideoFunction") for p in api)
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
        "dynamodb:DeleteItem": ["table"],
        "s3:PutObject": ["temp uploads"], "s3:ListMultipartUploadParts": ["temp uploads"],
        "s3:AbortMultipartUpload": ["temp uploads"], "s3:DeleteObject": ["main videos", "temp uploads"],
        "s3:GetObject": ["main videos"],
        "logs:CreateLogStream": ["own log group"], "logs:PutLogEvents": ["own log group"]},
    "trigger": {
        "dynamodb:GetItem": ["table"], "dynamodb:UpdateItem": ["table"],
        "mediaconvert:CreateJob": ["conversion queue"], "iam:PassRole": ["mediaconvert role"],
        "sqs:ReceiveMessage": ["upload queue"], "sqs:DeleteMessage": ["upload queue"], "sqs:GetQueueAttributes": ["upload queue"],
        "logs:CreateLogStream": ["own log group"], "logs:PutLogEvents": ["own log group"]},
    "complete": {
        "dynamodb:GetItem": ["table"], "dynamodb:UpdateItem": ["table"],
        "s3:DeleteObject": ["main videos", "temp uploads"],
        "logs:CreateLogStream": ["own log group"], "logs:PutLogEvents": ["own log group"]},
}


def test_each_function_has_its_own_role_with_exactly_what_its_code_calls(template, resources):
    """The video function inserts, reads, lists and removes records (status changes are the other
    functions'), presigns uploads and playback; the trigger reads a record, starts a job and marks
    it queued; the completion handler updates the record and deletes files."""
    names = {json.dumps(get_att("VideoTable", "Arn")): "table",
             json.dumps(sub("${TempBucket.Arn}/uploads/*")): "temp uploads",
             json.dumps(sub("${MainBucket.Arn}/videos/*")): "main videos",
             json.dumps(get_att("MediaConvertRole", "Arn")): "mediaconvert role",
             json.dumps(get_att("UploadQueue", "Arn")): "upload queue",
             json.dumps(statement(resources, "TriggerRole", "Convert")["Resource"]): "conversion queue"}
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
    assert len(roles) == 3


def test_each_function_logs_to_its_own_log_group_kept_thirty_days(template, resources):
    groups = set()
    for handler, (_, function) in functions(template).items():
        group = function["LoggingConfig"]["LogGroup"]["Ref"]
        groups.add(group)
        assert resources[group]["Type"] == "AWS::Logs::LogGroup"
        assert props(resources, group)["RetentionInDays"] == 30
    assert len(groups) == 3


# -- the functions ---------------------------------------------------------------------------------------


def variables_the_code_reads() -> dict[str, set[str]]:
    """handler → the variables the Swift code reads: FunctionSettings' required names (all), plus
    `settings.variables["…"]` in each function's type; AWS_REGION is Lambda's own."""
    functions_swift = (REPO / "Sources" / "VideoFunctions" / "Functions.swift").read_text()
    handlers_swift = (REPO / "Sources" / "bootstrap" / "Handlers.swift").read_text()
    required = re.search(r'let names = \[([^\]]*)\]', functions_swift)
    assert required, "FunctionSettings' variable names are not where the test looks"
    common = set(re.findall(r'"([A-Z0-9_]+)"', required.group(1)))
    needs = re.search(r'needs: name == "trigger" \? \[([^\]]*)\]', handlers_swift)
    assert needs, "the trigger's extra variables are not where the test looks"
    types = {"video": "VideoFunction", "trigger": "TriggerFunction", "complete": "CompletionFunction"}
    found = {}
    for handler, type_name in types.items():
        body = re.search(rf"public struct {type_name}\b(.*?)(?=\npublic |\n///|\Z)", functions_swift, re.S)
        assert body, f"{type_name} is not in Functions.swift"
        found[handler] = (common | set(re.findall(r'variables\["([A-Z0-9_]+)"\]', body.group(1)))) - {"AWS_REGION"}
    found["trigger"] |= set(re.findall(r'"([A-Z0-9_]+)"', needs.group(1)))
    return found


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


def test_the_three_functions_run_the_bootstrap_zip(template):
    found = functions(template)
    assert set(found) == {"video", "trigger", "complete"}
    for handler, (_, function) in found.items():
        assert function["CodeUri"] == "../.build-lambda/bootstrap.zip"
        assert (function["Runtime"], function["Architectures"], function["MemorySize"]) == ("provided.al2023", ["x86_64"], 512)
    assert {h: f["Timeout"] for h, (_, f) in found.items()} == {"video": 10, "trigger": 30, "complete": 30}


# -- buckets ------------------------------------------------------------------------------------------------


def test_every_bucket_blocks_public_access_is_encrypted_and_refuses_plain_http(resources):
    buckets = of_type(resources, "AWS::S3::Bucket")
    assert set(buckets) == {"TempBucket", "MainBucket", "SiteBucket"}
    policies = {p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
                for p in of_type(resources, "AWS::S3::BucketPolicy").values()}
    for name in buckets:
        bucket = props(resources, name)
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}, name
        [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms"), name
        assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}, name
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


def test_the_main_bucket_serves_presigned_playback_to_the_site(resources):
    [cors] = props(resources, "MainBucket")["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedOrigins"] == site_origins()
    assert sorted(cors["AllowedMethods"]) == ["GET", "HEAD"]


def test_the_site_bucket_is_read_by_this_distribution_only(resources):
    [allow] = [s for s in props(resources, "SiteBucketPolicy")["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert (allow["Action"], allow["Resource"]) == ("s3:GetObject", sub("${SiteBucket.Arn}/*"))
    assert allow["Condition"] == {"StringEquals": {
        "AWS:SourceArn": sub("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}")}}
    config = props(resources, "Distribution")["DistributionConfig"]
    [origin] = config["Origins"]
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
    assert {(e["ErrorCode"], e["ResponseCode"], e["ResponsePagePath"]) for e in config["CustomErrorResponses"]} == {
        (403, 404, "/404.html"), (404, 404, "/404.html")}
    # /dir/ and /dir are dir/index.html; the bucket's .site/ records are not served.
    code = props(resources, "SitePathsFunction")["FunctionCode"]
    assert "index.html" in code and "/.site/" in code


# -- the security headers ---------------------------------------------------------------------------------


def policy_headers(resources: dict) -> dict[str, str]:
    """The headers the response headers policy sets, as a browser receives them."""
    config = props(resources, "SecurityHeadersPolicy")["ResponseHeadersPolicyConfig"]
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


def site_binary() -> Path | None:
    for candidate in (os.environ.get("SITE_BIN"), REPO / ".build" / "debug" / "site", REPO / ".build" / "release" / "site"):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


def test_the_header_policy_agrees_with_a_production_builds_headers_json(resources, tmp_path):
    binary = site_binary()
    if binary is None:
        pytest.skip("no `site` binary (swift build); the source check above still ran")
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


def test_the_user_pool_requires_totp_mfa_and_signs_in_by_email(resources):
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
    assert client["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert (client["AccessTokenValidity"], client["IdTokenValidity"], client["RefreshTokenValidity"]) == (60, 60, 30)
    assert client["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"}
    assert (client["PreventUserExistenceErrors"], client["EnableTokenRevocation"]) == ("ENABLED", True)


def test_every_api_route_needs_a_cognito_token_and_reaches_the_video_function(template, transformed):
    api = transformed["Resources"]["HttpApi"]["Properties"]["Body"]
    [(scheme_name, scheme)] = api["components"]["securitySchemes"].items()
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer == {"type": "jwt", "identitySource": "$request.header.Authorization", "jwtConfiguration": {
        "issuer": sub("https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"), "audience": [ref("UserPoolClient")]}}
    routes = {(path, method): operation for path, item in api["paths"].items() for method, operation in item.items()}
    assert set(routes) == {("/videos", "x-amazon-apigateway-any-method"), ("/videos/{proxy+}", "x-amazon-apigateway-any-method")}
    for route, operation in routes.items():
        assert operation["security"] == [{scheme_name: []}], route
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["payloadFormatVersion"] == "2.0", route
        assert "${VideoFunction.Arn}" in integration["uri"]["Fn::Sub"], route
    cors = props(template["Resources"], "HttpApi")["CorsConfiguration"]
    assert cors["AllowOrigins"] == site_origins()
    assert sorted(cors["AllowMethods"]) == ["DELETE", "GET", "POST"]
    assert sorted(h.lower() for h in cors["AllowHeaders"]) == ["authorization", "content-type"]
    throttling = props(template["Resources"], "HttpApi")["DefaultRouteSettings"]
    assert throttling["ThrottlingBurstLimit"] > 0 and throttling["ThrottlingRateLimit"] > 0


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
    for function in ("VideoFunction", "TriggerFunction", "CompleteFunction"):
        assert f"${{{function}}}" in text
    assert "${DeadLetterQueueName}" in text and variables["DeadLetterQueueName"] == get_att("UploadDeadLetterQueue", "QueueName")


def test_the_outputs_site_build_and_publish_read_exist(template):
    outputs = template["Outputs"]
    assert set(outputs) == OUTPUTS
    assert outputs["UploadOrigin"]["Value"] == sub("https://${TempBucket}.s3.${AWS::Region}.${AWS::URLSuffix}")
    assert outputs["MediaOrigin"]["Value"] == sub("https://${MainBucket}.s3.${AWS::Region}.${AWS::URLSuffix}")
    assert outputs["ApiBaseUrl"]["Value"] == sub("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}")
    assert outputs["CognitoRegion"]["Value"] == outputs["SiteBucketRegion"]["Value"] == ref("AWS::Region")
    assert outputs["DistributionId"]["Value"] == ref("Distribution")
