"""infra/invite, with a fake `aws` on PATH (as infra/deploy is tested in test_infra_template.py):
it reads the stack's UserPoolId output and runs AdminCreateUser with the address as the verified
username and an e-mailed temporary password; each failure is one clear line, and --help explains it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from support import REPO, fake_aws

FAKE_AWS = r"""# A stand-in for the AWS CLI, for infra/invite: the calls it makes, answered from a JSON state file.

service, command = args[0], args[1]
if (service, command) == ("configure", "get"):
    done(code=1)
if (service, command) == ("cloudformation", "describe-stacks"):
    stack = state["stacks"].get(option("--stack-name"))
    if stack is None:
        done(code=255, err="\nAn error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id %s does not exist\n"
             % option("--stack-name"))
    assert "OutputKey=='UserPoolId'" in option("--query"), args
    done(stack.get("UserPoolId", "None") + "\n")
if (service, command) == ("cognito-idp", "admin-create-user"):
    users = state["users"].setdefault(option("--user-pool-id"), {})
    name = option("--username")
    if name in users:
        done(code=254, err="\nAn error occurred (UsernameExistsException) when calling the AdminCreateUser operation: User account already exists\n")
    users[name] = args
    done("FORCE_CHANGE_PASSWORD\n")
done(code=2, err="fake aws: unexpected call %r\n" % (args,))
"""


class Inviter:
    """infra/invite against the fake aws above, with stacks as `stacks` says."""

    def __init__(self, tmp_path: Path, stacks: dict):
        self.state_file, self.env = fake_aws.install(tmp_path, FAKE_AWS, {"stacks": stacks, "users": {}})

    def __call__(self, *arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(REPO / "infra" / "invite"), *arguments], capture_output=True, text=True,
                              timeout=60, env=self.env, check=False)

    @property
    def state(self) -> dict:
        return json.loads(self.state_file.read_text())


@pytest.fixture
def invite(tmp_path):
    return Inviter(tmp_path, {"video": {"UserPoolId": "us-east-1_Pool12345"}, "bare": {}})


def test_invite_makes_the_account_in_the_stacks_pool_and_cognito_mails_the_password(invite):
    result = invite("video", "ana@example.com", "--region", "us-east-1")
    assert result.returncode == 0, result.stderr
    assert "invited ana@example.com to us-east-1_Pool12345" in result.stdout
    created = invite.state["users"]["us-east-1_Pool12345"]["ana@example.com"]
    assert created[created.index("--region") + 1] == "us-east-1"
    attributes = created[created.index("--user-attributes") + 1:created.index("--user-attributes") + 3]
    assert attributes == ["Name=email,Value=ana@example.com", "Name=email_verified,Value=true"]
    assert created[created.index("--desired-delivery-mediums") + 1] == "EMAIL"
    assert "--temporary-password" not in created and "--message-action" not in created


def test_invite_says_clearly_what_went_wrong(invite):
    assert invite("video", "ana@example.com", "--region", "us-east-1").returncode == 0
    again = invite("video", "ana@example.com", "--region", "us-east-1")
    assert (again.returncode, again.stderr) == (1, "error: ana@example.com already has an account in us-east-1_Pool12345\n")
    missing = invite("nope", "bo@example.com", "--region", "us-east-1")
    assert missing.returncode == 1 and missing.stderr.startswith("error: cannot read the stack 'nope' in us-east-1: ")
    assert "does not exist" in missing.stderr
    bare = invite("bare", "bo@example.com", "--region", "us-east-1")
    assert bare.stderr == "error: the stack 'bare' has no UserPoolId output: deploy it with infra/deploy first\n"
    wrong = invite("video", "not-an-address", "--region", "us-east-1")
    assert wrong.stderr == "error: 'not-an-address' is not an e-mail address, like ana@example.com\n"
    region = invite("video", "bo@example.com")
    assert region.stderr == "error: no region: pass --region, or set AWS_REGION\n"
    usage = invite("video")
    assert usage.returncode == 2 and usage.stderr.startswith("Usage: infra/invite STACK EMAIL")
    # Nothing was made by a failed call.
    assert list(invite.state["users"]["us-east-1_Pool12345"]) == ["ana@example.com"]


def test_invite_help_explains_what_it_does():
    result = subprocess.run([str(REPO / "infra" / "invite"), "--help"], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0
    assert "admin-create-user" in result.stdout and "temporary password" in result.stdout and "--region" in result.stdout
