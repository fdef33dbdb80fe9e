"""Sign-out in the middle of playing leaves nothing of the user in the browser, in Chromium, Firefox
and WebKit: a short clip is uploaded and converted, played until the player has saved its position,
and the user signs out while it plays. Then `localStorage`, `sessionStorage` and IndexedDB hold
nothing (the player's pause and `pagehide` used to write the position back after the wipe), and no
media the session loaded (thumbnail, playlists, segments, the MP4) can still be had from the HTTP
cache: each is asked for with `cache: 'only-if-cached'`, which answers from the cache or not at all
— first while signed in, to show the engine lets the test see it cached, then after sign-out."""

from __future__ import annotations


import pytest

from support.app_browser import (field, open_page, ready, sign_in, upload_through_the_page, wait_for_path,
                                 wait_until)
from support.files import make_h264_clip

pytestmark = pytest.mark.usefixtures("no_console_problems")
ENGINES = ("chromium", "firefox", "webkit")


@pytest.fixture(scope="module")
def clip_id(app, browser, alice, tmp_path_factory) -> str:
    """A 12 s clip with sound, uploaded through the page and converted."""
    path = make_h264_clip(tmp_path_factory.mktemp("files") / "Sign-out clip.mp4", 12, "640x360", 25)
    return upload_through_the_page(browser, app, path)


def traces(driver) -> dict:
    """What the site keeps in the browser's storages: keys of both Web Storages, IndexedDB names."""
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        (async () => done({
          local: Object.keys(localStorage), session: Object.keys(sessionStorage),
          databases: indexedDB.databases ? (await indexedDB.databases()).map(d => d.name) : [],
        }))();""")


def cached(driver, urls: list[str]) -> dict[str, bool]:
    """For each URL, whether the HTTP cache alone can answer it (`only-if-cached`: no network)."""
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        Promise.all(arguments[0].map((url) => fetch(url, { cache: 'only-if-cached', mode: 'same-origin', credentials: 'same-origin' })
          .then((r) => [url, r.ok], () => [url, false]))).then((pairs) => done(Object.fromEntries(pairs)));""", urls)


def media_loaded(driver) -> list[str]:
    """The /media/ URLs this page has loaded (resource timing), each once."""
    return driver.execute_script("""
        return [...new Set(performance.getEntriesByType('resource').map((e) => e.name)
          .filter((name) => new URL(name).pathname.startsWith('/media/')))];""")


def test_signing_out_while_playing_leaves_no_position_and_no_cached_media(app, browser, alice, clip_id):
    open_page(browser, app, f"/player/?id={clip_id}")
    wait_until(lambda: field(browser, "player").get_attribute("data-playback"), 30, "the player to choose a path")
    wait_until(lambda: browser.execute_script("return document.getElementById('video').readyState >= 1"), 30,
               "the video's metadata")
    browser.execute_script("const v = document.getElementById('video'); v.muted = true; v.play().catch(() => {});")
    wait_until(lambda: browser.execute_script("return document.getElementById('video').currentTime > 2"), 30,
               "playback to advance")
    position_key = f"sstech.position.{alice['sub']}"
    # A pause saves the position at once; playing on, the sign-out finds the player busy.
    browser.execute_script("document.getElementById('video').pause()")
    wait_until(lambda: position_key in traces(browser)["local"], 10, "the position to be saved")
    browser.execute_script("document.getElementById('video').play().catch(() => {})")

    # The thumbnail and the playlist or file, fetched whole as the library and the player do; and
    # whatever else the player loaded whole (MSE segments).
    poster = browser.execute_script("return document.getElementById('video').poster")
    assert poster, "the player shows the thumbnail as its poster"
    loaded = sorted(set(media_loaded(browser)) | {poster})
    browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        Promise.all(arguments[0].map((url) => fetch(url, { credentials: 'same-origin' }).then((r) => r.arrayBuffer())))
          .then(() => done(), () => done());""", loaded)
    before = cached(browser, loaded)
    seen = [url for url, hit in before.items() if hit]
    assert poster in seen, f"the engine should answer the thumbnail from its cache while signed in: {before}"

    try:
        field(browser, "sign-out").click()
        wait_for_path(browser, "/login/")
        ready(browser)
        # The sign-in page took its one notice; nothing else is left.
        assert traces(browser) == {"local": [], "session": [], "databases": []}, traces(browser)
        after = cached(browser, seen)
        assert not any(after.values()), f"media still in the HTTP cache after sign-out: {[u for u, hit in after.items() if hit]}"
    finally:
        sign_in(browser, app, alice["email"], alice["password"], alice["secret"], alice["used"])
