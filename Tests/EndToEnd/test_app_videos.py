"""The video pages in a real browser (headless Chromium) against `site serve` and its local cloud,
signed in through the real sign-in and MFA pages: upload a real clip made by ffmpeg and watch it
reach `ready`, then play it and seek by keyboard; a 300 MiB multipart upload interrupted by a reload
that resumes and sends only the missing parts, with the browser's memory measured; a part corrupted
in flight refused by the store and sent again; cancel; a text file posing as MP4 that fails with its
reason; delete behind a dialog; the usage against the user's limits above the library, and an
upload over a limit (set with `site cloud limits`) refused with which limit and by how much; a
second user who sees and plays none of the first's videos; a hostile file name shown as text; English;
a clip longer than the module's 30-second cap (`APP_ARGS`) that the library and the player say was cut. Every state is screenshotted at 390 and 1280 px into
.test-output/screenshots/videos/ (or $SCREENSHOTS_DIR/videos/), and the console must report no CSP
or Trusted Types violation in the whole run."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from support.app_browser import (COUNT_DIGESTS, MemoryWatch, card, choose, field, network_requests, open_page, open_upload, ready,
                                 main_thread_digests, sign_in, upload_row, upload_through_the_page, wait_card_status, wait_for_path,
                                 wait_row_state, wait_until)
from support.files import MiB, make_clip, make_file
from support.local_cloud import api_call, fresh_totp, register_user
from support.site import run_site
from support.media_session import expire_media_cookies, media_cookie_expiry, media_cookie_names

# The longest video converted: 30 seconds, so a 40-second clip is cut (the module's other clips are shorter).
APP_ARGS = ("--longest-minutes", "0.5")

# The tests marked with this run in every engine; the module's others in Chromium only (a module-level
# ENGINES would make them all run in every engine, which is why it is not imported here).
EVERY_ENGINE = ("chromium", "firefox", "webkit")

# conftest's browser, a browser per module; after every test its console is checked.
pytestmark = pytest.mark.usefixtures("no_console_problems")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("files")


# -- helpers ---------------------------------------------------------------------------------------
def videos_of(app, user) -> list[dict]:
    response = api_call(app.cloud, "GET", "/videos", token=fresh_token(app, user))
    assert response.status == 200, response
    return response.json()["videos"]


def fresh_token(app, user) -> str:
    client = app.cloud.cognito()
    result = client.initiate_auth(ClientId=app.cloud.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                  AuthParameters={"REFRESH_TOKEN": user["tokens"]["RefreshToken"]})
    return result["AuthenticationResult"]["AccessToken"]


def temp_keys(app, user) -> list[str]:
    s3 = app.cloud.s3()
    listed = s3.list_objects_v2(Bucket="video-temp-conversion", Prefix=f"uploads/{user['sub']}/")
    main = s3.list_objects_v2(Bucket="video-main", Prefix=f"videos/{user['sub']}/")
    return [o["Key"] for o in listed.get("Contents", [])] + [o["Key"] for o in main.get("Contents", [])]


def part_puts(requests: list[dict]) -> list[tuple[int, int | None]]:
    """(partNumber, status) of every part PUT in a network log."""
    responses = {r["id"]: r["response"] for r in requests if "response" in r}
    found = []
    for request in requests:
        if request.get("method") == "PUT" and "partNumber=" in request.get("url", ""):
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(request["url"]).query)
            found.append((int(query["partNumber"][0]), responses.get(request["id"])))
    return found


def pending_record(driver, user, video_id) -> dict | None:
    """The page's memory of an unfinished upload (localStorage, per user; never a token)."""
    import json
    text = driver.execute_script("return localStorage.getItem(arguments[0])", f"sstech.uploads.{user['sub']}")
    records = json.loads(text) if text else []
    if isinstance(records, dict):
        records = list(records.values())
    found = [r for r in records if r.get("videoId") == video_id]
    assert not found or not any("token" in k.lower() for k in found[0]), found
    return found[0] if found else None


def accept_leave_prompt(driver):
    try:
        driver.switch_to.alert.accept()
    except NoAlertPresentException:
        pass


def media_status(driver, url: str) -> int:
    """The status of a same-origin fetch of `url` with the browser's cookies, as a <video> would send them."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(r => done(r.status), () => done(0));",
        url)


def played_source(driver, app, user, video_id) -> str:
    """What the player plays, checked against its `data-playback` (test_app_player.py tests each
    path): the HLS master on the native path, the MP4 on the MP4 path; a blob: URL through MSE."""
    playback = driver.execute_script("return document.getElementById('player').dataset.playback")
    source = driver.execute_script("return document.getElementById('video').currentSrc")
    folder = app.url + f"/media/videos/{user['sub']}/{video_id}/"
    expected = {"native": folder + "hls/index.m3u8", "mp4": folder + "video.mp4"}.get(playback)
    assert (source == expected) if expected else (playback == "mse" and source.startswith("blob:")), (playback, source)
    return playback


# The tests' one hook into the page: XMLHttpRequest.send, wrapped to hold back or alter part PUTs.
HOOK = """
window.__hook = window.__hook || { hold: false, corrupt: new Set(), sent: [], held: [] };
window.__release = () => { window.__hook.hold = false; for (const go of window.__hook.held.splice(0)) go(); };
if (!window.__hooked) {
  window.__hooked = true;
  const send = XMLHttpRequest.prototype.send;
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) { this.__url = String(url); return open.call(this, method, url, ...rest); };
  XMLHttpRequest.prototype.send = function (body) {
    const match = /[?&]partNumber=(\\d+)/.exec(this.__url || '');
    const part = match ? Number(match[1]) : 0;
    if (part && window.__hook.hold) { window.__hook.held.push(() => send.call(this, body)); return; } // sent on release
    if (part && window.__hook.corrupt.has(part) && body instanceof Blob) {
      window.__hook.corrupt.delete(part);
      const bytes = new Uint8Array(body.size); bytes.fill(7);
      window.__hook.sent.push(part);
      return send.call(this, new Blob([bytes]));
    }
    if (part) window.__hook.sent.push(part);
    return send.call(this, body);
  };
}
"""


# -- the tests -------------------------------------------------------------------------------------
def test_an_empty_library_leads_to_upload(app, browser, screens, alice):
    open_page(browser, app, "/library/")
    empty = wait_until(lambda: (e := field(browser, "empty")).is_displayed() and e, 20, "the empty state")
    screens.take(browser, "library-empty")
    empty.find_element(By.CSS_SELECTOR, "a.button").click()
    wait_for_path(browser, "/upload/")
    ready(browser)
    assert browser.find_element(By.CSS_SELECTOR, "input[type=file]#files").get_attribute("multiple") is not None
    # The drop zone is a button a keyboard reaches.
    assert field(browser, "dropzone").tag_name == "button"
    screens.take(browser, "upload-empty")


def test_a_real_clip_uploads_converts_and_plays_with_keyboard_seeks(app, browser, screens, alice, files):
    clip = make_clip(files / "Férias na praia.avi")
    open_upload(browser, app)
    browser.get_log("performance")
    choose(browser, clip)
    wait_row_state(browser, clip.name, "done", timeout=60)
    row = upload_row(browser, clip.name)
    video_id = row.get_attribute("data-video-id")
    assert video_id
    # The notice no longer asks to keep the page open: it says what is true now.
    wait_until(lambda: "Todos os envios terminaram" in field(browser, "notice").text, 10, "the notice to say all is sent")
    assert "Mantenha esta página aberta" not in field(browser, "notice").text
    screens.take(browser, "upload-done")
    # One single PUT carrying the file's SHA-256, signed into its URL.
    puts = [r for r in network_requests(browser) if r.get("method") == "PUT"]
    assert len(puts) == 1 and "x-amz-checksum-sha256" in {k.lower() for k in puts[0]["headers"]}, puts
    assert "x-amz-checksum-sha256" in urllib.parse.unquote(puts[0]["url"]).lower()

    browser.get_log("performance")
    open_page(browser, app, "/library/")
    if wait_card_status(browser, video_id, "queued", "converting", "ready") != "ready":
        screens.take(browser, "library-converting")
    open_page(browser, app, f"/player/?id={video_id}")
    state = wait_until(lambda: (e := field(browser, "state")).is_displayed() and e or field(browser, "player").is_displayed(),
                       20, "the player's state")
    if state is not True:
        screens.take(browser, "player-converting")
    open_page(browser, app, "/library/")
    wait_card_status(browser, video_id, "ready", timeout=240)
    item = card(browser, video_id)
    assert item.find_element(By.CSS_SELECTOR, ".video-title").text == "Férias na praia"
    meta = item.find_element(By.CSS_SELECTOR, ".video-meta").text
    assert "0:20" in meta or "0:19" in meta, meta
    wait_until(lambda: browser.execute_script(
        "const i = document.querySelector(arguments[0] + ' img'); return i && i.complete && i.naturalWidth > 0",
        f"#videos li[data-video-id='{video_id}']"), 20, "the thumbnail to load")
    screens.take(browser, "library-ready")
    # One origin: the API on /api/ with no preflight, the thumbnail from /media/, nothing elsewhere
    # but the local cloud's Cognito endpoint.
    sent = [r for r in network_requests(browser) if "method" in r]
    api = [r for r in sent if r["url"].startswith(app.url + "/api/")]
    assert any(r["url"] == app.url + "/api/videos" for r in api) and any(r["url"] == app.url + "/api/session" for r in api), api
    # (Cognito is another origin here as in production, so its calls have preflights.)
    assert not [r for r in sent if r["method"] == "OPTIONS" and not r["url"].startswith(app.cloud.cognito_url)], \
        "a CORS preflight was sent to the site's origin"
    assert any(r["url"].startswith(app.url + f"/media/videos/{alice['sub']}/{video_id}/thumbnail") for r in sent), sent
    assert all(r["url"].startswith((app.url, app.cloud.cognito_url, "data:", "blob:")) for r in sent), sent

    item.find_element(By.CSS_SELECTOR, ".video-title a").click()
    wait_for_path(browser, f"/player/?id={video_id}")
    ready(browser)
    video = wait_until(lambda: (v := field(browser, "video")).is_displayed() and v, 20, "the player")
    wait_until(lambda: browser.execute_script("return arguments[0].readyState >= 1", video), 20, "the video's metadata")
    assert browser.execute_script("return arguments[0].poster", video).startswith(app.url + f"/media/videos/{alice['sub']}/")
    playing_from = played_source(browser, app, alice, video_id)
    video.send_keys(" ")  # k / space: play
    wait_until(lambda: browser.execute_script("return arguments[0].currentTime", video) > 1.0, 20, "playback to advance")
    assert browser.execute_script("return arguments[0].error", video) is None
    duration = browser.execute_script("return arguments[0].duration", video)
    assert 19 <= duration <= 21, duration
    video.send_keys("5")  # 50 %
    wait_until(lambda: abs(browser.execute_script("return arguments[0].currentTime", video) - duration * 0.5) < 1.5, 10,
               "the seek to 50 %")
    before = browser.execute_script("return arguments[0].currentTime", video)
    video.send_keys(Keys.ARROW_LEFT)
    after = browser.execute_script("return arguments[0].currentTime", video)
    assert before - 6.5 < after < before - 3.5, (before, after)
    screens.take(browser, "player-playing")

    # The media cookies run out mid-play (replaced by validly signed ones that have expired): the
    # next load is refused, the app renews its session and play goes on where it was. Here on the
    # MP4 path, whose file the element loads itself (test_app_player.py renews it under MSE).
    open_page(browser, app, f"/player/?id={video_id}&playback=mp4")
    video = wait_until(lambda: (v := field(browser, "video")).is_displayed() and v, 20, "the player")
    wait_until(lambda: browser.execute_script("return arguments[0].readyState >= 1", video), 20, "the video's metadata")
    playing_from = played_source(browser, app, alice, video_id)
    assert playing_from == "mp4"
    video.send_keys(" ")  # play (a key press: the browser lets a user's gesture start sound)
    wait_until(lambda: browser.execute_script("return !arguments[0].paused && arguments[0].readyState >= 3", video), 20,
               "the MP4 to play")
    position = browser.execute_script("return arguments[0].currentTime", video)
    expire_media_cookies(browser, app, alice)
    # A load the element has not cached (its own media cache outlives the HTTP cache): refused.
    browser.execute_script("const v = arguments[0]; v.src = v.currentSrc + '?after-expiry'; v.play().catch(() => {});", video)
    wait_until(lambda: media_cookie_expiry(browser, app, alice) > time.time(), 20, "a renewed media session")
    wait_until(lambda: browser.execute_script("return arguments[0].currentTime", video) > position - 1.5
               and not browser.execute_script("return arguments[0].paused", video), 20, "play to go on at the same time")
    assert browser.execute_script("return arguments[0].error", video) is None
    assert played_source(browser, app, alice, video_id) == playing_from
    # The renewed cookies open the file again from the server itself.
    browser.execute_cdp_cmd("Network.clearBrowserCache", {})
    assert media_status(browser, app.url + f"/media/videos/{alice['sub']}/{video_id}/video.mp4") == 200
    browser.execute_script("arguments[0].pause()", video)
    app.clip_id = video_id


def test_the_player_resumes_where_the_user_stopped(app, browser, alice):
    video_id = app.clip_id
    open_page(browser, app, f"/player/?id={video_id}")
    video = wait_until(lambda: (v := field(browser, "video")).is_displayed() and v, 20, "the player")
    wait_until(lambda: browser.execute_script("return arguments[0].currentTime", video) > 3, 20, "the saved position")
    assert field(browser, "restart").is_displayed()


def test_a_300_mib_file_resumes_after_a_reload_sending_only_missing_parts(app, browser, screens, alice, files):
    big = make_file(files / "camera-a.mov", 300 * MiB)
    open_upload(browser, app)
    browser.execute_script(HOOK + COUNT_DIGESTS)
    browser.get_log("performance")
    browser.kept = []
    with MemoryWatch(browser) as memory:
        choose(browser, big)
        wait_until(lambda: len([p for p, s in part_puts(network_requests_keep(browser)) if s == 200]) >= 6, 120,
                   "six parts stored")
        browser.execute_script("window.__hook.hold = true")
        screens.take(browser, "upload-uploading")
    row = upload_row(browser, big.name)
    video_id = row.get_attribute("data-video-id")
    record = pending_record(browser, alice, video_id)
    time.sleep(1.0)  # parts already on the wire when the hold began land; nothing else is sent
    listed = app.cloud.s3().list_parts(Bucket="video-temp-conversion", Key=record["key"], UploadId=record["uploadId"])
    stored_before = {part["PartNumber"] for part in listed.get("Parts", [])}
    assert len(stored_before) >= 6 and all(part.get("ChecksumSHA256") for part in listed["Parts"]), listed
    assert "%" in browser.title, browser.title  # the tab's title carries the progress

    browser.refresh()
    accept_leave_prompt(browser)
    ready(browser)
    wait_until(lambda: browser.execute_script("return document.documentElement.dataset.uploadReady === 'true'"), 20, "the page")
    # The library offers to resume it, and leads back to the upload page with it in focus.
    open_page(browser, app, "/library/")
    wait_card_status(browser, video_id, "uploading", timeout=20)
    card(browser, video_id).find_element(By.CSS_SELECTOR, "a[data-action=resume]").click()
    wait_for_path(browser, f"/upload/?resume={video_id}")
    ready(browser)
    unfinished = wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, f"#unfinished-list li[data-video-id='{video_id}']"),
                            20, "the unfinished upload to be offered")
    assert browser.execute_script("return document.activeElement.dataset.action") == "resume"
    screens.take(browser, "upload-unfinished")
    browser.get_log("performance")
    browser.kept = []
    unfinished[0].find_element(By.CSS_SELECTOR, "button[data-action=resume]")  # the button a user presses opens the picker
    browser.execute_script(COUNT_DIGESTS)
    choose(browser, big)
    wait_row_state(browser, big.name, "done", timeout=180)
    assert main_thread_digests(browser) == 0, "the page computed a digest on its main thread"
    row = upload_row(browser, big.name)
    assert row.get_attribute("data-part-size") == str(16 * MiB) and 2 <= int(row.get_attribute("data-parallel")) <= 6
    after = part_puts(network_requests_keep(browser))
    resent = {p for p, _ in after}
    plan_count = (300 * MiB + 16 * MiB - 1) // (16 * MiB)
    assert resent == set(range(1, plan_count + 1)) - stored_before, (sorted(stored_before), sorted(resent))
    assert len(after) == plan_count - len(stored_before), after  # each missing part exactly once
    screens.take(browser, "upload-done-multipart")
    growth = (memory.peak - memory.baseline) / MiB
    print(f"browser memory: baseline {memory.baseline / MiB:.0f} MiB, peak {memory.peak / MiB:.0f} MiB (+{growth:.0f} MiB)")
    assert growth < 200, f"the browser grew by {growth:.0f} MiB during a 300 MiB upload"
    app.big_id = video_id


def network_requests_keep(driver) -> list[dict]:
    """The performance log since the last reset, kept on the driver (reading the log drains it)."""
    if not hasattr(driver, "kept"):
        driver.kept = []
    driver.kept += network_requests(driver)
    return driver.kept


@pytest.mark.engines(*EVERY_ENGINE)
def test_the_hashing_worker_starts_only_when_its_script_matches_the_import_maps_integrity(app, browser, alice):
    """The page's own worker, under its CSP and Trusted Types: with the build's integrity it starts and
    answers S3's checksum; told another integrity, the browser's check refuses the script and no
    worker starts."""
    open_upload(browser, app)
    result = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        (async () => {
          // By its published name: a script run by Marionette imports without the page's import map.
          const map = JSON.parse(document.querySelector('script[type="importmap"]').textContent);
          const { WorkerHasher } = await import(map.imports['/assets/js/upload/hash.js']);
          // (The page's own hasher finds the worker by import.meta.resolve, which the journey's uploads cover.)
          const url = new URL(map.imports['/assets/js/upload/hash-worker.js'], location.href).href;
          const good = new WorkerHasher({ url });
          const sum = await good.hash(new Blob(['abc']));
          let started = 0;
          const bad = new WorkerHasher({ url, integrity: 'sha384-' + btoa('x'.repeat(48)), start: () => { started += 1; } });
          const refused = await bad.hash(new Blob(['abc'])).then(() => null, (e) => e.message);
          good.close();
          return { sum, refused, started, integrity: good.integrity, url: good.url };
        })().then(done, (e) => done({ error: String(e) }));""")
    assert "error" not in result, result
    assert result["sum"] == base64.b64encode(hashlib.sha256(b"abc").digest()).decode(), result
    assert re.fullmatch(r"/assets/js/upload/hash-worker\.[0-9a-f]{8}\.js", urllib.parse.urlsplit(result["url"]).path), result
    assert result["integrity"].startswith("sha384-"), result
    assert "does not match its integrity" in result["refused"] and result["started"] == 0, result


def test_files_dropped_on_the_zone_are_uploaded(app, browser, alice):
    open_upload(browser, app)
    browser.execute_script("""
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(2048).fill(1)], 'dropped one.mp4', { type: 'video/mp4' }));
        transfer.items.add(new File([new Uint8Array(4096).fill(2)], 'dropped two.webm', { type: 'video/webm' }));
        const zone = document.getElementById('dropzone');
        for (const type of ['dragenter', 'dragover', 'drop']) {
          zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""")
    wait_row_state(browser, "dropped one.mp4", "done", timeout=30)
    wait_row_state(browser, "dropped two.webm", "done", timeout=30)
    wait_until(lambda: "Todos os envios terminaram" in field(browser, "notice").text, 10, "the notice to say both are sent")


def test_a_part_corrupted_in_flight_is_refused_and_sent_again(app, browser, alice, files):
    data = make_file(files / "corrupt-me.mp4", 20 * MiB, seed=3)
    open_upload(browser, app)
    browser.execute_script(HOOK + "window.__hook.corrupt.add(2);")
    browser.get_log("performance")
    browser.kept = []
    choose(browser, data)
    wait_row_state(browser, data.name, "done", timeout=60)
    puts = part_puts(network_requests_keep(browser))
    assert [s for p, s in puts if p == 2] == [400, 200], puts
    assert [s for p, s in puts if p == 1] == [200], puts
    # What the store kept is the file, byte for byte.
    video_id = upload_row(browser, data.name).get_attribute("data-video-id")
    key = f"uploads/{alice['sub']}/{video_id}/{data.name}"
    head = app.cloud.s3().head_object(Bucket="video-temp-conversion", Key=key, ChecksumMode="ENABLED") \
        if key in temp_keys(app, alice) else None
    if head:  # the pipeline may already have taken it
        assert head["ContentLength"] == data.stat().st_size


def test_cancel_leaves_no_object_and_no_video(app, browser, screens, alice, files):
    data = make_file(files / "cancel-me.mkv", 64 * MiB, seed=5)
    open_upload(browser, app)
    browser.execute_script(HOOK + "window.__hook.hold = true;")
    choose(browser, data)
    row = wait_until(lambda: (r := upload_row(browser, data.name)) and r.get_attribute("data-video-id") and r, 30,
                     "the upload to start")
    video_id = row.get_attribute("data-video-id")
    record = pending_record(browser, alice, video_id)
    row.find_element(By.CSS_SELECTOR, "button[data-action=cancel]").click()
    wait_row_state(browser, data.name, "cancelled", timeout=20)
    wait_until(lambda: all(v["id"] != video_id for v in videos_of(app, alice)), 20, "the video to be removed")
    assert not [k for k in temp_keys(app, alice) if video_id in k]
    listed = api_call(app.cloud, "GET", "/videos/multipart/parts", token=fresh_token(app, alice),
                      query={"key": record["key"], "uploadId": record["uploadId"]})
    assert listed.status == 404, listed  # the multipart upload was aborted
    assert pending_record(browser, alice, video_id) is None


def test_a_text_file_named_mp4_fails_with_its_reason(app, browser, screens, alice, files):
    fake = files / "not really.mp4"
    fake.write_text("This is a shopping list, not a video.\n" * 50)
    video_id = upload_through_the_page(browser, app, fake, status="failed", timeout=120, upload_timeout=60)
    reason = card(browser, video_id).find_element(By.CSS_SELECTOR, ".video-error").text
    assert reason.startswith("Este arquivo não é um vídeo"), reason  # the pipeline's reason, in the page's language
    assert "Invalid data" in card(browser, video_id).find_element(By.CSS_SELECTOR, ".video-detail").text
    screens.take(browser, "library-failed")
    open_page(browser, app, f"/player/?id={video_id}")
    state = wait_until(lambda: (s := field(browser, "state")).is_displayed() and s, 20, "the failed state")
    assert reason in state.text
    screens.take(browser, "player-failed")
    app.failed_id = video_id


def test_a_hostile_file_name_is_shown_as_text(app, browser, screens, alice, files):
    hostile = files / "<img src=x onerror=alert(1)>.mp4"
    hostile.write_bytes(b"\x00" * 1000)
    open_upload(browser, app)
    choose(browser, hostile)
    wait_row_state(browser, hostile.name, "done", "failed", timeout=60)
    assert not browser.find_elements(By.CSS_SELECTOR, "#uploads img")
    open_page(browser, app, "/library/")
    wait_until(lambda: any(e.text == "<img src=x onerror=alert(1)>" for e in browser.find_elements(By.CSS_SELECTOR, ".video-title")),
               20, "the hostile title as text")
    assert not browser.find_elements(By.CSS_SELECTOR, ".video-title img")
    screens.take(browser, "library-hostile-name")


def test_the_library_filters_by_title(app, browser, alice):
    open_page(browser, app, "/library/")
    wait_until(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#videos li")) >= 3, 20, "the videos")
    field(browser, "filter").send_keys("ferias")  # accents do not matter
    visible = [e for e in browser.find_elements(By.CSS_SELECTOR, "#videos li") if e.is_displayed()]
    assert [e.get_attribute("data-video-id") for e in visible] == [app.clip_id]
    field(browser, "filter").clear()


def test_delete_asks_first_and_removes_everything(app, browser, screens, alice):
    video_id = app.failed_id
    open_page(browser, app, "/library/")
    item = wait_until(lambda: card(browser, video_id), 20, "the video")
    button = item.find_element(By.CSS_SELECTOR, "button[data-action=delete]")
    button.click()
    dialog = field(browser, "delete-dialog")
    wait_until(lambda: dialog.get_attribute("open") is not None, 5, "the dialog")
    screens.take(browser, "library-delete-dialog")
    # Focus stays inside the dialog.
    active = browser.switch_to.active_element
    assert browser.execute_script("return arguments[0].contains(arguments[1])", dialog, active)
    active.send_keys(Keys.TAB)
    assert browser.execute_script("return arguments[0].contains(document.activeElement)", dialog)
    active.send_keys(Keys.ESCAPE)
    wait_until(lambda: dialog.get_attribute("open") is None, 5, "the dialog to close")
    assert card(browser, video_id) is not None
    button.click()
    field(browser, "delete-confirm").click()
    wait_until(lambda: card(browser, video_id) is None, 20, "the card to go")
    assert all(v["id"] != video_id for v in videos_of(app, alice))
    assert not [k for k in temp_keys(app, alice) if video_id in k]


def test_english_pages(app, browser, screens, alice):
    open_page(browser, app, "/en/library/")
    wait_until(lambda: card(browser, app.clip_id), 20, "the library")
    assert browser.find_element(By.CSS_SELECTOR, f"#videos li[data-video-id='{app.clip_id}'] .badge").text == "Ready"
    screens.take(browser, "library-en")
    open_upload(browser, app, "/en")
    assert "Choose videos" in field(browser, "dropzone").text
    open_page(browser, app, f"/en/player/?id={app.clip_id}")
    wait_until(lambda: field(browser, "video").is_displayed(), 20, "the player")
    assert field(browser, "speed").find_elements(By.TAG_NAME, "option")[3].text == "Normal"
    screens.take(browser, "player-en")


def set_limits(app, user, *flags: str):
    """The owner's per-user override through `site cloud limits` on the running cloud's data folder."""
    done = run_site(["cloud", "--data", str(app.cloud.data), "limits", user["email"], *flags], env=dict(os.environ), cwd=app.project)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_library_shows_the_usage_against_the_limits(app, browser, screens, alice):
    usage = api_call(app.cloud, "GET", "/videos/usage", token=fresh_token(app, alice)).json()
    open_page(browser, app, "/library/")
    section = wait_until(lambda: (s := field(browser, "usage")).is_displayed() and s, 20, "the usage")
    items = section.find_elements(By.CSS_SELECTOR, ".usage-item")
    assert [i.get_attribute("data-limit") for i in items] == ["storedBytes", "videos", "convertedMinutes"]
    texts = {i.get_attribute("data-limit"): i.find_element(By.CSS_SELECTOR, ".usage-text").text for i in items}
    # The defaults, in the page's language: 200 GiB, 1.000 videos, 600 minutes in this month by name.
    assert texts["storedBytes"].endswith(" de 200 GiB"), texts
    assert texts["videos"] == f"{usage['usage']['videos']} de 1.000", texts
    month = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro",
             "dezembro"][int(usage["usage"]["month"][5:]) - 1]
    assert texts["convertedMinutes"] == f"{usage['usage']['convertedMinutes']} de 600 min em {month}", texts
    # Each meter is labelled, and its words describe it.
    for item in items:
        meter = item.find_element(By.TAG_NAME, "meter")
        label = item.find_element(By.TAG_NAME, "label")
        assert label.get_attribute("for") == meter.get_attribute("id") and label.text
        assert browser.execute_script("return arguments[0].labels.length", meter) == 1
        described = browser.find_element(By.ID, meter.get_attribute("aria-describedby"))
        assert described.text == item.find_element(By.CSS_SELECTOR, ".usage-text").text
    assert float(items[1].find_element(By.TAG_NAME, "meter").get_attribute("value")) == usage["usage"]["videos"]
    screens.take(browser, "library-usage")
    open_page(browser, app, "/en/library/")
    section = wait_until(lambda: (s := field(browser, "usage")).is_displayed() and s, 20, "the usage in English")
    assert section.find_element(By.CSS_SELECTOR, "[data-limit=videos] .usage-text").text == f"{usage['usage']['videos']} of 1,000"
    screens.take(browser, "library-usage-en")


def test_an_upload_over_a_limit_is_refused_with_which_limit_and_by_how_much(app, browser, screens, alice, files):
    count = len(videos_of(app, alice))
    if count == 0:  # run alone: one video to be at the limit with
        made = api_call(app.cloud, "POST", "/videos/upload-url", token=fresh_token(app, alice),
                        body={"fileName": "a.mp4", "contentType": "video/mp4", "size": 10, "checksumSHA256": base64.b64encode(hashlib.sha256(b"0123456789").digest()).decode()})
        assert made.status == 200, made
        count = 1
    set_limits(app, alice, "--videos", str(count))
    try:
        clip = make_file(files / "one too many.mp4", 1000, seed=3)
        open_upload(browser, app)
        browser.get_log("performance")
        choose(browser, clip)
        wait_row_state(browser, clip.name, "failed", timeout=30)
        row = upload_row(browser, clip.name)
        error = row.find_element(By.CSS_SELECTOR, ".upload-error").text
        assert error == (f"Este envio passaria do seu limite de vídeos: você já tem {count} de {count}. "
                         "Apague alguns na biblioteca para enviar mais."), error
        # Final: no "Try again", no second request, not a byte sent.
        assert not row.find_element(By.CSS_SELECTOR, "button[data-action=pause]").is_displayed()
        asked = [r for r in network_requests(browser) if r.get("method") == "POST" and r["url"].endswith("/videos/upload-url")]
        assert len(asked) == 1, asked
        assert len(videos_of(app, alice)) == count
        screens.take(browser, "upload-over-limit")
        open_page(browser, app, "/library/")
        full = wait_until(lambda: (i := browser.find_element(By.CSS_SELECTOR, "#usage [data-limit=videos]")).is_displayed() and i,
                          20, "the videos meter")
        assert full.get_attribute("data-level") == "full"
        assert full.find_element(By.CSS_SELECTOR, ".usage-text").text == f"{count} de {count} · limite atingido"
        screens.take(browser, "library-usage-full")
    finally:
        set_limits(app, alice, "--videos", "1000")


def test_an_upload_outlives_the_session_and_goes_on_after_signing_in_again(app, browser, screens, alice, files):
    data = make_file(files / "long-night.mp4", 100 * MiB, seed=7)
    open_upload(browser, app)
    browser.execute_script(HOOK + "window.__hook.hold = true;")
    choose(browser, data)
    wait_until(lambda: browser.execute_script("return window.__hook.held.length") >= 4, 30, "four parts ready to send")
    # Signed out everywhere (a stolen-laptop response): the refresh token and access tokens die.
    app.cloud.cognito().global_sign_out(AccessToken=fresh_token(app, alice))
    browser.execute_script("window.__release()")
    dialog = wait_until(lambda: (d := field(browser, "reauth")).get_attribute("open") is not None and d, 30, "the sign-in dialog")
    wait_row_state(browser, data.name, "session", timeout=10)
    assert field(browser, "email").get_attribute("value") == alice["email"]
    screens.take(browser, "upload-session-ended")
    field(browser, "password").send_keys(alice["password"])
    browser.find_element(By.CSS_SELECTOR, "#reauth-password button[type=submit]").click()
    code = wait_until(lambda: (c := field(browser, "code")).is_displayed() and c, 30, "the code field")
    code.send_keys(fresh_totp(alice["secret"], alice["used"]))
    browser.find_element(By.CSS_SELECTOR, "#reauth-code button[type=submit]").click()
    wait_until(lambda: dialog.get_attribute("open") is None, 30, "the dialog to close")
    wait_row_state(browser, data.name, "done", timeout=60)
    assert browser.execute_script("return location.pathname") == "/upload/"


def test_a_second_user_sees_and_plays_nothing_of_the_first(app, browser, screens, alice):
    open_page(browser, app, "/library/")
    media = app.url + f"/media/videos/{alice['sub']}/{app.clip_id}/video.mp4"
    assert media_status(browser, media) == 200
    browser.find_element(By.ID, "sign-out").click()
    wait_for_path(browser, "/login/")
    # Signing out took the media cookies back.
    assert not media_cookie_names(browser, app, alice)
    assert media_status(browser, media) == 403
    bob = register_user(app.cloud, f"bob-{uuid.uuid4().hex[:6]}@example.com")
    sign_in(browser, app, bob["email"], bob["password"], bob["secret"], bob["used"])
    wait_until(lambda: field(browser, "empty").is_displayed(), 20, "Bob's empty library")
    assert not browser.find_elements(By.CSS_SELECTOR, "#videos li")
    open_page(browser, app, f"/player/?id={app.clip_id}")
    state = wait_until(lambda: (s := field(browser, "state")).is_displayed() and s, 20, "the not-found state")
    assert not field(browser, "video").get_attribute("src")
    # Bob's cookies open his folder only.
    assert media_status(browser, media) == 403
    screens.take(browser, "player-not-found")
    assert app.clip_id not in state.text


def test_a_video_cut_at_the_longest_says_so_in_the_library_and_the_player(app, browser, screens, alice, files):
    """A 40-second clip under a 30-second cap: converted up to 0:30, and both pages say the original
    was 0:40, in the page's language."""
    clip = make_clip(files / "Longo demais.avi", 40, "320x180")
    video_id = upload_through_the_page(browser, app, clip, timeout=120, upload_timeout=60)
    note = card(browser, video_id).find_element(By.CSS_SELECTOR, ".video-cut")
    assert note.text == "Só os primeiros 0:30 foram convertidos: o original tem 0:40, mais que o vídeo mais longo permitido.", note.text
    assert "0:30" in card(browser, video_id).find_element(By.CSS_SELECTOR, ".video-meta").text
    screens.take(browser, "library-cut")
    open_page(browser, app, "/en/library/")
    wait_card_status(browser, video_id, "ready", timeout=30)
    assert card(browser, video_id).find_element(By.CSS_SELECTOR, ".video-cut").text == \
        "Only the first 0:30 were converted: the original is 0:40 long, longer than the longest video allowed."
    open_page(browser, app, f"/player/?id={video_id}")
    wait_until(lambda: field(browser, "player").is_displayed(), 20, "the player")
    meta = wait_until(lambda: (m := browser.find_element(By.ID, "video-meta")).text and m, 10, "the player's details")
    assert "0:30" in meta.text and "cortado de 0:40" in meta.text, meta.text
    screens.take(browser, "player-cut")


def test_the_whole_run_had_no_policy_violation(browser):
    assert not browser.problems
