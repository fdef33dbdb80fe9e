"""infra/limits, with a fake `aws` on PATH (as test_infra_invite.py tests infra/invite): it finds the
stack's user pool and video table, the user's sub, and sets the values given on the item
{sub, id: "limits"} with update-item; the call it makes is then applied to moto's DynamoDB, so the
expression is one DynamoDB takes, and the item is what the functions read (DynamoDBLibrary)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from support import REPO, fake_aws

SUB = "11111111-2222-4333-8444-555555555555"

FAKE_AWS = r"""# A stand-in for the AWS CLI, for infra/limits: the calls it makes, recorded; answers for one stack.
with open(state_file, "w") as f:
    json.dump(state, f)

service, command = args[0], args[1]
if (service, command) == ("configure", "get"):
    sys.exit(1)
if (service, command) == ("cloudformation", "describe-stacks"):
    if option("--stack-name") != "video":
        sys.stderr.write("An error occurred (ValidationError): Stack with id %s does not exist\n" % option("--stack-name"))
        sys.exit(255)
    print("eu-west-1_Pool")
elif (service, command) == ("cloudformation", "describe-stack-resource"):
    assert option("--logical-resource-id") == "VideoTable", args
    print("video-VideoTable-ABC")
elif (service, command) == ("cognito-idp", "admin-get-user"):
    if option("--username") != "ana@example.com":
        sys.stderr.write("An error occurred (UserNotFoundException): User does not exist.\n")
        sys.exit(254)
    print("SUB_HERE")
elif (service, command) in (("dynamodb", "update-item"), ("dynamodb", "get-item")):
    print("{}")
else:
    sys.stderr.write("fake aws: unexpected call %r\n" % (args,))
    sys.exit(2)
""".replace("SUB_HERE", SUB)


@pytest.fixture
def limits(tmp_path: Path):
    state, env = fake_aws.install(tmp_path, FAKE_AWS, {})
    env["AWS_REGION"] = "eu-west-1"

    def run(*arguments: str):
        done = subprocess.run([str(REPO / "infra" / "limits"), *arguments], capture_output=True, text=True,
                              timeout=60, env=env, check=False)
        return done, json.loads(state.read_text())["calls"]
    return run


def option(call: list[str], name: str) -> str:
    return call[call.index(name) + 1]


@mock_aws
def test_the_values_given_are_set_on_the_users_limits_item_and_the_others_kept(limits):
    done, calls = limits("video", "ana@example.com", "--stored-gib", "500", "--minutes", "1200")
    assert done.returncode == 0, done
    update = calls[-1]
    assert update[:2] == ["dynamodb", "update-item"] and option(update, "--table-name") == "video-VideoTable-ABC"
    assert json.loads(option(update, "--key")) == {"sub": {"S": SUB}, "id": {"S": "limits"}}
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    dynamodb.create_table(TableName="videos", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "sub", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}],
                          AttributeDefinitions=[{"AttributeName": "sub", "AttributeType": "S"}, {"AttributeName": "id", "AttributeType": "S"}])
    key = json.loads(option(update, "--key"))
    dynamodb.put_item(TableName="videos", Item={**key, "videos": {"N": "7"}})

    def apply(call):
        dynamodb.update_item(TableName="videos", Key=json.loads(option(call, "--key")),
                             UpdateExpression=option(call, "--update-expression"),
                             ExpressionAttributeNames=json.loads(option(call, "--expression-attribute-names")),
                             ExpressionAttributeValues=json.loads(option(call, "--expression-attribute-values")))
    apply(update)
    item = dynamodb.get_item(TableName="videos", Key=key)["Item"]
    assert item == {**key, "storedGiB": {"N": "500"}, "minutesPerMonth": {"N": "1200"}, "videos": {"N": "7"}}
    _, calls = limits("video", "ana@example.com", "--largest-gib", "0")
    apply(calls[-1])
    assert dynamodb.get_item(TableName="videos", Key=key)["Item"]["largestGiB"] == {"N": "0"}


def test_without_values_it_reads_the_item(limits):
    done, calls = limits("video", "ana@example.com")
    assert done.returncode == 0, done
    assert calls[-1][:2] == ["dynamodb", "get-item"] and "--consistent-read" in calls[-1]


@pytest.mark.parametrize("arguments, message", [
    (("video", "ana@example.com", "--videos", "many"), "--videos must be a whole number"),
    (("video", "bo@example.com", "--videos", "3"), "no user bo@example.com"),
    (("other", "ana@example.com", "--videos", "3"), "cannot read the stack 'other'"),
    (("video", "ana@example.com", "--colour", "3"), "unknown option --colour"),
])
def test_each_failure_is_one_clear_line_and_writes_nothing(limits, arguments, message):
    done, calls = limits(*arguments)
    assert done.returncode != 0 and message in done.stderr, done
    assert not any(call[:2] == ["dynamodb", "update-item"] for call in calls)


def test_help_names_every_value(limits):
    done, _ = limits("--help")
    assert done.returncode == 0
    for flag in ("--stored-gib", "--videos", "--largest-gib", "--minutes", "--region"):
        assert flag in done.stdout
