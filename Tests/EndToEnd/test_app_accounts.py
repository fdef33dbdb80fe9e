"""The account pages in a real browser (headless Chromium; the hostile `next` tests in Firefox and
WebKit too) against `site serve` and its local cloud:
sign-up with live password rules, e-mail confirmation, SRP sign-in, MFA set-up from the QR code on
screen, MFA sign-in, wrong codes and passwords, an unconfirmed user, an administrator-made account
choosing its password, forgot password, sessions across
reloads and tabs, refresh of an expired token, sign-out that leaves nothing behind, both languages,
hostile `next` values and a hostile e-mail shown as text. Every step is screenshotted at 390 and
1280 px into .test-output/screenshots/accounts/ (or $SCREENSHOTS_DIR/accounts/), and the console
must report no CSP or Trusted Types violation in the whole run."""

from __future__ import annotations

import time
import urllib.parse
import uuid

import pytest
from selenium.webdriver.common.by import By

from support.app_browser import (decode_qr, field, fill, network_requests, ready, sign_in, sign_out_button, submit,
                                 summary_text, wait_for_path, wait_until)
from support.local_cloud import fresh_totp, register_user, totp

# The tests marked with this run in every engine; the module's others in Chromium only (a module-level
# ENGINES would make them all run in every engine, which is why it is not imported here).
EVERY_ENGINE = ("chromium", "firefox", "webkit")

# conftest's browser, a browser per module; after every test its console is checked.
pytestmark = pytest.mark.usefixtures("no_console_problems")
PASSWORD = "Correct-Horse-9"
TOKEN_LIFETIME = 20
APP_ARGS = ("--token-lifetime", str(TOKEN_LIFETIME))  # conftest's app: tokens that run out during the suite


def storage_traces(driver) -> dict:
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        (async () => done({
          local: localStorage.length, session: sessionStorage.length, cookies: document.cookie,
          databases: (await indexedDB.databases()).map(d => d.name),
        }))();""")


def test_sign_up_confirm_and_set_up_mfa_from_the_qr_code(app, browser, screens):
    email = f"new-{int(time.time())}@example.com"
    browser.get(app.url + "/signup/")
    ready(browser)
    screens.take(browser, "01-signup")

    # The rules tick as they are met; a weak password is refused before anything is sent.
    fill(browser, "email", email)
    fill(browser, "password", "horse")
    met = {e.get_attribute("data-rule") for e in browser.find_elements(By.CSS_SELECTOR, ".rules li.met")}
    assert met == {"lowercase", "spaces"}, met
    toggle = browser.find_element(By.CSS_SELECTOR, "button.toggle")
    toggle.click()
    assert field(browser, "password").get_attribute("type") == "text" and toggle.get_attribute("aria-pressed") == "true"
    submit(browser, "sign-up")
    assert "regras" in summary_text(browser)
    assert field(browser, "password").get_attribute("aria-invalid") == "true"
    assert "password-error" in field(browser, "password").get_attribute("aria-describedby")
    assert browser.switch_to.active_element.get_attribute("id") == "form-error", "focus moves to the summary"
    screens.take(browser, "02-signup-weak-password")
    fill(browser, "password", PASSWORD)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".rules li.met")) == 6
    screens.take(browser, "03-signup-rules-met")
    submit(browser, "sign-up")

    # Confirmation: the code is sent; a wrong code is refused; the right one confirms.
    wait_for_path(browser, "/confirm/")
    ready(browser)
    assert email in field(browser, "notice").text
    assert field(browser, "email").get_attribute("value") == email
    assert field(browser, "resend").get_attribute("disabled"), "resend cools down after a code was sent"
    screens.take(browser, "04-confirm")
    fill(browser, "code", "000 000")
    submit(browser, "confirm")
    assert "Código incorreto" in summary_text(browser)
    screens.take(browser, "05-confirm-wrong-code")
    code = app.cloud.latest_code(email, "confirmation")
    fill(browser, "code", f"{code[:3]} {code[3:]}")  # pasted with a space
    submit(browser, "confirm")

    # Sign-in: first a wrong password, then the right one, which leads to MFA set-up.
    wait_for_path(browser, "/login/")
    ready(browser)
    assert "confirmado" in field(browser, "notice").text
    screens.take(browser, "06-login-after-confirm")
    fill(browser, "password", "Wrong-Horse-9")
    submit(browser, "sign-in")
    assert "incorretos" in summary_text(browser)
    screens.take(browser, "07-login-wrong-password")
    fill(browser, "password", PASSWORD)
    submit(browser, "sign-in")
    wait_for_path(browser, "/mfa-setup/")
    ready(browser)
    qr = wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "#qr svg"), what="the QR code")
    screens.take(browser, "08-mfa-setup")
    shot = screens.folder_for(browser) / "qr.png"
    qr.screenshot(str(shot))
    uri = decode_qr(shot)
    parsed = urllib.parse.urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert urllib.parse.unquote(parsed.path) == f"/SStech:{email}"
    query = urllib.parse.parse_qs(parsed.query)
    secret = query["secret"][0]
    assert query["issuer"] == ["SStech"]
    assert field(browser, "secret").text.replace(" ", "") == secret

    fill(browser, "code", totp(secret, step_offset=40))
    submit(browser, "verify")
    assert "relógio" in summary_text(browser)
    screens.take(browser, "09-mfa-setup-wrong-code")
    used = set()
    fill(browser, "code", fresh_totp(secret, used))
    submit(browser, "verify")
    wait_for_path(browser, "/library/")
    ready(browser)
    wait_until(lambda: browser.find_element(By.ID, "empty").is_displayed(), what="the empty library")
    assert field(browser, "who-email").text == email
    screens.take(browser, "10-library-signed-in")
    pytest.user = {"email": email, "secret": secret, "used": used}


def test_a_reload_keeps_the_session_and_a_new_tab_does_not(app, browser):
    browser.refresh()
    ready(browser)
    assert browser.execute_script("return location.pathname") == "/library/"
    assert field(browser, "who-email").text == pytest.user["email"]
    original = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(app.url + "/library/")
    wait_for_path(browser, "/login/?next=%2Flibrary%2F")
    browser.close()
    browser.switch_to.window(original)


def test_an_expired_access_token_is_refreshed_without_the_user_noticing(app, browser):
    network_requests(browser)  # forget what came before
    started = time.monotonic()
    # The tokens live 20 s. The library, with nothing on its way, asks the API again when the tab
    # comes back into view: after 32 s that call must go out with a refreshed token.
    time.sleep(TOKEN_LIFETIME * 1.6)
    browser.execute_script("document.dispatchEvent(new Event('visibilitychange'))")
    time.sleep(2)
    requests = network_requests(browser)
    assert browser.execute_script("return location.pathname") == "/library/"
    refreshes = [r for r in requests
                 if r.get("headers", {}).get("X-Amz-Target", "").endswith(".GetTokensFromRefreshToken")]
    assert refreshes, "the app refreshed its tokens before they expired"
    statuses = {r["id"]: r["response"] for r in requests if "response" in r}
    api_calls = [r for r in requests if r.get("method") == "GET" and r.get("url", "").endswith("/api/videos")]
    assert api_calls and all(statuses.get(r["id"]) == 200 for r in api_calls), (api_calls, statuses)
    assert not field(browser, "notice").text, "no failure was shown"
    assert time.monotonic() - started > TOKEN_LIFETIME


def test_sign_out_leaves_nothing_behind(app, browser, screens):
    sign_out_button(browser).click()
    wait_for_path(browser, "/login/")
    ready(browser)
    assert "apagados" in field(browser, "notice").text
    screens.take(browser, "11-signed-out")
    traces = storage_traces(browser)
    # The notice itself was taken on arrival; nothing else is left.
    assert traces == {"local": 0, "session": 0, "cookies": "", "databases": []}, traces
    browser.get(app.url + "/library/")
    wait_for_path(browser, "/login/?next=%2Flibrary%2F")


def test_later_sign_ins_ask_for_the_code_and_a_wrong_code_can_be_retried(app, browser, screens):
    user = pytest.user
    browser.get(app.url + "/login/?next=%2Fupload%2F")
    ready(browser)
    fill(browser, "email", user["email"])
    fill(browser, "password", PASSWORD)
    submit(browser, "sign-in")
    wait_for_path(browser, "/mfa/?next=%2Fupload%2F")
    ready(browser)
    screens.take(browser, "12-mfa")
    fill(browser, "code", totp(user["secret"], step_offset=40))
    submit(browser, "mfa")
    assert "Código incorreto" in summary_text(browser)
    screens.take(browser, "13-mfa-wrong-code")
    fill(browser, "code", fresh_totp(user["secret"], user["used"]))
    submit(browser, "mfa")
    wait_for_path(browser, "/upload/")
    ready(browser)
    # A signed-in user visiting a guest page goes to the library.
    browser.get(app.url + "/signup/")
    wait_for_path(browser, "/library/")
    sign_out_button(browser).click()
    wait_for_path(browser, "/login/")


def test_an_unconfirmed_user_is_sent_to_confirm(app, browser, screens):
    email = f"unconfirmed-{int(time.time())}@example.com"
    client = app.cloud.cognito()
    client.sign_up(ClientId=app.cloud.client_id, Username=email, Password=PASSWORD,
                   UserAttributes=[{"Name": "email", "Value": email}])
    browser.get(app.url + "/login/")
    ready(browser)
    fill(browser, "email", email)
    fill(browser, "password", PASSWORD)
    submit(browser, "sign-in")
    wait_for_path(browser, "/confirm/")
    ready(browser)
    assert "Confirme seu e-mail" in field(browser, "notice").text
    screens.take(browser, "14-unconfirmed-sent-to-confirm")
    fill(browser, "code", app.cloud.latest_code(email, "confirmation"))
    submit(browser, "confirm")
    wait_for_path(browser, "/login/")


def test_forgot_password_end_to_end(app, browser, screens):
    user = register_user(app.cloud, f"forgot-{int(time.time())}@example.com", PASSWORD)
    browser.get(app.url + "/forgot-password/")
    ready(browser)
    screens.take(browser, "15-forgot")
    fill(browser, "email", user["email"])
    submit(browser, "request")
    wait_until(lambda: field(browser, "reset").is_displayed(), what="the reset form")
    assert "Código enviado" in field(browser, "notice").text
    fill(browser, "code", app.cloud.latest_code(user["email"], "reset"))
    fill(browser, "password", "weak")
    submit(browser, "reset")
    summary_text(browser)
    screens.take(browser, "16-forgot-reset-weak")
    new_password = "Battery-Staple-7"
    fill(browser, "password", new_password)
    submit(browser, "reset")
    wait_for_path(browser, "/login/")
    ready(browser)
    assert "Senha alterada" in field(browser, "notice").text
    assert field(browser, "email").get_attribute("value") == user["email"]
    sign_in(browser, app, user["email"], new_password, user["secret"], user["used"])
    sign_out_button(browser).click()
    wait_for_path(browser, "/login/")


def test_english_pages_next_and_the_language_switch(app, browser, screens):
    user = register_user(app.cloud, f"english-{int(time.time())}@example.com", PASSWORD)
    browser.get(app.url + "/en/library/")
    wait_for_path(browser, "/en/login/?next=%2Fen%2Flibrary%2F")
    ready(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Sign in"
    switch = browser.find_element(By.CSS_SELECTOR, ".languages a[hreflang=pt-BR]")
    assert switch.get_attribute("href").endswith("/login/?next=%2Fen%2Flibrary%2F"), "the switch keeps the query"
    fill(browser, "email", user["email"])
    fill(browser, "password", "Wrong-Horse-9")
    submit(browser, "sign-in")
    assert "Incorrect e-mail or password" in summary_text(browser)
    screens.take(browser, "17-en-login-wrong-password")
    fill(browser, "password", PASSWORD)
    submit(browser, "sign-in")
    wait_for_path(browser, "/en/mfa/?next=%2Fen%2Flibrary%2F")
    ready(browser)
    fill(browser, "code", fresh_totp(user["secret"], user["used"]))
    submit(browser, "mfa")
    wait_for_path(browser, "/en/library/")
    ready(browser)
    screens.take(browser, "18-en-library")
    sign_out_button(browser).click()
    wait_for_path(browser, "/en/login/")
    assert "signed out" in field(browser, "notice").text


@pytest.mark.engines(*EVERY_ENGINE)
@pytest.mark.parametrize("hostile", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
                                     # dot segments the browser removes, leaving //evil.example
                                     "/.//evil.example/", "/a/..//evil.example/", "/%2e%2e//evil.example/",
                                     "/library/../..//evil.example/",
                                     # an encoded slash a decoding server or proxy would read as /
                                     "/%2F%2Fevil.example/"])
def test_a_hostile_next_lands_on_the_library(app, browser, hostile):
    # A user of its own, whose next TOTP step is free at once.
    user = register_user(app.cloud, f"next-{uuid.uuid4().hex[:8]}@example.com", PASSWORD)
    query = "?next=" + urllib.parse.quote(hostile, safe="!*'()")  # as encodeURIComponent writes it
    browser.get(app.url + "/login/" + query)
    ready(browser)
    fill(browser, "email", user["email"])
    fill(browser, "password", PASSWORD)
    submit(browser, "sign-in")
    wait_for_path(browser, "/mfa/" + query)
    ready(browser)
    fill(browser, "code", fresh_totp(user["secret"], user["used"]))
    submit(browser, "mfa")
    wait_for_path(browser, "/library/")
    assert browser.execute_script("return location.origin") == app.url
    sign_out_button(browser).click()
    wait_for_path(browser, "/login/")


@pytest.mark.engines(*EVERY_ENGINE)
def test_a_signed_in_user_sent_to_sign_in_with_a_hostile_next_stays_on_the_site(app, browser):
    # A guest page sends a signed-in user on to `next` at once: each form must land on the library.
    user = register_user(app.cloud, f"next-in-{uuid.uuid4().hex[:8]}@example.com", PASSWORD)
    sign_in(browser, app, user["email"], PASSWORD, user["secret"], user["used"])
    for hostile in ["/.//evil.example/", "/a/..//evil.example/", "/%2e%2e//evil.example/", "/x/%2E%2E//evil.example/",
                    "/library/../..//evil.example/", "/./\\evil.example", "/\t/evil.example", "/%2F%2Fevil.example/",
                    "/%5C%5Cevil.example/", "//evil.example/", "/\\evil.example", "https://evil.example/"]:
        browser.get(app.url + "/library/")  # a different page first, so the wait below sees the move
        ready(browser)
        browser.get(app.url + "/login/?next=" + urllib.parse.quote(hostile, safe="!*'()"))
        wait_for_path(browser, "/library/")
        assert browser.execute_script("return location.origin") == app.url, f"left the site for {hostile!r}"
    sign_out_button(browser).click()
    wait_for_path(browser, "/login/")


def test_a_hostile_email_is_shown_as_text(app, browser, screens):
    email = '"<img/src=x/onerror=alert(1)>"@example.com'
    browser.get(app.url + "/signup/")
    ready(browser)
    fill(browser, "email", email)
    fill(browser, "password", PASSWORD)
    submit(browser, "sign-up")
    wait_for_path(browser, "/confirm/")
    ready(browser)
    screens.take(browser, "19-hostile-email-confirm")
    assert not browser.find_elements(By.CSS_SELECTOR, "main img")
    fill(browser, "code", app.cloud.latest_code(email, "confirmation"))
    submit(browser, "confirm")
    wait_for_path(browser, "/login/")
    ready(browser)
    fill(browser, "password", PASSWORD)
    submit(browser, "sign-in")
    wait_for_path(browser, "/mfa-setup/")
    ready(browser)
    wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "#qr svg"), what="the QR code")
    secret = field(browser, "secret").text.replace(" ", "")
    label = browser.find_element(By.CSS_SELECTOR, "#qr svg").get_attribute("aria-label")
    assert email in label
    fill(browser, "code", totp(secret))
    submit(browser, "verify")
    wait_for_path(browser, "/library/")
    ready(browser)
    assert field(browser, "who-email").text == email
    assert not browser.find_elements(By.CSS_SELECTOR, "header img:not(.brand img)")
    screens.take(browser, "20-hostile-email-header")
    sign_out_button(browser).click()
    wait_for_path(browser, "/login/")


def test_an_account_made_by_an_administrator_chooses_its_password_then_sets_up_mfa(app, browser, screens):
    email = f"admin-made-{int(time.time())}@example.com"
    app.cloud.cognito_admin().admin_create_user(
        UserPoolId=app.cloud.user_pool_id, Username=email, TemporaryPassword="Temporary-Pass-1",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS")
    browser.get(app.url + "/login/")
    ready(browser)
    fill(browser, "email", email)
    fill(browser, "password", "Temporary-Pass-1")
    submit(browser, "sign-in")
    wait_until(lambda: field(browser, "new-password").is_displayed(), what="the new-password step")
    assert browser.switch_to.active_element.get_attribute("id") == "new-password-input"
    fill(browser, "new-password-input", "short")
    submit(browser, "new-password")
    assert "regras" in summary_text(browser)
    screens.take(browser, "21-new-password-required")
    fill(browser, "new-password-input", "Chosen-Pass-2")
    submit(browser, "new-password")
    wait_for_path(browser, "/mfa-setup/")
    ready(browser)
    wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "#qr svg"), what="the QR code")
    fill(browser, "code", totp(field(browser, "secret").text.replace(" ", "")))
    submit(browser, "verify")
    wait_for_path(browser, "/library/")
    sign_out_button(browser).click()
    wait_for_path(browser, "/login/")


def test_the_whole_run_had_no_policy_violation(browser):
    # Each test checked its own stretch of the console; this one says so for the record.
    assert browser.problems == []
