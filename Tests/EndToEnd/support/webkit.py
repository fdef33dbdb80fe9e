"""WebKit for the browser suites: WebKitGTK's MiniBrowser in automation mode, driven by Debian's
WebKitWebDriver (webkit2gtk-driver) through Selenium, on an Xvfb display of its own.

- `WebKitBrowser()`: Selenium's WebKitGTK driver with an `engine` and a `quit()` that also ends the
  display.
- Its `get_log("browser")` answers as Chromium's does (`{"level", "message"}`, drained on reading).
  WebKitWebDriver keeps no console log, and MiniBrowser's console-to-stdout setting does not reach
  the views automation opens, so the page is watched from inside: a listener for CSP and Trusted
  Types reports (`securitypolicyviolation`), uncaught errors and unhandled rejections is put into
  each document after every command that may have navigated (get, click, keys, refresh, back,
  forward) and whenever the test reads the log. What a page reports before that, while it loads,
  is not seen (Chromium and Firefox see everything).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.remote.command import Command
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.webkitgtk.options import Options
from selenium.webdriver.webkitgtk.service import Service

# Installed once per document: keeps what the page reports until the test reads it.
WATCH = """
  if (!window.__consoleKept) {
    const kept = window.__consoleKept = [];
    document.addEventListener('securitypolicyviolation', (e) => kept.push({ level: 'SEVERE',
      message: `${e.sourceFile || e.documentURI} ${e.lineNumber}:${e.columnNumber} Refused by the Content Security Policy (${e.effectiveDirective}): ${e.blockedURI || e.sample}` }));
    window.addEventListener('error', (e) => kept.push({ level: 'SEVERE',
      message: e.message ? `${e.filename || document.URL} ${e.lineno}:${e.colno} Uncaught ${e.message}` : `failed to load ${e.target?.src || e.target?.href || e.target?.tagName}` }), true);
    window.addEventListener('unhandledrejection', (e) => kept.push({ level: 'SEVERE', message: `Uncaught (in promise) ${e.reason}` }));
  }
"""
DRAIN = WATCH + "return window.__consoleKept.splice(0);"

# Commands after which the page may be a new document, which is watched from then on.
NAVIGATING = {Command.GET, Command.CLICK_ELEMENT, Command.REFRESH, Command.GO_BACK, Command.GO_FORWARD,
              Command.SEND_KEYS_TO_ELEMENT}


def minibrowser() -> str | None:
    for folder in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"):
        for api in ("webkit2gtk-4.1", "webkit2gtk-4.0", "webkitgtk-6.0"):
            path = Path(folder) / api / "MiniBrowser"
            if path.exists():
                return str(path)
    return None


class Display:
    """An Xvfb server on a display number it picks itself (-displayfd), tall enough for a
    full-page screenshot."""

    def __init__(self):
        if not shutil.which("Xvfb"):
            raise AssertionError("Xvfb is missing: scripts/install-deps test installs xvfb")
        read, write = os.pipe()
        self.process = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1920x3200x24", "-nolisten", "tcp"],
                                        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        os.close(write)
        with os.fdopen(read) as numbers:
            number = numbers.readline().strip()
        assert number, "Xvfb did not start"
        self.name = f":{number}"

    def stop(self):
        self.process.terminate()
        self.process.wait()


class WebKitElement(WebElement):
    def screenshot(self, filename) -> bool:
        """The viewport with the element scrolled into it: WebKitGTK's own element screenshots of an
        SVG come out as a black square (a QR code read off the picture is still the only one)."""
        self.parent.execute_script("arguments[0].scrollIntoView({block: 'center'})", self)
        return self.parent.save_screenshot(filename)


class WebKitBrowser(webdriver.WebKitGTK):
    """MiniBrowser under WebKitWebDriver on its own Xvfb display."""

    engine = "webkit"
    _web_element_cls = WebKitElement

    def __init__(self):
        binary, driver = minibrowser(), shutil.which("WebKitWebDriver")
        if not binary or not driver:
            raise AssertionError("WebKitWebDriver and MiniBrowser are missing: scripts/install-deps test installs "
                                 "webkit2gtk-driver")
        self.display = Display()
        options = Options()
        options.binary_location = binary
        options.add_argument("--automation")
        env = {**os.environ, "DISPLAY": self.display.name}
        env.pop("WAYLAND_DISPLAY", None)
        try:
            super().__init__(options=options, service=Service(driver, env=env))
        except Exception:
            self.display.stop()
            raise

    def execute(self, driver_command: str, params: dict | None = None):
        response = super().execute(driver_command, params)
        if driver_command in NAVIGATING:
            try:
                self.execute_script(WATCH)
            except Exception:  # the page is between documents; get_log watches the next one
                pass
        return response

    def get_log(self, kind: str) -> list[dict]:
        """What the page reported since the last call, as Chromium's `get_log("browser")` gives it."""
        if kind != "browser":
            raise ValueError(f"WebKitWebDriver keeps no {kind!r} log (support/app_browser.py's network_requests reads the page's own)")
        try:
            return self.execute_script(DRAIN)
        except Exception:  # the page is between documents
            return []

    def quit(self):
        try:
            super().quit()
        finally:
            self.display.stop()
