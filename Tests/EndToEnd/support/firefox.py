"""Firefox for the browser suites: Debian's firefox-esr started headless with a fresh profile and
driven through Marionette (marionette-driver; geckodriver, which Selenium would need, is not
packaged), behind the part of Selenium's WebDriver API the suites call, so a test reads the same in
every engine.

- `FirefoxBrowser()`: starts firefox-esr on a free Marionette port; `quit()` ends it.
- Its `get_log("browser")` answers as Chromium's does (`{"level", "message"}`, drained on reading):
  the console service's errors and warnings from web content (CSP and Trusted Types reports,
  uncaught script errors, read by a listener in the browser's chrome, hence
  `-remote-allow-system-access`) and the page's `console.error`/`console.warn` calls (printed to
  stdout by `devtools.console.stdout.content`; the browser's own console output is kept off).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

from marionette_driver import errors
from marionette_driver.marionette import Marionette, WebElement
from selenium.common import exceptions as selenium_errors

from . import free_port

# A quiet test browser: no first-run or what's-new pages, no updates, telemetry, experiments or
# background fetches; media plays without a gesture; one CSS pixel is one device pixel (as
# Chromium's --force-device-scale-factor=1).
PREFS = {
    "remote.prefs.recommended": True,
    "media.autoplay.default": 0,
    "media.autoplay.blocking_policy": 0,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "browser.aboutwelcome.enabled": False,
    "startup.homepage_welcome_url": "",
    "startup.homepage_welcome_url.additional": "",
    "app.update.disabledForTesting": True,
    "app.update.auto": False,
    "app.normandy.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "extensions.update.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.tabs.warnOnClose": False,
    "layout.css.devPixelsPerPx": "1.0",
    "devtools.console.stdout.content": True,
    "devtools.console.stdout.chrome": False,
    "messaging-system.log": "off",  # the experiments loader's own console, which ignores the above
}

# Registered once in the chrome: keeps the console service's messages from web pages (not the
# browser's own code) until get_log reads them.
LISTEN = """
  const kept = [];
  globalThis.consoleKept = kept;
  const own = /^(chrome|resource|jar|moz-extension|about):/;
  Services.console.registerListener({ observe(message) {
    if (!(message instanceof Ci.nsIScriptError)) return;
    if (/chrome|component/.test(message.category) || own.test(message.sourceName || '')) return;
    const warning = message.flags & Ci.nsIScriptError.warningFlag, info = message.flags & Ci.nsIScriptError.infoFlag;
    // A script error is worded as Chromium words it ("Uncaught ..."), which console_problems looks for.
    const uncaught = !warning && !info && message.category === 'content javascript' ? 'Uncaught ' : '';
    kept.push({ level: warning ? 'WARNING' : info ? 'INFO' : 'SEVERE',
                message: `${message.sourceName || ''}${message.lineNumber ? ' ' + message.lineNumber + ':' + message.columnNumber : ''} ${uncaught}${message.errorMessage}`.trim() });
  } });
"""
DRAIN = "const taken = globalThis.consoleKept.splice(0); return taken;"

# Selenium's getAttribute: the current value of form state, "true" or None for boolean attributes,
# else the attribute (the property when there is no attribute).
GET_ATTRIBUTE = """
  const [element, name] = arguments;
  const booleans = ['async', 'autofocus', 'autoplay', 'checked', 'controls', 'default', 'defer', 'disabled',
    'formnovalidate', 'hidden', 'inert', 'ismap', 'loop', 'multiple', 'muted', 'novalidate', 'open', 'readonly',
    'required', 'reversed', 'selected'];
  const lower = name.toLowerCase();
  if (lower === 'checked' || lower === 'selected') return element[lower] ? 'true' : null;
  if (booleans.includes(lower)) return element.hasAttribute(name) ? 'true' : null;
  if (lower === 'value' && 'value' in element) return element.value == null ? null : String(element.value);
  if (element.hasAttribute(name)) return element.getAttribute(name);
  const value = element[name];
  return value == null || typeof value === 'object' || typeof value === 'function' ? null : String(value);
"""

# Marionette's errors as the Selenium errors the suites (and wait_until's callers) expect.
ERRORS = {
    errors.NoSuchElementException: selenium_errors.NoSuchElementException,
    errors.StaleElementException: selenium_errors.StaleElementReferenceException,
    errors.ElementNotInteractableException: selenium_errors.ElementNotInteractableException,
    errors.ElementClickInterceptedException: selenium_errors.ElementClickInterceptedException,
    errors.InvalidElementStateException: selenium_errors.InvalidElementStateException,
    errors.JavascriptException: selenium_errors.JavascriptException,
    errors.ScriptTimeoutException: selenium_errors.TimeoutException,
    errors.TimeoutException: selenium_errors.TimeoutException,
    errors.NoAlertPresentException: selenium_errors.NoAlertPresentException,
    errors.NoSuchWindowException: selenium_errors.NoSuchWindowException,
}


def selenium_errors_for(function):
    @functools.wraps(function)
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except errors.MarionetteException as error:
            raise ERRORS.get(type(error), selenium_errors.WebDriverException)(str(error)) from None
    return call


class FirefoxElement:
    """A page element, with Selenium's WebElement methods."""

    def __init__(self, browser: "FirefoxBrowser", element: WebElement):
        self._browser = browser
        self._element = element

    @property
    def text(self) -> str:
        return selenium_errors_for(lambda: self._element.text)()

    @property
    def tag_name(self) -> str:
        return selenium_errors_for(lambda: self._element.tag_name)()

    @property
    def rect(self) -> dict:
        return selenium_errors_for(lambda: self._element.rect)()

    @selenium_errors_for
    def get_attribute(self, name: str):
        return self._browser.execute_script(GET_ATTRIBUTE, self, name)

    @selenium_errors_for
    def get_dom_attribute(self, name: str):
        return self._element.get_attribute(name)

    @selenium_errors_for
    def get_property(self, name: str):
        return self._browser._wrap(self._element.get_property(name))

    @selenium_errors_for
    def is_displayed(self) -> bool:
        return self._element.is_displayed()

    @selenium_errors_for
    def is_enabled(self) -> bool:
        return self._element.is_enabled()

    @selenium_errors_for
    def is_selected(self) -> bool:
        return self._element.is_selected()

    @selenium_errors_for
    def click(self):
        self._element.click()

    @selenium_errors_for
    def clear(self):
        self._element.clear()

    @selenium_errors_for
    def send_keys(self, *values: str):
        self._element.send_keys(*values)

    @selenium_errors_for
    def find_element(self, by: str, value: str) -> "FirefoxElement":
        return FirefoxElement(self._browser, self._element.find_element(by, value))

    @selenium_errors_for
    def find_elements(self, by: str, value: str) -> list["FirefoxElement"]:
        return [FirefoxElement(self._browser, e) for e in self._element.find_elements(by, value)]

    @selenium_errors_for
    def screenshot_as_png(self) -> bytes:
        return self._browser.marionette.screenshot(element=self._element, format="binary", full=False)

    def screenshot(self, path: str) -> bool:
        Path(path).write_bytes(self.screenshot_as_png())
        return True

    def __eq__(self, other):
        return isinstance(other, FirefoxElement) and self._element == other._element

    def __hash__(self):
        return hash(self._element.id)


class SwitchTo:
    def __init__(self, browser: "FirefoxBrowser"):
        self._browser = browser

    @property
    def active_element(self) -> FirefoxElement:
        return FirefoxElement(self._browser, selenium_errors_for(self._browser.marionette.get_active_element)())

    @property
    def alert(self):
        from marionette_driver.marionette import Alert
        return Alert(self._browser.marionette)

    @selenium_errors_for
    def window(self, handle: str):
        self._browser.marionette.switch_to_window(handle)

    @selenium_errors_for
    def new_window(self, type_hint: str = "tab"):
        handle = self._browser.marionette.open(type="window" if type_hint == "window" else "tab", focus=True)["handle"]
        self._browser.marionette.switch_to_window(handle)


class FirefoxBrowser:
    """firefox-esr, headless, with a fresh profile, through Marionette."""

    engine = "firefox"

    def __init__(self, timeout: float = 60.0):
        binary = shutil.which("firefox-esr") or shutil.which("firefox")
        if not binary:
            raise AssertionError("firefox-esr is missing: scripts/install-deps test installs it")
        self.profile = Path(tempfile.mkdtemp(prefix="e2e-firefox-"))
        port = free_port()
        prefs = {**PREFS, "marionette.port": port}
        (self.profile / "user.js").write_text("".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items()))
        self.output: list[str] = []
        self._read = 0
        self.process = subprocess.Popen(
            [binary, "--marionette", "--headless", "--no-remote", "-remote-allow-system-access", "--profile", str(self.profile)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
            start_new_session=True)
        threading.Thread(target=self._drain, daemon=True).start()
        self.service = SimpleNamespace(process=self.process)  # as Selenium's, for MemoryWatch
        self.marionette = Marionette(host="127.0.0.1", port=port, startup_timeout=int(timeout))
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.marionette.start_session()
                break
            except (errors.MarionetteException, OSError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("firefox-esr did not start:\n" + "".join(self.output[-30:])) from None
                time.sleep(0.2)
        with self.marionette.using_context("chrome"):
            self.marionette.execute_script(LISTEN, sandbox="e2e-console", new_sandbox=False)
            # The browser window is at least 500 px wide, wider than a phone (and the app's 30rem step).
            self.marionette.execute_script("document.documentElement.style.minWidth = '0px'")
        self.switch_to = SwitchTo(self)

    def _drain(self):
        for line in self.process.stdout:
            self.output.append(line)

    # -- values between the page and Python --------------------------------------------------------
    def _unwrap(self, value):
        if isinstance(value, FirefoxElement):
            return value._element
        if isinstance(value, (list, tuple)):
            return [self._unwrap(v) for v in value]
        if isinstance(value, dict):
            return {k: self._unwrap(v) for k, v in value.items()}
        return value

    def _wrap(self, value):
        if isinstance(value, WebElement):
            return FirefoxElement(self, value)
        if isinstance(value, list):
            return [self._wrap(v) for v in value]
        if isinstance(value, dict):
            return {k: self._wrap(v) for k, v in value.items()}
        return value

    # -- Selenium's WebDriver ----------------------------------------------------------------------
    @selenium_errors_for
    def get(self, url: str):
        self.marionette.navigate(url)

    @property
    def current_url(self) -> str:
        return selenium_errors_for(self.marionette.get_url)()

    @property
    def title(self) -> str:
        return selenium_errors_for(lambda: self.marionette.title)()

    @property
    def current_window_handle(self) -> str:
        return self.marionette.current_window_handle

    @property
    def window_handles(self) -> list[str]:
        return self.marionette.window_handles

    @selenium_errors_for
    def find_element(self, by: str, value: str) -> FirefoxElement:
        return FirefoxElement(self, self.marionette.find_element(by, value))

    @selenium_errors_for
    def find_elements(self, by: str, value: str) -> list[FirefoxElement]:
        return [FirefoxElement(self, e) for e in self.marionette.find_elements(by, value)]

    @selenium_errors_for
    def execute_script(self, script: str, *args):
        # In the page's own scope (no sandbox), as WebDriver runs a script.
        return self._wrap(self.marionette.execute_script(script, script_args=self._unwrap(list(args)),
                                                         sandbox=None, new_sandbox=False))

    @selenium_errors_for
    def execute_async_script(self, script: str, *args):
        return self._wrap(self.marionette.execute_async_script(script, script_args=self._unwrap(list(args)),
                                                               sandbox=None, new_sandbox=False))

    @selenium_errors_for
    def get_screenshot_as_png(self) -> bytes:
        return self.marionette.screenshot(format="binary", full=False)

    def save_screenshot(self, path: str) -> bool:
        Path(path).write_bytes(self.get_screenshot_as_png())
        return True

    @selenium_errors_for
    def set_window_size(self, width: int, height: int):
        self.marionette.set_window_rect(width=width, height=height)

    @selenium_errors_for
    def get_window_size(self) -> dict:
        rect = self.marionette.window_rect
        return {"width": rect["width"], "height": rect["height"]}

    @selenium_errors_for
    def refresh(self):
        self.marionette.refresh()

    @selenium_errors_for
    def back(self):
        self.marionette.go_back()

    @selenium_errors_for
    def delete_all_cookies(self):
        self.marionette.delete_all_cookies()

    @selenium_errors_for
    def close(self):
        self.marionette.close()

    def get_log(self, kind: str) -> list[dict]:
        """The console since the last call, as Chromium's `get_log("browser")` gives it."""
        if kind != "browser":
            raise selenium_errors.WebDriverException(f"Firefox keeps no {kind!r} log (support/app_browser.py's network_requests reads the page's own)")
        with self.marionette.using_context("chrome"):
            entries = self.marionette.execute_script(DRAIN, sandbox="e2e-console", new_sandbox=False)
        lines, self._read = self.output[self._read:], len(self.output)
        for line in lines:
            for prefix, level in (("console.error: ", "SEVERE"), ("console.warn: ", "WARNING")):
                if line.startswith(prefix):
                    entries.append({"level": level, "message": "console-api " + line[len(prefix):].strip()})
        return entries

    def quit(self):
        try:
            self.marionette.delete_session()
        except Exception:  # the browser may be gone already
            pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
