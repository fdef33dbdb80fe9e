"""The whole journey of a new user, in each browser engine (Chromium, Firefox, WebKit; conftest.py's
ENGINES), against the app started exactly as the README's first command starts it (`scripts/run`, read out of the README, with only its ports and the
local cloud's data folder made free for the test):

sign up → the code from the local mailbox → confirm → sign in → MFA set-up from the QR code on
screen (decoded off a screenshot, the TOTP computed here) → the empty library → upload a real 20 s
clip with sound and a 300 MiB video (multipart) together → both reach `ready` → play one
(`currentTime` advances, no media error) → sign out → sign in with MFA → delete a video → sign out.

Each step is screenshotted at 390 and 1280 px into .test-output/screenshots/journey/ (or
$SCREENSHOTS_DIR/journey/; Firefox's and WebKit's into journey-firefox/ and journey-webkit/), and the
browser console must show no error and no CSP or Trusted Types report from start to end (as far as
each engine lets a test see its console: support/firefox.py, support/webkit.py)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from support import REPO
from support.app_browser import (COUNT_DIGESTS, SCREENSHOTS, Screens, card, choose, console_problems, decode_qr, field, fill,
                                 main_thread_digests, network_requests, open_page, open_upload, ready, submit, upload_row,
                                 wait_card_status, wait_for_path, wait_row_state, wait_until)
from support.files import make_clip
from support.local_cloud import LocalCloud, fresh_totp

pytestmark = pytest.mark.early  # a long file: started first (conftest.py)
ENGINES = ("chromium", "firefox", "webkit")  # the whole journey in each engine (conftest.py)
MiB = 1024 * 1024
PASSWORD = "Correct-Horse-9"


def readme_commands() -> list[str]:
    """The commands of the README's first ```sh block, each line's text before its `#` comment."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"^```sh\n(.*?)^```", text, re.S | re.M)
    assert block, "README.md has no ```sh block"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [command for command in commands if command]


class ReadmeServe:
    """The README's first command, run from the repository with free ports and its own data folder."""

    def __init__(self, data: Path, timeout: float = 1200.0):
        command = readme_commands()[0]
        self.argv = shlex.split(command) + ["--port", "0", "--cloud-port", "0", "--cloud-data", str(data)]
        self.lines: list[str] = []
        self.process = subprocess.Popen(self.argv, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.url = None
        self.cloud = LocalCloud.attached(data, [])
        deadline = time.monotonic() + timeout  # the command builds `site` first if it is not built yet
        built = False
        while self.url is None or not built or len(self.cloud.endpoints) < 7:
            line = self.process.stdout.readline()
            assert line and time.monotonic() < deadline, f"`{command}` did not start:\n" + "".join(self.lines[-40:])
            self.lines.append(line)
            if line.startswith("site: "):
                self.url = line.split(" ", 1)[1].strip().rstrip("/")
            self.cloud.read_endpoint(line)
            built = built or line.startswith(("rebuilt (start)", "build failed (start)"))
        assert not any(line.startswith("build failed") for line in self.lines), "".join(self.lines)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def stop(self) -> int:
        """Ctrl-C, as a user stops it."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="module")
def served(tmp_path_factory, engine):
    """The README's command, one per engine (each engine's journey ends by stopping its own)."""
    server = ReadmeServe(tmp_path_factory.mktemp(f"journey-{engine}") / "cloud")
    yield server
    server.stop()


def console_errors(driver) -> list[str]:
    """Every console entry of level SEVERE (errors, failed loads) and every policy report."""
    entries = driver.get_log("browser")
    problems = [e.get("message", "") for e in entries if e.get("level") == "SEVERE"]
    # console_problems reads the log again; keep its patterns by checking the messages we hold.
    problems += [m for m in (e.get("message", "") for e in entries)
                 if re.search(r"Content.Security.Policy|Trusted ?Type|Refused to", m, re.I) and m not in problems]
    return problems


def make_big_video(path: Path, size: int) -> Path:
    """A real video with sound of at least `size` bytes: noisy 640x360 frames in MPEG-4 at the
    highest quality (about 60 Mbit/s), long enough to pass `size`."""
    seconds = 45
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi",
                    "-i", f"testsrc2=duration={seconds}:size=640x360:rate=25,noise=alls=60:allf=t",
                    "-f", "lavfi", "-i", f"sine=frequency=330:duration={seconds}",
                    "-c:v", "mpeg4", "-q:v", "1", "-c:a", "mp2", "-shortest", str(path)], check=True, timeout=300)
    assert path.stat().st_size >= size, path.stat().st_size
    return path


def sign_in_with_mfa(driver, served, email, secret, used):
    open_page(driver, served, "/login/")
    fill(driver, "email", email)
    fill(driver, "password", PASSWORD)
    submit(driver, "sign-in")
    wait_for_path(driver, "/mfa/")
    ready(driver)
    fill(driver, "code", fresh_totp(secret, used))
    submit(driver, "mfa")
    wait_for_path(driver, "/library/")
    ready(driver)


def sign_out(driver):
    field(driver, "sign-out").click()
    wait_for_path(driver, "/login/")
    ready(driver)


def test_a_new_user_signs_up_uploads_watches_and_deletes(served, browser, tmp_path):
    screens = Screens(SCREENSHOTS / "journey")
    print(f"screenshots: {screens.folder_for(browser)}")
    problems: list[str] = []

    traffic: list[dict] = []  # every request and response of the run (reading the log drains it)

    def step(name: str):
        screens.take(browser, name)
        traffic.extend(network_requests(browser))
        problems.extend(f"{name}: {message}" for message in console_errors(browser))

    # The app answers, and so does the local cloud beside it.
    with urllib.request.urlopen(served.url + "/", timeout=10) as response:
        assert response.status == 200
    assert isinstance(served.cloud.mailbox(), list)

    # Sign up.
    email = f"ana-{uuid.uuid4().hex[:6]}@example.com"
    browser.get(served.url + "/")
    ready(browser)
    step("01-first-visit")
    open_page(browser, served, "/signup/")
    fill(browser, "email", email)
    fill(browser, "password", PASSWORD)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".rules li.met")) == 6
    step("02-sign-up")
    submit(browser, "sign-up")

    # The code from the local mailbox confirms the address.
    wait_for_path(browser, "/confirm/")
    ready(browser)
    assert email in field(browser, "notice").text
    step("03-confirm")
    fill(browser, "code", served.cloud.latest_code(email, "confirmation"))
    submit(browser, "confirm")

    # Sign in; the first sign-in sets up MFA from the QR code on screen.
    wait_for_path(browser, "/login/")
    ready(browser)
    fill(browser, "password", PASSWORD)
    step("04-sign-in")
    submit(browser, "sign-in")
    wait_for_path(browser, "/mfa-setup/")
    ready(browser)
    qr = wait_until(lambda: browser.find_element(By.CSS_SELECTOR, "#qr svg"), what="the QR code")
    step("05-mfa-setup")
    shot = screens.folder_for(browser) / "qr.png"
    qr.screenshot(str(shot))
    uri = urllib.parse.urlparse(decode_qr(shot))
    assert uri.scheme == "otpauth" and urllib.parse.unquote(uri.path) == f"/SStech:{email}"
    secret = urllib.parse.parse_qs(uri.query)["secret"][0]
    used: set[str] = set()
    fill(browser, "code", fresh_totp(secret, used))
    submit(browser, "verify")

    # The library is empty and leads to the upload page.
    wait_for_path(browser, "/library/")
    ready(browser)
    empty = wait_until(lambda: (e := field(browser, "empty")).is_displayed() and e, 20, "the empty library")
    assert field(browser, "who-email").text == email
    step("06-library-empty")
    empty.find_element(By.CSS_SELECTOR, "a.button").click()
    wait_for_path(browser, "/upload/")
    open_upload(browser, served)
    # Read the page's requests from its start: in Firefox and WebKit that also makes the page keep
    # every request's entry (a page keeps only its first 150 to 250 unless told).
    traffic.extend(network_requests(browser))

    # A 20 s clip with sound and a 300 MiB video, chosen together; the page hashes them in its
    # worker, never on its main thread.
    clip = make_clip(tmp_path / "Férias na praia.avi")
    big = make_big_video(tmp_path / "Casamento — câmera A.mkv", 300 * MiB)
    browser.execute_script(COUNT_DIGESTS)
    choose(browser, clip, big)
    wait_row_state(browser, clip.name, "done", timeout=60)
    wait_until(lambda: upload_row(browser, big.name).get_attribute("data-state") in ("uploading", "done"), 30,
               "the big upload to start")
    step("07-uploading")
    wait_row_state(browser, big.name, "done", timeout=300)
    assert main_thread_digests(browser) == 0, "the page computed a digest on its main thread"
    # The big file's details say how it went: its parts and how many were on the wire at once.
    details = upload_row(browser, big.name).find_element(By.CSS_SELECTOR, ".upload-details")
    assert re.fullmatch(r"\d+ partes de 16 MiB, [2-6] por vez", details.text), details.text
    step("08-uploaded")
    clip_id = upload_row(browser, clip.name).get_attribute("data-video-id")
    big_id = upload_row(browser, big.name).get_attribute("data-video-id")
    # UploadPart: a PUT (the engines that do not log methods say None) naming an upload and a part.
    queries = [urllib.parse.parse_qs(urllib.parse.urlparse(r["url"]).query) for r in traffic
               if r.get("method", "") in ("PUT", None) and big_id in urllib.parse.unquote(r["url"])]
    parts = {query["partNumber"][0] for query in queries if "partNumber" in query and "uploadId" in query}
    assert len(parts) >= 19, f"the 300 MiB video went up in {len(parts)} part(s)"

    # Both convert and are ready in the library.
    open_page(browser, served, "/library/")
    if wait_card_status(browser, big_id, "queued", "converting", "ready") != "ready":
        step("09-library-converting")
    wait_card_status(browser, clip_id, "ready", timeout=300)
    wait_card_status(browser, big_id, "ready", timeout=300)
    for video_id in (clip_id, big_id):
        wait_until(lambda: browser.execute_script(
            "const i = document.querySelector(arguments[0] + ' img'); return i && i.complete && i.naturalWidth > 0",
            f"#videos li[data-video-id='{video_id}']"), 20, "the thumbnails to load")
    assert card(browser, clip_id).find_element(By.CSS_SELECTOR, ".video-title").text == "Férias na praia"
    step("10-library-ready")

    # Play the clip.
    card(browser, clip_id).find_element(By.CSS_SELECTOR, ".video-title a").click()
    wait_for_path(browser, f"/player/?id={clip_id}")
    ready(browser)
    video = wait_until(lambda: (v := field(browser, "video")).is_displayed() and v, 20, "the player")
    wait_until(lambda: browser.execute_script("return arguments[0].readyState >= 1", video), 20, "the video's metadata")
    video.send_keys(" ")
    wait_until(lambda: browser.execute_script("return arguments[0].currentTime", video) > 2.0, 20, "playback to advance")
    assert browser.execute_script("return arguments[0].error", video) is None
    assert 19 <= browser.execute_script("return arguments[0].duration", video) <= 21
    step("11-playing")
    browser.execute_script("arguments[0].pause()", video)

    # Sign out, and back in with the authenticator's code.
    sign_out(browser)
    step("12-signed-out")
    sign_in_with_mfa(browser, served, email, secret, used)
    step("13-signed-in-again")

    # Delete the big video behind the dialog.
    item = wait_until(lambda: card(browser, big_id), 20, "the big video's card")
    item.find_element(By.CSS_SELECTOR, "button[data-action=delete]").click()
    dialog = field(browser, "delete-dialog")
    wait_until(lambda: dialog.get_attribute("open") is not None, 5, "the delete dialog")
    step("14-delete-dialog")
    field(browser, "delete-confirm").click()
    wait_until(lambda: card(browser, big_id) is None, 20, "the card to go")
    assert card(browser, clip_id) is not None
    step("15-after-delete")
    sign_out(browser)
    step("16-signed-out")

    problems.extend(console_errors(browser))
    traffic.extend(network_requests(browser))
    if problems:
        sent = {r["id"]: r for r in traffic if "method" in r}
        refused = [f"{r['response']} {sent.get(r['id'], {}).get('method')} {r['url']} "
                   f"{sent.get(r['id'], {}).get('headers', {}).get('X-Amz-Target', '')} {sent.get(r['id'], {}).get('body', '')[:200]}"
                   for r in traffic if r.get("response", 0) >= 400]
        raise AssertionError("the console reported:\n" + "\n".join(problems) + "\nrefused requests:\n" + "\n".join(refused))
    assert not console_problems(browser)


def test_the_command_stops_on_ctrl_c(served):
    assert served.stop() in (0, -signal.SIGINT, 130), "".join(served.lines[-20:])
