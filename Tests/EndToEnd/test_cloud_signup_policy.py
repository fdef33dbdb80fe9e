"""Who may have an account, in the local cloud: `site cloud --signup invite|closed` refuses Cognito's
SignUp as a user pool with AllowAdminCreateUserOnly does (boto3 sees AWS's error), and
`site cloud invite EMAIL` makes the account an administrator would, with its temporary password
in the mailbox: that password signs in to the NEW_PASSWORD_REQUIRED challenge."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError

from support.local_cloud import LocalCloud
from support.site import built_site

try:
    from pycognito.aws_srp import AWSSRP
    from pycognito.exceptions import ForceChangePasswordException
except ImportError as missing:  # pragma: no cover - the environment is expected to have it
    pytest.skip(f"needs pycognito: {missing}", allow_module_level=True)


@pytest.fixture(scope="module", params=["invite", "closed"])
def cloud(request, tmp_path_factory):
    with LocalCloud(built_site(), tmp_path_factory.mktemp("cloud"), extra_args=("--signup", request.param)) as started:
        yield started


def invite(cloud, email: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(built_site()), "cloud", "--data", str(cloud.data), "invite", email],
                          capture_output=True, text=True, timeout=60)


def test_sign_up_is_refused_as_aws_refuses_it_when_only_administrators_make_accounts(cloud):
    with pytest.raises(ClientError) as refused:
        cloud.cognito().sign_up(ClientId=cloud.client_id, Username="someone@example.com", Password="Correct-Horse-9",
                                UserAttributes=[{"Name": "email", "Value": "someone@example.com"}])
    assert refused.value.response["Error"] == {"Code": "NotAuthorizedException",
                                               "Message": "SignUp is not permitted for this user pool"}
    assert not [m for m in cloud.mailbox() if m["to"] == "someone@example.com"]


def test_an_invitation_mails_a_temporary_password_that_asks_for_a_new_one(cloud):
    email = f"invited-{uuid.uuid4().hex[:8]}@example.com"
    result = invite(cloud, email)
    assert result.returncode == 0, result.stderr
    assert f"invited {email}" in result.stdout
    temporary = cloud.latest_code(email, "invitation")
    srp = AWSSRP(username=email, password=temporary, pool_id=cloud.user_pool_id, client_id=cloud.client_id,
                 client=cloud.cognito())
    with pytest.raises(ForceChangePasswordException):
        srp.authenticate_user()


def test_inviting_an_existing_account_or_no_address_is_a_clear_error(cloud):
    email = f"twice-{uuid.uuid4().hex[:8]}@example.com"
    assert invite(cloud, email).returncode == 0
    again = invite(cloud, email)
    assert again.returncode == 1
    assert again.stderr.strip() == f"error: cannot invite {email}: an account with this e-mail already exists"
    wrong = invite(cloud, "not-an-address")
    assert wrong.returncode != 0 and "'not-an-address' is not an e-mail address" in wrong.stderr
