"""The player's three paths in a real browser against `site serve` and its local cloud: a 24 s 1080p
clip with sound, uploaded once through the upload page and converted into its HLS ladder, played by
the browser's own HLS (`?playback=native`), through MSE (`?playback=mse`) and as the MP4
(`?playback=mp4`): each plays, says its path in `data-playback`, seeks to 50 % and reaches the end.
Through MSE on a fast link the rendition climbs to the highest the player's size needs; the quality
menu pins a rendition (on the native path by moving to MSE, Auto moving back); with the link
throttled to 1.5 Mbit/s (Chromium's DevTools) MSE settles on a low rendition without stalling; the
media session running out mid-play through MSE is renewed and play goes on; a seek past the buffer
refills it from the new second. Each path resumes where the user stopped. The player with its
quality menu is screenshotted at 390 and 1280 px into .test-output/screenshots/player/ (other
engines: player-firefox/, player-webkit/), and the console must report no CSP or Trusted Types
violation. Steps that need Chromium's DevTools skip in Firefox and WebKit with their reason."""

from __future__ import annotations

import contextlib
import time

import pytest

from support.app_browser import (field, open_page, set_viewport, upload_through_the_page, wait_until)
from support.files import make_h264_clip
from support.media_session import expire_media_cookies, media_cookie_expiry

pytestmark = pytest.mark.usefixtures("no_console_problems")
# Every engine conftest knows; the DevTools steps (throttling, cookies, the policy set aside) skip
# outside Chromium with their reason.
ENGINES = ("chromium", "firefox", "webkit")

CLIP_SECONDS = 24


@pytest.fixture(scope="module")
def clip_id(app, browser, alice, tmp_path_factory) -> str:
    """A 1080p clip with sound, uploaded through the page and converted (MP4 and ladder)."""
    path = make_h264_clip(tmp_path_factory.mktemp("files") / "Ladder 1080p.mp4", CLIP_SECONDS, "1920x1080", 30)
    return upload_through_the_page(browser, app, path, timeout=400)


# -- helpers ---------------------------------------------------------------------------------------
def media_sources(driver) -> list[str]:
    """The sources of the page's media-src (the build's policy, in its meta tag)."""
    policy = js(driver, "const m = document.querySelector('meta[http-equiv=Content-Security-Policy]'); return m ? m.content : ''")
    for directive in policy.split(";"):
        name, *sources = directive.split()
        if name == "media-src":
            return sources
    return []


# Counts what the tests ask about: `waiting` after the first `playing` (a stall), `ended`, and each
# rendition `data-rendition` showed, in order.
WATCH = """
const v = document.getElementById('video');
const p = document.getElementById('player');
window.__watch = { playing: 0, stalls: 0, ended: 0, renditions: p.dataset.rendition ? [p.dataset.rendition] : [] };
new MutationObserver(() => { const r = p.dataset.rendition; if (r && r !== window.__watch.renditions.at(-1)) window.__watch.renditions.push(r); })
  .observe(p, { attributes: true, attributeFilter: ['data-rendition'] });
v.addEventListener('playing', () => { window.__watch.playing += 1; });
v.addEventListener('waiting', () => { if (window.__watch.playing > 0 && !v.seeking) window.__watch.stalls += 1; });
v.addEventListener('ended', () => { window.__watch.ended += 1; });
"""


def engine(driver) -> str:
    return getattr(driver, "engine", "chromium")


def chromium_only(driver, why: str):
    if engine(driver) != "chromium":
        pytest.skip(f"{why} needs Chromium's DevTools protocol (not in {engine(driver)})")


def open_player(driver, app, video_id: str, playback: str | None = None, *, width: int = 1280, height: int = 900,
                fresh: bool = True):
    set_viewport(driver, width, height)
    if fresh:
        driver.execute_script("localStorage.clear()")  # no saved position: the test starts at 0
    open_page(driver, app, f"/player/?id={video_id}" + (f"&playback={playback}" if playback else ""))
    wait_until(lambda: field(driver, "player").get_attribute("data-playback"), 30, "the player to choose a path")
    driver.execute_script(WATCH)
    wait_until(lambda: js(driver, "return document.getElementById('video').readyState >= 1"), 30,
               f"the video's metadata ({playback})")
    return field(driver, "video")


def js(driver, script: str, *args):
    return driver.execute_script(script, *args)


def video_state(driver) -> dict:
    return js(driver, "const v = document.getElementById('video'); const p = document.getElementById('player');"
                      "return {time: v.currentTime, duration: v.duration, paused: v.paused, error: v.error && v.error.code,"
                      " playback: p.dataset.playback, rendition: p.dataset.rendition || null, watch: window.__watch,"
                      " height: v.videoHeight, src: v.currentSrc}")


def start_playing(driver):
    # Muted, so no gesture is needed; the keys are tested below with a focused element.
    js(driver, "const v = document.getElementById('video'); v.muted = true; v.play().catch(() => {});")
    wait_until(lambda: video_state(driver)["time"] > 1.0, 30, "playback to advance")


def native_hls(driver) -> bool:
    return js(driver, "return document.createElement('video').canPlayType('application/vnd.apple.mpegurl') !== ''")


def quality_values(driver) -> list[str]:
    return js(driver, "return [...document.getElementById('quality').options].map(o => o.value)")


def quality_label(driver) -> str:
    return js(driver, "const q = document.getElementById('quality'); return q.options[q.selectedIndex].textContent")


def choose_quality(driver, value: str):
    """Chooses `value` in the quality menu as the keyboard would (focus, the option, change)."""
    js(driver, "const q = document.getElementById('quality'); q.focus(); q.value = arguments[0];"
               "q.dispatchEvent(new Event('input', {bubbles: true})); q.dispatchEvent(new Event('change', {bubbles: true}));", value)


def expected_top(driver, heights: list[int]) -> int:
    """The rendition the player's size needs: the first as tall as the picture in device pixels."""
    needed = js(driver, "return document.getElementById('video').clientHeight * (window.devicePixelRatio || 1)")
    fitting = sorted(h for h in heights if h >= needed - 8)
    return fitting[0] if fitting else max(heights)


# -- the three paths -------------------------------------------------------------------------------
def test_the_policy_lets_mse_play_from_a_blob_url(app, browser, alice):
    open_page(browser, app, "/library/")
    assert media_sources(browser) == ["'self'", "blob:"], media_sources(browser)


def test_without_a_choice_mse_plays_where_the_browser_has_it(app, browser, alice, clip_id):
    """Chromium has both its own HLS and MSE, Firefox and WebKitGTK MSE only: all three take MSE
    (native HLS comes first only on Apple's platforms, which have ManagedMediaSource)."""
    open_player(browser, app, clip_id)
    assert video_state(browser)["playback"] == "mse", video_state(browser)
    start_playing(browser)
    assert video_state(browser)["error"] is None


@pytest.mark.parametrize("playback", ["native", "mse", "mp4"])
def test_each_path_plays_seeks_to_half_and_reaches_the_end(app, browser, alice, clip_id, playback):
    if playback == "native" and not native_hls(browser):
        pytest.skip(f"{engine(browser)} has no native HLS")
    video = open_player(browser, app, clip_id, playback)
    state = video_state(browser)
    assert state["playback"] == playback, state
    if playback == "mp4":
        assert state["src"].endswith(f"/{clip_id}/video.mp4"), state
        assert not field(browser, "quality-field").is_displayed(), "the MP4 has no renditions to choose"
    elif playback == "native":
        assert state["src"].endswith(f"/{clip_id}/hls/index.m3u8"), state
    else:
        assert state["src"].startswith("blob:"), state
    start_playing(browser)
    state = video_state(browser)
    assert state["error"] is None, state
    assert CLIP_SECONDS - 1 <= state["duration"] <= CLIP_SECONDS + 1, state
    wait_until(lambda: video_state(browser)["rendition"], 20, "data-rendition")
    # 50 % by the keyboard, as a user would.
    video.send_keys("5")
    wait_until(lambda: abs(video_state(browser)["time"] - state["duration"] / 2) < 1.5, 15, "the seek to 50 %")
    wait_until(lambda: video_state(browser)["time"] > state["duration"] / 2 + 1, 20, "play to go on after the seek")
    js(browser, "const v = document.getElementById('video'); v.currentTime = v.duration - 3;")
    wait_until(lambda: video_state(browser)["watch"]["ended"] >= 1, 30, f"the end ({video_state(browser)})")
    final = video_state(browser)
    assert final["error"] is None and final["time"] >= final["duration"] - 0.5, final


def test_mse_climbs_to_the_rendition_the_player_size_needs(app, browser, alice, clip_id, screens):
    open_player(browser, app, clip_id, "mse", width=1600, height=1200)
    values = quality_values(browser)
    heights = [int(v) for v in values if v != "auto"]
    assert values[0] == "auto" and heights == sorted(heights, reverse=True) and max(heights) == 1080, values
    top = expected_top(browser, heights)
    start_playing(browser)
    wait_until(lambda: video_state(browser)["rendition"] == str(top), 30,
               f"the rendition to reach {top}p (is {video_state(browser)['rendition']})")
    shown = [int(r) for r in video_state(browser)["watch"]["renditions"]]
    assert shown[0] < top and shown == sorted(shown), f"started low and only climbed: {shown}"
    auto = quality_label(browser)
    assert f"{top}p" in auto and "(" in auto, auto
    js(browser, "document.getElementById('video').pause()")
    # The menu beside speed, open (a <select>'s own popup is drawn outside the page, so it is shown
    # as a list box for the picture).
    js(browser, "const q = document.getElementById('quality'); q.focus(); q.size = q.options.length;")
    screens.take(browser, "quality-menu-mse")
    js(browser, "document.getElementById('quality').size = 0")


@pytest.mark.parametrize("playback", ["native", "mse", "mp4"])
def test_each_path_resumes_where_the_user_stopped(app, browser, alice, clip_id, playback):
    if playback == "native" and not native_hls(browser):
        pytest.skip(f"{engine(browser)} has no native HLS")
    open_page(browser, app, "/library/")  # leaving the player saves its position: set ours after
    js(browser, "localStorage.setItem(arguments[0], JSON.stringify({[arguments[1]]: {t: 15.5, d: arguments[2], at: Date.now()}}))",
       f"sstech.position.{alice['sub']}", clip_id, CLIP_SECONDS)
    open_player(browser, app, clip_id, playback, fresh=False)
    wait_until(lambda: field(browser, "restart").is_displayed(), 30, "the Start over button")
    wait_until(lambda: abs(video_state(browser)["time"] - 15.5) < 0.6, 20, f"the saved second ({video_state(browser)})")
    assert video_state(browser)["playback"] == playback
    js(browser, "document.getElementById('video').muted = true")
    js(browser, "document.getElementById('video').play().catch(() => {})")
    wait_until(lambda: video_state(browser)["time"] > 16.5, 20, f"play on from there ({video_state(browser)})")


def test_at_twice_the_pixel_density_mse_climbs_to_1080p(app, browser, alice, clip_id):
    chromium_only(browser, "emulating a 2x screen")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 1280, "height": 900, "deviceScaleFactor": 2, "mobile": False})
    try:
        open_player(browser, app, clip_id, "mse")
        assert js(browser, "return window.devicePixelRatio") == 2
        start_playing(browser)
        wait_until(lambda: video_state(browser)["rendition"] == "1080", 30,
                   f"1080p at 2x (shown: {video_state(browser)['watch']['renditions']})")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_quality_menu_in_english(app, browser, alice, clip_id, screens):
    set_viewport(browser, 1280, 900)
    js(browser, "localStorage.clear()")  # no saved position: the picture shows the start
    open_page(browser, app, f"/en/player/?id={clip_id}&playback=mse")
    wait_until(lambda: video_state(browser)["rendition"], 30, "data-rendition")
    assert js(browser, "return document.querySelector('label[for=quality]').textContent") == "Quality"
    label = quality_label(browser)
    assert label == f"Auto ({video_state(browser)['rendition']}p)", label
    assert quality_values(browser)[1:] == ["1080", "720", "480", "360"]
    # The first picture is on screen (the stream starts at 0.067 s; the browser shows it at 0).
    wait_until(lambda: js(browser, "return document.getElementById('video').readyState") >= 2, 20, "the first frame")
    screens.take(browser, "quality-menu-en")


def test_the_quality_menu_pins_a_rendition_through_mse(app, browser, alice, clip_id):
    open_player(browser, app, clip_id, "mse")
    start_playing(browser)
    choose_quality(browser, "360")
    wait_until(lambda: video_state(browser)["rendition"] == "360", 30,
               f"the pinned 360p on screen (is {video_state(browser)['rendition']})")
    time.sleep(3)
    assert video_state(browser)["rendition"] == "360", "a pinned rendition stays"
    assert js(browser, "return document.getElementById('quality').value") == "360"
    choose_quality(browser, "auto")
    assert video_state(browser)["playback"] == "mse", "forced MSE: Auto stays on MSE"


def test_on_the_native_path_a_height_moves_to_mse_and_auto_back(app, browser, alice, clip_id, screens):
    if not native_hls(browser):
        pytest.skip(f"{engine(browser)} has no native HLS")
    open_player(browser, app, clip_id, "native")
    assert video_state(browser)["playback"] == "native", "native HLS as asked"
    start_playing(browser)
    js(browser, "const q = document.getElementById('quality'); q.focus(); q.size = q.options.length;")
    screens.take(browser, "quality-menu-native")
    js(browser, "document.getElementById('quality').size = 0")
    before = video_state(browser)["time"]
    choose_quality(browser, "480")
    wait_until(lambda: video_state(browser)["playback"] == "mse" and video_state(browser)["rendition"] == "480", 30,
               f"MSE pinned at 480p ({video_state(browser)})")
    state = video_state(browser)
    assert state["time"] >= before - 1.5 and not state["paused"], (before, state)
    choose_quality(browser, "auto")
    wait_until(lambda: video_state(browser)["playback"] == "native", 20, "Auto back to native")
    wait_until(lambda: not video_state(browser)["paused"] and video_state(browser)["time"] >= before, 20, "play to go on")


# -- the link -------------------------------------------------------------------------------------
def test_mse_on_a_slow_link_settles_low_without_stalling(app, browser, alice, clip_id):
    chromium_only(browser, "throttling the link")
    with slow_link(browser):
        open_player(browser, app, clip_id, "mse", width=1600, height=1200)
        start_playing(browser)
        time.sleep(16)
        state = video_state(browser)
        shown = [int(r) for r in state["watch"]["renditions"]]
        print(f"1.5 Mbit/s: renditions shown {shown}, {state['watch']['stalls']} stalls, at {state['time']:.1f} s")
        assert state["watch"]["stalls"] == 0, f"stalled after the start: {state}"
        assert shown and max(shown) <= 480, f"a low rendition on 1.5 Mbit/s: {shown}"
        assert state["time"] > 14, f"playing on: {state}"


def test_mse_seeks_past_the_buffer_on_a_slow_link(app, browser, alice, clip_id):
    """The buffer is dropped and refilled from the segment that holds the new second; play ends."""
    chromium_only(browser, "throttling the link")
    with slow_link(browser):
        open_player(browser, app, clip_id, "mse")
        start_playing(browser)
        buffered_end = js(browser, "const b = document.getElementById('video').buffered; return b.length ? b.end(b.length - 1) : 0")
        target = CLIP_SECONDS - 3
        assert buffered_end < target, f"the slow link had buffered to {buffered_end}"
        js(browser, "document.getElementById('video').currentTime = arguments[0]", target)
        wait_until(lambda: video_state(browser)["watch"]["ended"] >= 1, 30, f"the end after a seek past the buffer ({video_state(browser)})")
        ranges = js(browser, "const b = document.getElementById('video').buffered; return [...Array(b.length).keys()].map(i => [b.start(i), b.end(i)])")
        assert ranges and ranges[0][0] >= target - 2.5, f"what was buffered before the seek was dropped: {ranges}"


@contextlib.contextmanager
def slow_link(driver, bits_per_second: float = 1.5e6):
    """Chromium's network throttled to `bits_per_second` with 20 ms latency, the cache emptied."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 20, "downloadThroughput": bits_per_second / 8, "uploadThroughput": bits_per_second / 8})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def test_mse_renews_the_media_session_mid_play(app, browser, alice, clip_id):
    chromium_only(browser, "replacing the HttpOnly media cookies")
    open_player(browser, app, clip_id, "mse")
    start_playing(browser)
    position = video_state(browser)["time"]
    expire_media_cookies(browser, app, alice)
    # The whole clip is buffered by now: a new rendition makes the player download again.
    choose_quality(browser, "480")
    wait_until(lambda: media_cookie_expiry(browser, app, alice) > time.time(), 40, "a renewed media session")
    wait_until(lambda: video_state(browser)["rendition"] == "480" and video_state(browser)["time"] > position + 2, 40,
               f"play to go on in the new rendition ({video_state(browser)})")
    state = video_state(browser)
    assert state["playback"] == "mse" and state["error"] is None, state
