"""Who may have an account, in a real browser (headless Chromium) against `site serve` whose
site.yml says `signup: invite` for the local environment: the app offers no sign-up (no link on the
home and sign-in pages, /signup/ says sign-up is closed and accounts are by invitation, in both
languages), the local cloud refuses SignUp as production's pool does, and an invitation made with
`site cloud invite` works end to end: the temporary password from the mailbox signs in, the invited
person chooses a password, sets up TOTP and reaches the library. Screenshots go to
.test-output/screenshots/invitations/."""

from __future__ import annotations

import subprocess
import time

import pytest
from botocore.exceptions import ClientError
from selenium.webdriver.common.by import By

from support.app_browser import field, fill, ready, submit, wait_for_path, wait_until
from support.local_cloud import LocalCloud, totp
from support.site import Served, built_site, starter_copy

pytestmark = pytest.mark.usefixtures("no_console_problems")


class InvitationServer:
    """`site serve` of the starter app with `signup: invite` in its local environment."""

    def __init__(self, root):
        project = starter_copy(root / "project")
        config = project / "site" / "site.yml"
        text = config.read_text()
        assert "\n  local:\n" in text
        config.write_text(text.replace("\n  local:\n", "\n  local:\n    signup: invite\n", 1))
        self.data = root / "cloud"
        self.served = Served(project, "--cloud-port", "0", "--cloud-data", str(self.data))
        self.url = self.served.url
        self.cloud = LocalCloud.attached_to(self.served, self.data)

    def stop(self):
        self.served.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    built_site()
    server = InvitationServer(tmp_path_factory.mktemp("invitations"))
    yield server
    server.stop()


@pytest.mark.parametrize("language, closed, invitation", [
    ("", "O cadastro está fechado", "As contas são por convite"),
    ("/en", "Sign-up is closed", "Accounts are by invitation"),
])
def test_the_app_offers_no_sign_up_and_says_accounts_are_by_invitation(app, browser, language, closed, invitation):
    browser.get(f"{app.url}{language}/login/")
    ready(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "a[href$='/signup/']")
    browser.get(f"{app.url}{language}/")
    assert not browser.find_elements(By.CSS_SELECTOR, "a[href$='/signup/']")
    browser.get(f"{app.url}{language}/signup/")
    ready(browser)
    notice = field(browser, "sign-up-closed").text
    assert closed in notice and invitation in notice
    assert not browser.find_elements(By.ID, "sign-up")


def test_the_local_cloud_refuses_sign_up_as_production_does(app):
    with pytest.raises(ClientError) as refused:
        app.cloud.cognito().sign_up(ClientId=app.cloud.client_id, Username="walk-in@example.com", Password="Correct-Horse-9",
                                    UserAttributes=[{"Name": "email", "Value": "walk-in@example.com"}])
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_an_invited_person_signs_in_with_the_mailed_password_chooses_one_and_sets_up_totp(app, browser):
    email = f"invited-{int(time.time())}@example.com"
    result = subprocess.run([str(built_site()), "cloud", "--data", str(app.data), "invite", email],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    temporary = app.cloud.latest_code(email, "invitation")
    browser.get(app.url + "/en/login/")
    ready(browser)
    fill(browser, "email", email)
    fill(browser, "password", temporary)
    submit(browser, "sign-in")
    wait_until(lambda: field(browser, "new-password").is_displayed(), what="the new-password step")
    fill(browser, "new-password-input", "Chosen-Pass-2")
    submit(browser, "new-password")
    wait_for_path(browser, "/en/mfa-setup/")
    ready(browser)
    wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "#qr svg"), what="the QR code")
    fill(browser, "code", totp(field(browser, "secret").text.replace(" ", "")))
    submit(browser, "verify")
    wait_for_path(browser, "/en/library/")
    field(browser, "sign-out").click()
    wait_for_path(browser, "/en/login/")
