"""Live reload in a real browser (headless Chromium through chromium-driver and Selenium): a CSS
edit applies without navigation, a page edit reloads, a broken template shows the overlay and
fixing it clears it. The browser is conftest's `browser`."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By

from support.app_browser import wait_until
from support.site import Served, built_site, starter_copy


@pytest.fixture
def served(tmp_path):
    built_site()
    server = Served(starter_copy(tmp_path / "project"), "--no-cloud")
    yield server
    server.stop()


def connected(browser) -> bool:
    """True once the page's live-reload client has its event stream open."""
    return browser.execute_script(
        "return performance.getEntriesByType('resource').some(e => e.name.endsWith('/_site/events'))"
        " || document.readyState === 'complete'")


def test_css_applies_in_place_page_edits_reload_and_failures_show(browser, served):
    project = served.project
    browser.get(served.url + "/help/")
    wait_until(lambda: connected(browser), what="the page to load")
    time.sleep(0.5)  # the event stream is open
    browser.execute_script("window.__marker = 'still here'")

    # A stylesheet edit: the new rule applies, and the page was not navigated (the marker survives).
    stylesheet = next((project / "assets").rglob("*.css"))
    stylesheet.write_text(stylesheet.read_text() + "\nbody { outline: 7px solid rgb(1, 2, 3); }\n")
    wait_until(lambda: browser.execute_script("return getComputedStyle(document.body).outlineWidth") == "7px",
               what="the new stylesheet to apply")
    assert browser.execute_script("return window.__marker") == "still here"

    # A page edit reloads: the new text shows, and the marker is gone with the old page.
    page = project / "site/pages/help.md"
    page.write_text(page.read_text() + "\n\nReloaded by the browser test.\n")
    wait_until(lambda: "Reloaded by the browser test." in browser.find_element(By.TAG_NAME, "body").text,
               what="the page to reload")
    assert browser.execute_script("return window.__marker === undefined")

    # A broken template: the overlay shows the message with the file; fixing it clears it.
    time.sleep(0.5)
    layout = project / "site/layouts/page.mustache"
    original = layout.read_text()
    layout.write_text(original.replace("{{{content}}}", "{{#broken}}{{{content}}}"))
    overlay = wait_until(lambda: browser.find_element(By.ID, "site-build-failure"), what="the failure overlay")
    assert "page.mustache" in overlay.text and "Build failed" in overlay.text
    layout.write_text(original)
    wait_until(lambda: not browser.find_elements(By.ID, "site-build-failure"), what="the overlay to clear")
    assert "Reloaded by the browser test." in browser.find_element(By.TAG_NAME, "body").text
