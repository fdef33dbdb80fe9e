"""Least privilege, tested: each Lambda function runs with exactly the policy its role has in
infra/template.yaml, and needs every statement and every action of it.

For each function (`video`, `trigger`, `complete`, `signout`) the test reads its role's inline policy from the
template itself (a YAML loader that knows CloudFormation's short tags, and a resolver for `!Ref`,
`!GetAtt`, `!Sub`, `!Join`, `!If` with the template's conditions), binds the template's resources
and parameters to those of a ProductionPeer on moto_server (support/production_peer.py: the table, the temp
and main buckets, the upload queue and its dead-letter queue, MediaConvert's role; account, region,
partition `aws`; media key slot A active with a secret of this account, slot B empty), creates in
moto an IAM role with exactly that policy, assumes it, and runs the function (support/lambda_host.py's
LambdaHost, the environment of `production.env()` plus the video function's media variables, with
the assumed role's session credentials) through its scenario:

- video (each path under /api, as API Gateway passes it): POST /videos/upload-url (and the
  browser's presigned PUT), GET /videos, GET /videos/<id>, a multipart upload started, its part
  presigned and sent, listed and completed, another started and aborted (DELETE
  /videos/multipart), DELETE /videos/<id> (what the conversion wrote in the main bucket, MP4,
  thumbnail and HLS ladder, deleted);
- trigger: the queue read as Lambda's SQS event source mapping reads it, with the function's role
  (GetQueueAttributes, as the mapping's creation checks; ReceiveMessage; DeleteMessage of what the
  function did not report as failed), a batch holding an upload's S3 event → the upload's header
  read (a ranged GetObject; a refusal fails the message rather than starting a job blind), one
  CreateJob on the MediaConvert fake and the video `queued` in DynamoDB;
- complete: STATUS_UPDATE, COMPLETE (the video `ready`, the original deleted from the temp bucket)
  and ERROR (another video `failed`) events, a COMPLETE for a video deleted meanwhile (what
  the conversion wrote, MP4, thumbnail and HLS ladder, is deleted from the main bucket), and the
  schedule's event: the sweeper scans for waiting videos, asks GetJob, and makes ready the one whose
  job completed without its event;
- signout: a user of a moto user pool signed in twice, then the post-confirmation event of their
  password reset: both refresh tokens refused afterwards, the event answered unchanged.

The state a scenario starts from (uploads, queued jobs) is made by the functions with the
production peer's allow-all Lambda role, so each function's test depends on its own policy only.

Then, for each statement and for each action within it, the policy without it must make the
scenario fail, and the failure must name what is missing:
- SQS (the event source mapping's calls, by boto3): moto's AccessDenied names the action, "is not
  authorized to perform: sqs:ReceiveMessage".
- DynamoDB: moto answers 403 with an XML `<ErrorResponse><Errors><Error>` body naming the action
  (DynamoDB itself answers JSON, `AccessDeniedException`); the functions' AWS client reads both, so
  the function says `DynamoDB PutItem <table>: AccessDenied (HTTP 403): User: … is not authorized to
  perform: dynamodb:PutItem`: the operation refused, which is what is asserted.
- S3's AccessDenied says only "Access Denied"; the function names the operation
  (`DeleteObject s3://…: AccessDenied (HTTP 403)`), asserted with the action it needs (S3_OPERATIONS).
- Where it is said: the video API answers 500 InternalError and logs the line; the trigger reports
  the message as a batch item failure and logs it; the complete function fails the invocation with
  it (the runtime logs it too). An abort that S3 refuses is ignored by the function (the user's
  abort goes on), so there the scenario's own check says which upload was left and why.
- The functions `print` their log lines, which stdio buffers when stdout is a pipe (as Lambda's is):
  a line shows when the buffer fills or the process exits. `drain()` therefore ends each tested
  function through the Runtime API (its `next` fails, the bootstrap exits and flushes) before its
  log is read.

What moto 5.2.1 enforces here (found by these tests, kept true by them):
- Identity policies of an assumed role are evaluated for S3, DynamoDB and SQS. S3 matches actions
  and resources (bucket and key ARNs; CreateMultipartUpload and CompleteMultipartUpload are checked
  as s3:PutObject, ListParts as s3:ListMultipartUploadParts, AbortMultipartUpload as itself), SQS
  actions and the queue ARN.
- DynamoDB actions are checked, but against the resource `*`: moto never works out the table's ARN,
  so a statement scoped to the table grants nothing in moto
  (`test_moto_checks_dynamodb_actions_against_the_resource_star` shows it). The test therefore
  hands moto the DynamoDB statements with `Resource: "*"` and checks their resources statically
  instead (`test_dynamodb_statements_name_only_the_table`): actions by moto, resources by the test.
- Secrets Manager likewise: actions are checked against `*`
  (`test_moto_checks_secrets_manager_actions_against_the_resource_star`), so moto gets the video
  function's media-key statement with `Resource: "*"` as well, and its resource is checked by the
  test: exactly the active slot's secret, never the other slot's
  (`test_the_video_role_reads_the_active_media_key_and_no_other_secret`).
- Cognito likewise (`test_moto_checks_cognito_actions_against_the_resource_star`): the signout
  function's statement goes to moto with `Resource: "*"`, and its resource is checked by the test:
  this account's user pools in the stack's region, nothing wider
  (`test_the_signout_role_ends_sessions_in_this_accounts_pools_only`).
- Conditions are treated as met: moto evaluates StringEquals on sts:ExternalId of an AssumeRole and
  nothing else (`test_moto_treats_conditions_as_met`). No condition of these policies is tested by
  running the functions. (The template's own conditions - `Fn::If` on the active media key slot -
  are worked out by the resolver, from the parameters the test binds.)

Not enforced, so not asserted (NOT_ENFORCED; `test_not_enforced_actions_are_not_enforced_by_moto`
shows each one's removal still passes today, so the list stays true):
- video secretsmanager:GetSecretValue (the media key): the scenario opens no media session (POST
  /api/session signs the cookies); the grant is run against moto on its own instead
  (`test_the_video_role_reads_the_active_media_key_and_no_other_secret`).
- The presigned PUTs of the upload and of the parts: moto does not check presigned requests while
  auth is enforced (production_peer lets them through unauthenticated); s3:PutObject is enforced
  only through CreateMultipartUpload and CompleteMultipartUpload, which the function calls itself.
- trigger mediaconvert:CreateJob and iam:PassRole: moto has no MediaConvert; the fake
  (support/mediaconvert_fake.py) verifies signatures but evaluates no IAM, and nothing checks that the
  caller may pass MediaConvert's role (AWS checks iam:PassRole, with iam:PassedToService, at
  CreateJob).
- complete sqs:SendMessage (its dead-letter queue): Lambda itself sends an asynchronous event that
  failed its retries there, with the function's role; the function never calls SQS. The queue is
  bound to an ARN of this account that moto does not hold.
Log statements (logs:*) are dropped: the bootstrap writes its log to stdout, which Lambda sends to
CloudWatch Logs with the role's logs permissions; nothing here calls CloudWatch Logs.

From the template alone: no Allow statement has a wildcard action (`*`, `s3:*`, `s3:Get*`; a Deny
may, as the buckets' TLS-only policies do), and a `*` resource appears only for the actions of
STAR_RESOURCE_ALLOWED, each with its reason.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from support import REPO
from support.aws_peer import Credentials
from support.cfn_template import TEMPLATE, as_list, load_template
from support.files import sha256_b64
from support.lambda_host import LambdaHost, build_lambda, http_api_event
from support.production_peer import ProductionPeer, s3_notifications, sqs_lambda_event
FUNCTIONS = ("video", "trigger", "complete", "signout")

ALICE = str(uuid.UUID(int=0xA11CE))
CLIP = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64

# (function, action): why moto cannot show that the function needs it. See the module docstring.
NOT_ENFORCED: dict[tuple[str, str], str] = {
    ("video", "secretsmanager:GetSecretValue"):
        "the scenario opens no media session; the grant is run against moto on its own (see the docstring)",
    ("trigger", "mediaconvert:CreateJob"):
        "moto has no MediaConvert; the fake verifies signatures, evaluates no IAM",
    ("trigger", "iam:PassRole"):
        "checked by MediaConvert at CreateJob; the fake does not, moto has no MediaConvert",
    ("complete", "mediaconvert:GetJob"):
        "moto has no MediaConvert; the fake verifies signatures, evaluates no IAM",
    ("complete", "sqs:SendMessage"):
        "Lambda sends a failed asynchronous event to the dead-letter queue with the role; the function calls no SQS",
}

# Actions that may have the resource "*", each with the reason (AWS's Service Authorization
# Reference lists no resource type for them, or the resource is not known when the stack is made).
STAR_RESOURCE_ALLOWED: dict[str, str] = {
    "xray:PutTraceSegments": "X-Ray has no resource types",
    "xray:PutTelemetryRecords": "X-Ray has no resource types",
    "cloudwatch:PutMetricData": "CloudWatch metrics have no resource type (narrowed by cloudwatch:namespace)",
    "mediaconvert:DescribeEndpoints": "account-wide: it has no resource type",
}

# What the S3 actions are called in the function's log: the operations that need them.
S3_OPERATIONS = {
    "s3:PutObject": ("CreateMultipartUpload", "CompleteMultipartUpload", "PutObject"),
    "s3:ListMultipartUploadParts": ("ListParts",),
    "s3:AbortMultipartUpload": ("AbortMultipartUpload",),
    "s3:DeleteObject": ("DeleteObject",),
    "s3:GetObject": ("GetObject",),
}

# Services whose actions moto checks against the resource `*` only (see the module docstring):
# their statements are given to moto with `Resource: "*"`, and their resources checked by the test.
STAR_CHECKED_SERVICES = ("dynamodb:", "secretsmanager:", "cognito-idp:")

# What the media key slots are bound to when a test does not say: slot A active, B empty.
MEDIA_KEY_A_ID, MEDIA_KEY_B_ID = "K2JCJMDEHXQW5F", "K3ABCDEFGHIJKL"


# -- the template -----------------------------------------------------------------------------------




class Unbound(KeyError):
    """A reference to something the test has not bound to a moto resource."""


@dataclasses.dataclass
class Bindings:
    """What `Ref` and `Fn::GetAtt` of the template's logical ids, parameters and pseudo parameters
    stand for, and the template's conditions (worked out from the bound parameters) for `Fn::If`."""
    refs: dict[str, str]
    attributes: dict[tuple[str, str], str]
    conditions: dict[str, Any] = dataclasses.field(default_factory=dict)

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise Unbound(f"the condition {name} is not in the template")
        return self._truth(self.conditions[name])

    def _truth(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        (function, argument), = value.items()
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self._truth(argument[0])
        if function == "Fn::And":
            return all(self._truth(item) for item in argument)
        if function == "Fn::Or":
            return any(self._truth(item) for item in argument)
        raise Unbound(f"{function} in a condition is not supported by this test's resolver")

    def ref(self, name: str) -> str:
        if name not in self.refs:
            raise Unbound(f"!Ref {name} is not bound to a moto resource")
        return self.refs[name]

    def attribute(self, name: str, attribute: str) -> str:
        if (name, attribute) not in self.attributes:
            raise Unbound(f"!GetAtt {name}.{attribute} is not bound to a moto resource")
        return self.attributes[name, attribute]

    def resolve(self, value: Any) -> Any:
        """`value` with its intrinsic functions worked out."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, argument), = value.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.attribute(name, attribute)
            if function == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
            if function == "Fn::Join":
                separator, items = argument
                return separator.join(self.resolve(items))
            if function == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if function == "Fn::Split":
                separator, text = argument
                return self.resolve(text).split(separator)
            if function == "Fn::If":
                name, when_true, when_false = argument
                return self.resolve(when_true if self.condition(name) else when_false)
            if function.startswith("Fn::"):
                raise Unbound(f"{function} is not supported by this test's resolver")
        return {key: self.resolve(item) for key, item in value.items()}

    def _sub(self, text: str, variables: dict[str, str]) -> str:
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return variables[name]
            if "." in name and not name.startswith("AWS::"):
                return self.attribute(*name.split(".", 1))
            return self.ref(name)
        return re.sub(r"\$\{([^}]+)\}", replace, text)


FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


@dataclasses.dataclass
class Statement:
    id: str
    """The Sid, else <policy name>[<index>]."""
    body: dict
    """As in the template (unresolved)."""

    @property
    def actions(self) -> list[str]:
        return as_list(self.body.get("Action", []))

    @property
    def is_logs(self) -> bool:
        return bool(self.actions) and all(a.lower().startswith("logs:") for a in self.actions)


@dataclasses.dataclass
class FunctionRole:
    function: str
    """The handler: video, trigger or complete."""
    function_id: str
    role_id: str
    statements: list[Statement]
    managed_policies: list


class Template:
    def __init__(self, document: dict):
        self.document = document
        self.resources: dict[str, dict] = document.get("Resources", {})

    def of_type(self, *types: str) -> dict[str, dict]:
        return {name: resource for name, resource in self.resources.items() if resource.get("Type") in types}

    def functions(self) -> dict[str, tuple[str, dict]]:
        """handler → (logical id, properties), for the bootstrap's functions."""
        globals_ = self.document.get("Globals", {}).get("Function", {})
        found = {}
        for name, resource in self.of_type(*FUNCTION_TYPES).items():
            properties = {**globals_, **resource.get("Properties", {})}
            handler = properties.get("Handler")
            if handler in FUNCTIONS:
                found[handler] = (name, properties)
        return found

    def environment(self, handler: str) -> dict[str, Any]:
        globals_ = self.document.get("Globals", {}).get("Function", {})
        variables = dict(globals_.get("Environment", {}).get("Variables", {}))
        function_id, _ = self.functions()[handler]
        variables.update(self.resources[function_id].get("Properties", {}).get("Environment", {}).get("Variables", {}))
        return variables

    def role(self, handler: str) -> FunctionRole:
        function_id, properties = self.functions()[handler]
        role = properties.get("Role")
        if not (isinstance(role, dict) and ("Fn::GetAtt" in role or "Ref" in role)):
            raise AssertionError(f"{function_id} has no Role of its own in the template (Role: {role!r})")
        role_id = role["Fn::GetAtt"][0] if "Fn::GetAtt" in role else role["Ref"]
        resource = self.resources[role_id]
        assert resource["Type"] == "AWS::IAM::Role", (role_id, resource["Type"])
        statements = []
        for policy in resource.get("Properties", {}).get("Policies", []):
            statements += self._statements(policy["PolicyName"], policy["PolicyDocument"])
        # Policies attached from outside the role.
        for name, other in self.of_type("AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy").items():
            properties = other.get("Properties", {})
            roles = as_list(properties.get("Roles", [])) + ([properties["RoleName"]] if "RoleName" in properties else [])
            if {"Ref": role_id} in roles:
                statements += self._statements(properties.get("PolicyName", name), properties["PolicyDocument"])
        return FunctionRole(handler, function_id, role_id, statements,
                            as_list(resource.get("Properties", {}).get("ManagedPolicyArns", [])))

    @staticmethod
    def _statements(policy_name: str, document: dict) -> list[Statement]:
        return [Statement(body.get("Sid") or f"{policy_name}[{index}]", body)
                for index, body in enumerate(as_list(document.get("Statement", [])))]

    def policy_statements(self) -> list[tuple[str, dict, bool]]:
        """Every statement of every policy document in the template: (where, statement, identity?)
        (identity: a role's or an IAM policy's, not a resource policy)."""
        found = []

        def walk(value: Any, where: str, identity: bool) -> None:
            if isinstance(value, dict):
                if "Statement" in value and ("Version" in value or isinstance(value["Statement"], list)):
                    for index, statement in enumerate(as_list(value["Statement"])):
                        if isinstance(statement, dict):
                            found.append((f"{where}[{index}]", statement, identity))
                    return
                for key, item in value.items():
                    walk(item, f"{where}.{key}", identity and key != "AssumeRolePolicyDocument")
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    walk(item, f"{where}[{index}]", identity)

        identity_types = ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy",
                          *FUNCTION_TYPES)
        for name, resource in self.resources.items():
            walk(resource.get("Properties", {}), name, resource.get("Type") in identity_types)
        return found

    def target(self, value: Any) -> str | None:
        """The logical id a `!Ref X` or `!GetAtt X.Attr` names."""
        if isinstance(value, dict):
            if "Ref" in value:
                return value["Ref"]
            if "Fn::GetAtt" in value:
                return value["Fn::GetAtt"][0]
            if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
                names = re.findall(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}", value["Fn::Sub"])
                return names[0] if len(names) == 1 else None
        return None

    def upload_queue(self) -> str | None:
        """The queue the trigger reads: its SQS event, or an event source mapping to it."""
        trigger_id, properties = self.functions()["trigger"]
        for event in properties.get("Events", {}).values():
            if event.get("Type") == "SQS":
                return self.target(event["Properties"]["Queue"])
        for mapping in self.of_type("AWS::Lambda::EventSourceMapping").values():
            properties = mapping.get("Properties", {})
            if self.target(properties.get("FunctionName")) == trigger_id:
                return self.target(properties.get("EventSourceArn"))
        return None


def media_key_secret_arn(production: ProductionPeer, slot: str) -> str:
    """The ARN a slot's secret is bound to when a test does not say: for slot A the production
    peer's own media key secret (the one its MEDIA_KEY_SECRET names) where it has one, else an ARN
    of Secrets Manager's shape (with its six-character suffix) in the peer's account and region."""
    media_key = getattr(production, "media_key", None)
    if slot == "A" and media_key is not None:
        return media_key.secret_arn
    return (f"arn:aws:secretsmanager:{production.region}:{production.account_id}:secret:"
            f"video-{production.suffix}/media-key/{slot}-AbCdEf")


def function_dead_letter_arn(production: ProductionPeer, handler: str) -> str:
    """The ARN a function's dead-letter queue is bound to: a queue of the peer's account and region
    that moto does not hold (only Lambda sends to it)."""
    return f"arn:aws:sqs:{production.region}:{production.account_id}:video-{production.suffix}-{handler}-dead-letters"


def default_parameters(template: Template, production: ProductionPeer) -> dict[str, str]:
    """The stack's parameters as a first deploy sets them: each default, slot A holding a key (its
    secret an ARN of this account and region) and active, slot B empty."""
    parameters = {name: str(p["Default"]) for name, p in template.document.get("Parameters", {}).items() if "Default" in p}
    parameters.update({"MediaKeyAPublicKey": "-----BEGIN PUBLIC KEY-----\nA\n-----END PUBLIC KEY-----\n",
                       "MediaKeyASecretArn": media_key_secret_arn(production, "A"),
                       "MediaKeyBPublicKey": "", "MediaKeyBSecretArn": "", "ActiveMediaKey": "A"})
    return parameters


def bindings(template: Template, production: ProductionPeer, roles: dict[str, str] | None = None,
             parameters: dict[str, str] | None = None) -> Bindings:
    """The template's table, buckets, queues, MediaConvert role and functions as the moto resources
    of `production`; found through the functions' environment (VIDEO_TABLE, TEMP_BUCKET,
    MAIN_BUCKET, MEDIACONVERT_ROLE_ARN) and the trigger's event source. The template's parameters
    are `default_parameters` updated with `parameters`; its conditions follow from them."""
    region, account, partition = production.region, production.account_id, "aws"
    refs = {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": partition,
            "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": f"video-{production.suffix}",
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account}:stack/video-{production.suffix}/{uuid.uuid4()}",
            "AWS::NoValue": None}
    refs.update({**default_parameters(template, production), **(parameters or {})})
    # The CloudFront public keys of the slots (their ids), should a policy name them.
    refs.update({"MediaPublicKeyA": MEDIA_KEY_A_ID, "MediaPublicKeyB": MEDIA_KEY_B_ID})
    attributes: dict[tuple[str, str], str] = {}

    def variable(name: str) -> str | None:
        for handler in template.functions():
            if name in (variables := template.environment(handler)):
                return template.target(variables[name])
        return None

    if table := variable("VIDEO_TABLE"):
        refs[table] = production.table_name
        attributes[table, "Arn"] = f"arn:{partition}:dynamodb:{region}:{account}:table/{production.table_name}"
    for variable_name, bucket in (("TEMP_BUCKET", production.temp_bucket), ("MAIN_BUCKET", production.main_bucket)):
        if logical := variable(variable_name):
            refs[logical] = bucket
            attributes[logical, "Arn"] = f"arn:{partition}:s3:::{bucket}"
            attributes[logical, "DomainName"] = f"{bucket}.s3.amazonaws.com"
            attributes[logical, "RegionalDomainName"] = f"{bucket}.s3.{region}.amazonaws.com"
    if role := variable("MEDIACONVERT_ROLE_ARN"):
        refs[role] = production.mediaconvert_role_arn.rsplit("/", 1)[-1]
        attributes[role, "Arn"] = production.mediaconvert_role_arn
    if queue := template.upload_queue():
        for logical, url, arn in ((queue, production.queue_url, production.queue_arn),):
            refs[logical] = url
            attributes[logical, "Arn"] = arn
            attributes[logical, "QueueUrl"] = url
            attributes[logical, "QueueName"] = arn.rsplit(":", 1)[-1]
        redrive = template.resources[queue].get("Properties", {}).get("RedrivePolicy", {})
        if dlq := template.target(redrive.get("deadLetterTargetArn")):
            refs[dlq] = production.dlq_url
            attributes[dlq, "Arn"] = production.dlq_arn
            attributes[dlq, "QueueUrl"] = production.dlq_url
            attributes[dlq, "QueueName"] = production.dlq_arn.rsplit(":", 1)[-1]
    for handler, (logical, properties) in template.functions().items():
        refs[logical] = handler
        attributes[logical, "Arn"] = f"arn:{partition}:lambda:{region}:{account}:function:{handler}"
        # Its dead-letter queue: Lambda's to send to, not the function's; no moto queue.
        if dead := template.target(properties.get("DeadLetterQueue", {}).get("TargetArn")):
            arn = function_dead_letter_arn(production, handler)
            name = arn.rsplit(":", 1)[-1]
            refs[dead] = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
            attributes[dead, "Arn"] = arn
            attributes[dead, "QueueName"] = name
    for handler, arn in (roles or {}).items():
        role_id = template.role(handler).role_id
        refs[role_id] = arn.rsplit("/", 1)[-1]
        attributes[role_id, "Arn"] = arn
    return Bindings(refs, attributes, template.document.get("Conditions", {}))


def moto_statements(statements: list[dict]) -> list[dict]:
    """What moto is given for resolved statements: DynamoDB's, Secrets Manager's and Cognito's with
    the resource `*`, since moto checks those actions against `*` (see the module docstring); the rest
    as they are."""
    given = []
    for statement in statements:
        actions = as_list(statement.get("Action", []))
        star = [a for a in actions if a.lower().startswith(STAR_CHECKED_SERVICES)]
        others = [a for a in actions if not a.lower().startswith(STAR_CHECKED_SERVICES)]
        if star:
            given.append({**statement, "Action": star, "Resource": "*"})
        if others:
            given.append({**statement, "Action": others})
    for index, statement in enumerate(given):
        statement.pop("Sid", None)
        statement["Sid"] = f"S{index}"
    return given


# -- the cases, from the template at collection time ----------------------------------------------------


TEMPLATE_DOCUMENT = load_template() if TEMPLATE.exists() else None
needs_template = pytest.mark.skipif(TEMPLATE_DOCUMENT is None, reason=f"{TEMPLATE.relative_to(REPO)} does not exist yet")


@dataclasses.dataclass(frozen=True)
class Removal:
    function: str
    statement: str
    action: str | None
    """One action removed from the statement, or None: the whole statement."""
    removed: tuple[str, ...]
    """The actions this removal takes away."""

    @property
    def id(self) -> str:
        return f"{self.function}-{self.statement}" + (f"-{self.action}" if self.action else "")

    def enforced(self) -> list[str]:
        return [a for a in self.removed if (self.function, a) not in NOT_ENFORCED]

    def apply(self, statements: list[Statement]) -> list[dict]:
        kept = []
        for statement in statements:
            if statement.id != self.statement:
                kept.append(copy.deepcopy(statement.body))
            elif self.action is not None:
                actions = [a for a in statement.actions if a != self.action]
                if actions:
                    kept.append({**copy.deepcopy(statement.body), "Action": actions})
        return kept


def removals() -> list[Removal]:
    if TEMPLATE_DOCUMENT is None:
        return []
    template = Template(TEMPLATE_DOCUMENT)
    found = []
    for handler in FUNCTIONS:
        if handler not in template.functions():
            continue
        for statement in template.role(handler).statements:
            if statement.is_logs:
                continue
            found.append(Removal(handler, statement.id, None, tuple(statement.actions)))
            if len(statement.actions) > 1:
                found += [Removal(handler, statement.id, action, (action,)) for action in statement.actions]
    return found


try:
    REMOVALS = removals()
except (AssertionError, KeyError) as problem:  # test_each_function_has_a_role_of_its_own says what
    REMOVALS = []
    print(f"test_least_privilege: no removal cases: {problem!r}")
ENFORCED_REMOVALS = [r for r in REMOVALS if r.enforced()]
UNENFORCED_REMOVALS = [r for r in REMOVALS if not r.enforced()]


# -- running a function with a policy ---------------------------------------------------------------------


class ScenarioFailed(AssertionError):
    pass


@pytest.fixture(scope="module")
def binary():
    return build_lambda().binary


@pytest.fixture(scope="module")
def template() -> Template:
    if TEMPLATE_DOCUMENT is None:
        pytest.skip(f"{TEMPLATE.relative_to(REPO)} does not exist yet")
    return Template(TEMPLATE_DOCUMENT)


class Run:
    """Lambda hosts on a ProductionPeer: `setup(handler)` with the peer's allow-all Lambda role (to
    make the state a scenario starts from), `host(handler, credentials)` with a tested role's."""

    def __init__(self, production: ProductionPeer, binary: Path):
        self.production, self.binary = production, binary
        self.hosts: list[LambdaHost] = []
        self._setup: dict[str, LambdaHost] = {}

    def host(self, handler: str, credentials: Credentials | None = None) -> LambdaHost:
        env = self.production.env()
        # The sweeper asks about every waiting video at once (an hour in production).
        if handler == "complete":
            env["SWEEP_AFTER_SECONDS"] = "0"
        # The video function needs its media key's variables to start (no scenario signs cookies).
        for name, value in media_environment(self.production).items():
            env.setdefault(name, value)
        if credentials is not None:
            env.update(credentials.as_env())
        started = LambdaHost(self.binary, handler, env=env).start()
        self.hosts.append(started)
        return started

    def setup(self, handler: str) -> LambdaHost:
        if handler not in self._setup:
            self._setup[handler] = self.host(handler)
        return self._setup[handler]

    def stop(self) -> None:
        for started in self.hosts:
            started.stop()

    def role(self, name: str, statements: list[dict]) -> Credentials:
        """An IAM role with exactly `statements` (as given to moto), assumed; the MediaConvert fake
        verifies its signatures."""
        return assumed_role(self.production, name, statements)

    def client(self, service: str, credentials: Credentials):
        return self.production.aws.client(service, credentials=credentials, retries={"total_max_attempts": 1})


def assumed_role(production: ProductionPeer, name: str, statements: list[dict]) -> Credentials:
    """An IAM role in moto with exactly `statements`, assumed (the MediaConvert fake trusts it)."""
    iam = production.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com", "AWS": production.aws.user_arn},
        "Action": "sts:AssumeRole"}]}
    role_name = f"lp-{name}-{uuid.uuid4().hex[:8]}"
    arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=role_name, PolicyName=name, PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
    credentials = production.aws.assume_role(arn, session_name=role_name)
    production.mediaconvert.trust(credentials)
    return credentials


def media_environment(production: ProductionPeer) -> dict[str, str]:
    """The video function's media variables as the stack sets them (slot A active), for a peer
    whose env() does not hold them already: a key id, the secret's ARN as bound
    (`media_key_secret_arn`), and the distribution's origin."""
    return {"MEDIA_KEY_PAIR_ID": MEDIA_KEY_A_ID, "MEDIA_KEY_SECRET": media_key_secret_arn(production, "A"),
            "MEDIA_ORIGIN": "https://d111111abcdef8.cloudfront.net"}


@pytest.fixture
def run(production, binary):
    started = Run(production, binary)
    try:
        yield started
    finally:
        started.stop()


def resolved(template: Template, production: ProductionPeer, statements: list[dict],
             parameters: dict[str, str] | None = None) -> list[dict]:
    """Statements with their references bound to `production` (and the template's parameters to
    `parameters`, see `bindings`), log statements dropped."""
    binding = bindings(template, production, parameters=parameters)
    return [binding.resolve(s) for s in statements if not Statement("", s).is_logs]


def policy_of(template: Template, handler: str) -> list[dict]:
    return [copy.deepcopy(s.body) for s in template.role(handler).statements]


# -- the scenarios -----------------------------------------------------------------------------------------


def api(host: LambdaHost, method: str, path: str, body: dict | None = None, query: str = "") -> tuple[int, dict]:
    """`path` as openapi.yaml names it; the event's is under /api, as the distribution's /api/*
    behaviour and the API's routes hand it to the function (which takes the /api off)."""
    event = http_api_event(method, "/api" + path, json.dumps(body) if body is not None else None, sub=ALICE, query=query)
    outcome = host.invoke(event, timeout_ms=10_000)
    if outcome.kind != "response":
        raise ScenarioFailed(f"{method} {path}: the function failed: {outcome.payload}")
    answer = outcome.payload
    return answer["statusCode"], (json.loads(answer["body"]) if answer.get("body") else {})


def expect(host: LambdaHost, method: str, path: str, status: int, body: dict | None = None, query: str = "") -> dict:
    got, answer = api(host, method, path, body, query)
    if got != status:
        raise ScenarioFailed(f"{method} {path}{'?' + query if query else ''}: {got} {answer}, not {status}")
    return answer


def new_upload(production: ProductionPeer, host: LambdaHost, name: str = "clip.mp4") -> dict:
    """POST /videos/upload-url, then the browser's presigned PUT (let through by moto unchecked)."""
    created = expect(host, "POST", "/videos/upload-url", 200, {
        "fileName": name, "contentType": "video/mp4", "size": len(CLIP), "checksumSHA256": sha256_b64(CLIP)})
    status, _, answer = production.put_presigned(created["uploadUrl"], CLIP, {
        "Content-Type": "video/mp4", "x-amz-checksum-sha256": sha256_b64(CLIP)})
    if status != 200:
        raise ScenarioFailed(f"the presigned PUT: {status} {answer!r}")
    return created


def multipart_query(upload: dict) -> str:
    quote = lambda text: text.replace("/", "%2F")  # noqa: E731 - the keys here are plain
    return f"key={quote(upload['key'])}&uploadId={quote(upload['uploadId'])}"


def multipart_uploads(production: ProductionPeer) -> list[str]:
    listed = production.client("s3").list_multipart_uploads(Bucket=production.temp_bucket)
    return [u["UploadId"] for u in listed.get("Uploads", [])]


# What a conversion writes into a video's folder of the main bucket: the MP4, the thumbnail and the
# HLS ladder's files (a few of them stand for all).
CONVERTED = ("video.mp4", "thumbnail.0000000.jpg", "hls/index.m3u8", "hls/index_360p.m3u8", "hls/index_360p.cmfv")


def put_converted(production: ProductionPeer, video_id: str) -> str:
    """The converted files of a video, as MediaConvert would leave them; their folder's prefix."""
    prefix = f"videos/{ALICE}/{video_id}/"
    for name in CONVERTED:
        production.client("s3").put_object(Bucket=production.main_bucket, Key=prefix + name, Body=b"converted")
    return prefix


def left_in(production: ProductionPeer, prefix: str) -> list[str]:
    """Which of them are still there (by HEAD: moto 5.2.1 refuses the signature of any
    ListObjectsV2 whose prefix holds a "/", boto3's too)."""
    return [prefix + name for name in CONVERTED if exists(production, production.main_bucket, prefix + name)]


def exists(production: ProductionPeer, bucket: str, key: str) -> bool:
    try:
        production.client("s3").head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
            return False
        raise


def video_scenario(run: Run, credentials: Credentials) -> None:
    production = run.production
    host = run.host("video", credentials)
    created = new_upload(production, host)
    listed = expect(host, "GET", "/videos", 200)
    if [v["id"] for v in listed["videos"]] != [created["videoId"]]:
        raise ScenarioFailed(f"GET /videos: {listed}")
    if expect(host, "GET", f"/videos/{created['videoId']}", 200)["status"] != "uploading":
        raise ScenarioFailed("GET /videos/<id>: not uploading")

    # A multipart upload: started, its one part presigned and sent, listed, completed.
    start = {"fileName": "big.mov", "contentType": "video/quicktime", "size": len(CLIP), "checksumAlgorithm": "SHA256"}
    upload = expect(host, "POST", "/videos/multipart", 200, start)
    urls = expect(host, "POST", "/videos/multipart/parts", 200, {
        "key": upload["key"], "uploadId": upload["uploadId"], "parts": [{"partNumber": 1, "checksumSHA256": sha256_b64(CLIP)}]})
    status, headers, answer = production.put_presigned(urls["urls"][0]["url"], CLIP, {"x-amz-checksum-sha256": sha256_b64(CLIP)})
    if status != 200:
        raise ScenarioFailed(f"the part's presigned PUT: {status} {answer!r}")
    parts = expect(host, "GET", "/videos/multipart/parts", 200, query=multipart_query(upload))["parts"]
    if [p["partNumber"] for p in parts] != [1]:
        raise ScenarioFailed(f"GET /videos/multipart/parts: {parts}")
    expect(host, "POST", "/videos/multipart/complete", 200, {
        "key": upload["key"], "uploadId": upload["uploadId"],
        "parts": [{"partNumber": 1, "etag": headers["etag"], "checksumSHA256": sha256_b64(CLIP)}]})
    if not exists(production, production.temp_bucket, upload["key"]):
        raise ScenarioFailed("the completed multipart upload is not in the temp bucket")

    # Another, aborted: the function ignores S3's refusal of the abort (the user's abort goes on),
    # so the upload left in S3 is the sign.
    aborted = expect(host, "POST", "/videos/multipart", 200, {**start, "fileName": "dropped.mov"})
    expect(host, "DELETE", "/videos/multipart", 204, query=multipart_query(aborted))
    if aborted["uploadId"] in multipart_uploads(production):
        raise ScenarioFailed("DELETE /videos/multipart answered 204 but the multipart upload is still in the temp bucket: "
                             "S3 refused AbortMultipartUpload (s3:AbortMultipartUpload)")
    expect(host, "GET", f"/videos/{aborted['videoId']}", 404)

    # The first video deleted: the record and the original go, and what its conversion wrote.
    folder = put_converted(production, created["videoId"])
    expect(host, "DELETE", f"/videos/{created['videoId']}", 204)
    expect(host, "GET", f"/videos/{created['videoId']}", 404)
    if exists(production, production.temp_bucket, created["key"]):
        raise ScenarioFailed("DELETE /videos/<id>: the original is still in the temp bucket")
    if left := left_in(production, folder):
        raise ScenarioFailed(f"DELETE /videos/<id>: the converted files are still in the main bucket: {left}")


def receive_as_mapping(run: Run, sqs, want: Callable[[list[dict]], bool], wait: float = 10) -> dict:
    """ReceiveMessage as Lambda's event source mapping, with the function's role, until the
    messages received so far satisfy `want`; Lambda's SQS event of all of them."""
    production = run.production
    messages: list[dict] = []
    deadline = time.monotonic() + wait
    while not want(messages):
        if time.monotonic() > deadline:
            raise ScenarioFailed(f"the queue did not deliver the expected messages: {messages}")
        messages += sqs.receive_message(QueueUrl=production.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                        MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
    return sqs_lambda_event(messages, production.queue_arn, production.region)


def created_keys(messages: list[dict]) -> list[str]:
    keys = []
    for message in messages:
        notification = json.loads(json.loads(message["Body"])["Message"])
        keys += [r["s3"]["object"]["key"] for r in notification.get("Records", []) if r["eventName"].startswith("ObjectCreated")]
    return keys


def video_record(production: ProductionPeer, video_id: str) -> dict:
    item = production.client("dynamodb").get_item(TableName=production.table_name, ConsistentRead=True,
                                                   Key={"sub": {"S": ALICE}, "id": {"S": video_id}}).get("Item")
    return {name: next(iter(value.values())) for name, value in (item or {}).items()}


def trigger_scenario(run: Run, credentials: Credentials) -> None:
    production = run.production
    created = new_upload(production, run.setup("video"))
    host = run.host("trigger", credentials)
    sqs = run.client("sqs", credentials)
    try:
        # The mapping's creation checks the role may read the queue; then it polls.
        sqs.get_queue_attributes(QueueUrl=production.queue_url, AttributeNames=["All"])
        event = receive_as_mapping(run, sqs, lambda got: bool(created_keys(got)))
    except ClientError as error:
        raise ScenarioFailed(f"Lambda's event source mapping, as the function's role: {error}") from None
    outcome = host.invoke(event, timeout_ms=20_000)
    if outcome.kind != "response" or outcome.payload != {"batchItemFailures": []}:
        raise ScenarioFailed(f"the trigger: {outcome.kind} {outcome.payload}")
    failed = {item["itemIdentifier"] for item in outcome.payload["batchItemFailures"]}
    try:
        for record in event["Records"]:
            if record["messageId"] not in failed:
                sqs.delete_message(QueueUrl=production.queue_url, ReceiptHandle=record["receiptHandle"])
    except ClientError as error:
        raise ScenarioFailed(f"Lambda's event source mapping deleting the batch, as the function's role: {error}") from None
    jobs = [job for job in production.mediaconvert.create_job_requests() if job["ClientRequestToken"] == created["videoId"]]
    if len(jobs) != 1 or jobs[0]["Role"] != production.mediaconvert_role_arn:
        raise ScenarioFailed(f"CreateJob: {jobs}")
    if (status := video_record(production, created["videoId"]).get("status")) != "queued":
        raise ScenarioFailed(f"the video is {status}, not queued")


def queued_videos(run: Run, names: list[str]) -> list[tuple[dict, str, dict]]:
    """Uploads of `names`, converted by the trigger (both with the allow-all role): (upload, job
    id, the job's user metadata) each."""
    production = run.production
    uploads = [new_upload(production, run.setup("video"), name) for name in names]
    keys: list[str] = []
    while len(keys) < len(uploads):
        event = production.receive_sqs_event(wait=10)
        if not event["Records"]:
            raise AssertionError(f"the uploads' events did not come: {keys}")
        outcome = run.setup("trigger").invoke(event, timeout_ms=20_000)
        assert outcome.payload == {"batchItemFailures": []}, run.setup("trigger").logs()
        production.acknowledge(event, outcome.payload)
        keys += [r["s3"]["object"]["key"] for n in s3_notifications(event) for r in n.get("Records", [])]
    jobs = {}
    for request in production.mediaconvert.requests:
        if request.accepted and request.params.get("ClientRequestToken"):
            jobs[request.params["ClientRequestToken"]] = (request.job_id, request.params["UserMetadata"])
    return [(upload, *jobs[upload["videoId"]]) for upload in uploads]


def signout_scenario(run: Run, credentials: Credentials) -> None:
    """A user of a moto user pool signed in twice; the post-confirmation trigger of their password
    reset must end both sign-ins (AdminUserGlobalSignOut), answering the event unchanged."""
    production = run.production
    cognito = production.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName=f"lp-users-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    username, password = f"user-{uuid.uuid4().hex[:8]}", "Correct-Horse-9"
    cognito.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)

    def sign_in() -> str:
        return cognito.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                           AuthParameters={"USERNAME": username, "PASSWORD": password}
                                           )["AuthenticationResult"]["RefreshToken"]

    def refreshes(token: str) -> bool:
        try:
            cognito.admin_initiate_auth(UserPoolId=pool_id, ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                        AuthParameters={"REFRESH_TOKEN": token})
            return True
        except ClientError:
            return False

    sessions = [sign_in(), sign_in()]
    host = run.host("signout", credentials)
    event = {"version": "1", "region": production.region, "userPoolId": pool_id, "userName": username,
             "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
             "triggerSource": "PostConfirmation_ConfirmForgotPassword",
             "request": {"userAttributes": {"email": f"{username}@example.com"}}, "response": {}}
    outcome = host.invoke(event, timeout_ms=10_000)
    if outcome.kind != "response":
        raise ScenarioFailed(f"the password reset's trigger failed: {outcome.payload}")
    if outcome.payload != event:
        raise ScenarioFailed(f"the trigger answered {outcome.payload}, not its event")
    if still := [token for token in sessions if refreshes(token)]:
        raise ScenarioFailed(f"after the password reset {len(still)} of the user's sign-ins still refresh")


def complete_scenario(run: Run, credentials: Credentials) -> None:
    production = run.production
    (ready, ready_job, ready_metadata), (failing, failing_job, failing_metadata), (deleted, deleted_job, _), (swept, swept_job, _) = \
        queued_videos(run, ["ready.mp4", "failing.mp4", "deleted.mp4", "swept.mp4"])
    expect(run.setup("video"), "DELETE", f"/videos/{deleted['videoId']}", 204)
    # What the conversion of the deleted video wrote after the deletion.
    deleted_folder = put_converted(production, deleted["videoId"])
    host = run.host("complete", credentials)

    def complete(event: dict, applied: bool, what: str) -> None:
        outcome = host.invoke(event, timeout_ms=10_000)
        if outcome.kind != "response":
            raise ScenarioFailed(f"{what}: the function failed: {outcome.payload}")
        if outcome.payload != {"applied": applied}:
            raise ScenarioFailed(f"{what}: {outcome.payload}")

    complete(production.status_update_event(ready_job, percent=40, user_metadata=ready_metadata), True, "STATUS_UPDATE")
    complete(production.complete_event_for(ready_job, duration_ms=20_500), True, "COMPLETE")
    complete(production.error_event(failing_job, user_metadata=failing_metadata), True, "ERROR")
    # Deleted while converting: the outputs are deleted from the main bucket.
    complete(production.complete_event_for(deleted_job), False, "COMPLETE of a deleted video")
    if (status := video_record(production, ready["videoId"]).get("status")) != "ready":
        raise ScenarioFailed(f"after COMPLETE the video is {status}")
    if (status := video_record(production, failing["videoId"]).get("status")) != "failed":
        raise ScenarioFailed(f"after ERROR the video is {status}")
    if exists(production, production.temp_bucket, ready["key"]):
        raise ScenarioFailed("after COMPLETE the original is still in the temp bucket")
    if left := left_in(production, deleted_folder):
        raise ScenarioFailed(f"after the COMPLETE of a deleted video its files are still in the main bucket: {left}")
    # The sweeper: a job that completed without its event reaching the function; the schedule's
    # event has the function scan for waiting videos, ask GetJob and settle this one.
    production.complete_job(swept_job, duration_ms=9_000)
    outcome = host.invoke(production.schedule_event(), timeout_ms=20_000)
    if outcome.kind != "response":
        raise ScenarioFailed(f"the sweep failed: {outcome.payload}")
    if (status := video_record(production, swept["videoId"]).get("status")) != "ready":
        raise ScenarioFailed(f"after the sweep the video whose job completed is {status}: {outcome.payload}")


SCENARIOS: dict[str, Callable[[Run, Credentials], None]] = {
    "video": video_scenario, "trigger": trigger_scenario, "complete": complete_scenario, "signout": signout_scenario}


def attempt(run: Run, handler: str, statements: list[dict], given: Callable[[list[dict]], list[dict]] = moto_statements
            ) -> tuple[ScenarioFailed | None, str]:
    """Runs `handler`'s scenario with a role of exactly `statements` (resolved, then adapted for
    moto by `given`); returns the failure (None if it passed) and the evidence: the failure, the
    function's logs."""
    credentials = run.role(handler, given(statements))
    try:
        SCENARIOS[handler](run, credentials)
        failure = None
    except ScenarioFailed as error:
        failure = error
    tested = [h for h in run.hosts if h.extra_env.get("AWS_ACCESS_KEY_ID") == credentials.access_key_id]
    for host in tested:
        drain(host)
    return failure, f"{failure}\n" + "\n".join(host.logs() for host in tested)


def drain(host: LambdaHost) -> None:
    """Ends the function the way that flushes its log: the functions' lines are `print`ed, which is
    buffered when stdout is a pipe (only the runtime's own line per invocation is written at once),
    so they would be lost with a kill. With the Runtime API gone, `next` fails and the bootstrap
    exits, flushing them."""
    if host.process is not None and host.process.poll() is None:
        host.api.stop()
        try:
            host.wait_exit(10)
        except Exception:  # noqa: BLE001 - then the lines stay lost, and the assertion says what it saw
            pass
    for reader in host._readers:
        reader.join(timeout=5)


def names_missing_permission(evidence: str, action: str) -> bool:
    """Whether `evidence` names `action` as refused: moto's "is not authorized to perform: <action>"
    (the SQS client's error), or a line of the function's saying a call that needs it was refused
    (`DynamoDB PutItem <table>: AccessDenied (HTTP 403)`, `DeleteObject s3://…: AccessDenied (HTTP 403)`;
    see the module docstring), or the scenario's own words for it."""
    if f"is not authorized to perform: {action}" in evidence or f"({action})" in evidence:
        return True
    service, name = action.split(":", 1)
    operations = S3_OPERATIONS.get(action, ()) if service == "s3" else (f"DynamoDB {name} ",) if service == "dynamodb" else ()
    return any(("AccessDenied" in line or "(HTTP 403)" in line) and any(op in line for op in operations)
               for line in evidence.splitlines())


# -- tests: from the template -----------------------------------------------------------------------------


def test_each_function_has_a_role_of_its_own_with_no_managed_policy(template):
    roles = {handler: template.role(handler) for handler in FUNCTIONS}
    assert len({role.role_id for role in roles.values()}) == len(FUNCTIONS), {h: r.role_id for h, r in roles.items()}
    for handler, role in roles.items():
        assert role.statements, f"{role.role_id} has no statement"
        # Everything the role may do is in its inline policy, which is what the tests below run with.
        assert role.managed_policies == [], (role.role_id, role.managed_policies)


def test_no_allow_statement_has_a_wildcard_action(template):
    offending = []
    for where, statement, _ in template.policy_statements():
        if statement.get("Effect") != "Allow":
            continue  # a Deny with a wildcard (the buckets' TLS-only policies) takes away, grants nothing
        assert "NotAction" not in statement, f"{where}: NotAction grants everything else"
        offending += [f"{where}: {action}" for action in as_list(statement.get("Action", [])) if "*" in action]
    assert offending == []


def test_a_star_resource_only_where_nothing_narrower_exists(template):
    offending = []
    for where, statement, identity in template.policy_statements():
        if not identity or statement.get("Effect") != "Allow":
            continue
        assert "NotResource" not in statement, f"{where}: NotResource grants everything else"
        if "*" in as_list(statement.get("Resource", [])):
            offending += [f"{where}: {action}" for action in as_list(statement.get("Action", []))
                          if action not in STAR_RESOURCE_ALLOWED]
    assert offending == [], "a `*` resource for an action that has narrower ones"


def test_the_function_statements_resolve_to_the_stacks_resources(template, production):
    """Every reference of the functions' policies is bound to a resource of the production peer, and the
    resources are this stack's: the table, the two buckets, the upload queue, MediaConvert's role,
    the active media key's secret, the complete function's dead-letter queue."""
    mine = {f"arn:aws:dynamodb:{production.region}:{production.account_id}:table/{production.table_name}",
            production.temp_bucket_arn, production.main_bucket_arn, production.queue_arn, production.dlq_arn,
            production.mediaconvert_role_arn, media_key_secret_arn(production, "A"),
            function_dead_letter_arn(production, "complete")}
    for handler in FUNCTIONS:
        for statement in resolved(template, production, policy_of(template, handler)):
            for resource in as_list(statement.get("Resource", [])):
                if resource == "*" or resource.startswith(f"arn:aws:mediaconvert:{production.region}:{production.account_id}:"):
                    continue
                # The signout role's pools: see test_the_signout_role_ends_sessions_in_this_accounts_pools_only.
                if resource == f"arn:aws:cognito-idp:{production.region}:{production.account_id}:userpool/*":
                    continue
                assert any(resource == arn or resource.startswith(arn + "/") for arn in mine), (handler, resource)


def test_dynamodb_statements_name_only_the_table(template, production):
    """moto checks DynamoDB actions against `*`, so the tables the functions may reach are checked
    here: the table and its indexes, nothing else."""
    table = f"arn:aws:dynamodb:{production.region}:{production.account_id}:table/{production.table_name}"
    for handler in FUNCTIONS:
        for statement in resolved(template, production, policy_of(template, handler)):
            if any(a.startswith("dynamodb:") for a in as_list(statement["Action"])):
                assert all(a.startswith("dynamodb:") for a in as_list(statement["Action"])), statement
                for resource in as_list(statement["Resource"]):
                    assert resource == table or resource.startswith(table + "/index/"), (handler, resource)


def test_pass_role_names_only_mediaconvert_s_role_for_mediaconvert(template, production):
    """Nothing here checks iam:PassRole when the trigger runs (see the module docstring), so its
    statement is checked as written: MediaConvert's role only, passed to MediaConvert only."""
    found = 0
    for handler in FUNCTIONS:
        for statement in resolved(template, production, policy_of(template, handler)):
            if "iam:PassRole" in as_list(statement["Action"]):
                found += 1
                assert handler == "trigger", statement
                assert as_list(statement["Action"]) == ["iam:PassRole"], statement
                assert as_list(statement["Resource"]) == [production.mediaconvert_role_arn], statement
                passed_to = statement.get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService")
                assert as_list(passed_to) == ["mediaconvert.amazonaws.com"], statement
    assert found == 1


def secret_statements(statements: list[dict]) -> list[dict]:
    return [s for s in statements if any(a.lower().startswith("secretsmanager:") for a in as_list(s["Action"]))]


@pytest.mark.parametrize("active", ["A", "B"])
def test_secrets_manager_statements_name_only_the_active_media_key(template, production, active):
    """moto checks Secrets Manager actions against `*`, so the secrets a function may read are
    checked here: the video function, GetSecretValue, on exactly the active slot's secret (by its
    full ARN, no wildcard) whichever slot that is; no other function reads a secret, and nothing
    asks KMS (Secrets Manager's default key needs no kms:Decrypt of the caller)."""
    arns = {slot: media_key_secret_arn(production, slot) for slot in "AB"}
    parameters = {"ActiveMediaKey": active, "MediaKeyBPublicKey": "-----BEGIN PUBLIC KEY-----\nB\n-----END PUBLIC KEY-----\n",
                  "MediaKeyBSecretArn": arns["B"]}
    for handler in FUNCTIONS:
        statements = resolved(template, production, policy_of(template, handler), parameters)
        assert not [s for s in statements if any(a.lower().startswith("kms:") for a in as_list(s["Action"]))], handler
        found = secret_statements(statements)
        if handler != "video":
            assert found == [], handler
            continue
        [only] = found
        assert (only["Effect"], as_list(only["Action"]), as_list(only["Resource"])) == (
            "Allow", ["secretsmanager:GetSecretValue"], [arns[active]])
        assert "Condition" not in only and "NotResource" not in only


def media_key_secrets(production: ProductionPeer) -> dict[str, str]:
    """Slot A's and slot B's secrets, and an unrelated one, made in moto: name → ARN."""
    client = production.client("secretsmanager")
    made = {}
    for name in ("A", "B", "other"):
        made[name] = client.create_secret(Name=f"video-{production.suffix}/media-key/{name}-{uuid.uuid4().hex[:6]}",
                                          SecretString=f"PEM of {name}")["ARN"]
    return made


def read_secret(production: ProductionPeer, credentials: Credentials, arn: str) -> str:
    client = production.aws.client("secretsmanager", credentials=credentials, retries={"total_max_attempts": 1})
    try:
        return client.get_secret_value(SecretId=arn)["SecretString"]
    except ClientError as error:
        return f"refused: {error}"


def test_the_video_role_reads_the_active_media_key_and_no_other_secret(template, production):
    """The video policy, resolved with real secrets in moto (slot A active, B holding the previous
    key, and a third secret): its one Secrets Manager statement names slot A's secret alone (slot
    B's and the third are not named, so IAM refuses them); in moto, where the statement runs with
    `*` (see the docstring), the role reads slot A's secret, and without the statement it cannot."""
    secrets = media_key_secrets(production)
    parameters = {"MediaKeyASecretArn": secrets["A"], "ActiveMediaKey": "A",
                  "MediaKeyBPublicKey": "-----BEGIN PUBLIC KEY-----\nB\n-----END PUBLIC KEY-----\n", "MediaKeyBSecretArn": secrets["B"]}
    statements = resolved(template, production, policy_of(template, "video"), parameters)
    [grant] = secret_statements(statements)
    assert as_list(grant["Resource"]) == [secrets["A"]]
    assert secrets["B"] not in json.dumps(statements) and secrets["other"] not in json.dumps(statements)
    allowed = assumed_role(production, "video-secret", moto_statements(statements))
    assert read_secret(production, allowed, secrets["A"]) == "PEM of A"
    without = assumed_role(production, "video-no-secret", moto_statements([s for s in statements if s is not grant]))
    refused = read_secret(production, without, secrets["A"])
    assert "is not authorized to perform: secretsmanager:GetSecretValue" in refused, refused


def test_the_signout_role_ends_sessions_in_this_accounts_pools_only(template, production):
    """One action on the account's user pools of the stack's region: the pool names the function as
    its trigger, so the role cannot name the pool itself (a circular dependency; see the template)."""
    statements = resolved(template, production, policy_of(template, "signout"))
    assert statements == [{"Sid": "SignOut", "Effect": "Allow", "Action": "cognito-idp:AdminUserGlobalSignOut",
                           "Resource": f"arn:aws:cognito-idp:{production.region}:{production.account_id}:userpool/*"}]


def test_moto_checks_cognito_actions_against_the_resource_star(template, run):
    """The signout policy as the template has it, scoped to the account's pools: moto refuses it,
    since it matches Cognito's actions against `*`. Should moto learn a pool's ARN, this fails, and
    moto_statements can stop widening Cognito's resources."""
    statements = resolved(template, run.production, policy_of(template, "signout"))
    failure, evidence = attempt(run, "signout", statements, given=lambda s: s)
    assert failure is not None, evidence
    assert names_missing_permission(evidence, "cognito-idp:AdminUserGlobalSignOut"), evidence


def test_moto_checks_secrets_manager_actions_against_the_resource_star(template, production):
    """The video policy as the template has it, the media-key statement scoped to its secret: moto
    refuses even that secret, since it matches Secrets Manager actions against `*`. Should moto
    learn the secret's ARN, this fails; then moto_statements can stop widening the statement, and
    the test above can show slot B's secret refused by moto too."""
    secrets = media_key_secrets(production)
    statements = resolved(template, production, policy_of(template, "video"), {"MediaKeyASecretArn": secrets["A"]})
    credentials = assumed_role(production, "video-scoped", statements)
    refused = read_secret(production, credentials, secrets["A"])
    assert "is not authorized to perform: secretsmanager:GetSecretValue" in refused, refused


def test_not_enforced_lists_only_actions_of_the_template(template):
    granted = {(handler, action) for handler in FUNCTIONS for s in template.role(handler).statements for action in s.actions}
    assert set(NOT_ENFORCED) <= granted, set(NOT_ENFORCED) - granted


# -- tests: the functions with their policies ------------------------------------------------------------------


@pytest.mark.parametrize("handler", FUNCTIONS)
def test_the_function_works_with_exactly_its_policy(template, run, handler):
    failure, evidence = attempt(run, handler, resolved(template, run.production, policy_of(template, handler)))
    assert failure is None, evidence


@needs_template
@pytest.mark.parametrize("removal", ENFORCED_REMOVALS, ids=[r.id for r in ENFORCED_REMOVALS])
def test_the_function_fails_without_any_one_statement_or_action(template, run, removal):
    statements = removal.apply(template.role(removal.function).statements)
    failure, evidence = attempt(run, removal.function, resolved(template, run.production, statements))
    assert failure is not None, f"{removal.function} still works without {removal.removed}\n{evidence}"
    named = [a for a in removal.enforced() if names_missing_permission(evidence, a)]
    if removal.action is not None:
        assert named == [removal.action], f"the failure does not name {removal.action}\n{evidence}"
    else:  # the first use of any of the statement's actions stops the scenario
        assert named, f"the failure names none of {removal.enforced()}\n{evidence}"


@needs_template
@pytest.mark.parametrize("removal", UNENFORCED_REMOVALS, ids=[r.id for r in UNENFORCED_REMOVALS])
def test_not_enforced_actions_are_not_enforced_by_moto(template, run, removal):
    """Keeps NOT_ENFORCED true: without these, the scenario still passes today. Should moto (or the
    fake) start to enforce one, this fails and the action moves to the enforced ones."""
    statements = removal.apply(template.role(removal.function).statements)
    failure, evidence = attempt(run, removal.function, resolved(template, run.production, statements))
    assert failure is None, f"{removal.removed} is enforced now: take it out of NOT_ENFORCED\n{evidence}"


# -- tests: what moto does with policies (the premises above) -------------------------------------------------


def test_moto_checks_dynamodb_actions_against_the_resource_star(template, run):
    """The video policy as the template has it, the DynamoDB statements scoped to the table: moto
    refuses the table's own actions, since it matches them against `*`. Should moto learn the
    table's ARN, this fails, and moto_statements can stop widening DynamoDB's resources."""
    statements = resolved(template, run.production, policy_of(template, "video"))
    failure, evidence = attempt(run, "video", statements, given=lambda s: s)
    assert failure is not None, evidence
    # The first call of every route takes from the caller's request bucket.
    assert names_missing_permission(evidence, "dynamodb:UpdateItem"), evidence


def test_moto_matches_s3_resources(template, run):
    """The video policy with every S3 resource moved to another bucket fails: moto checks S3's
    resources, not only its actions."""
    def elsewhere(resource: str) -> str:
        return re.sub(r"^arn:aws:s3:::[^/]+", "arn:aws:s3:::some-other-bucket", resource)
    statements = [{**s, "Resource": [elsewhere(r) for r in as_list(s["Resource"])]}
                  for s in resolved(template, run.production, policy_of(template, "video"))]
    failure, evidence = attempt(run, "video", statements)
    assert failure is not None and "AccessDenied" in evidence, evidence


@pytest.mark.parametrize("handler", FUNCTIONS)
def test_moto_treats_conditions_as_met(template, run, handler):
    """Every statement given a condition no request meets still grants in moto: conditions are not
    evaluated, so no condition of the template is tested by running the functions."""
    never = {"StringEquals": {"aws:SourceVpc": "vpc-00000000000000000"}}
    statements = [{**s, "Condition": never} for s in resolved(template, run.production, policy_of(template, handler))]
    failure, evidence = attempt(run, handler, statements)
    assert failure is None, evidence
