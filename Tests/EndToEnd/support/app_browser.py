"""Driving the app in a browser: a served copy of the app with the local cloud, a browser that
records its console, and screenshots at phone and desktop widths.

- `AppServer`: `site serve` on free ports with the local cloud (its data in a temp folder); its
  `cloud` is a LocalCloud client of that cloud (mailbox, boto3) without a process of its own.
- `ENGINES` and `new_browser(engine)`: headless Chromium (chromium-driver, with the console and
  network logged), Firefox (firefox-esr through Marionette, support/firefox.py) or WebKit
  (MiniBrowser through WebKitWebDriver on Xvfb, support/webkit.py). Each answers the same part of
  Selenium's WebDriver API, `engine` names it, and `get_log("browser")` gives its console.
- `Screens`: saves `<name>-390.png` and `<name>-1280.png` into the folder it names (Chromium) or
  that folder's `-firefox`/`-webkit` sibling.
- `console_problems(driver)`: CSP, Trusted Types and uncaught-script errors the console reported.
- `network_requests(driver)`: the requests the page sent (Chromium's performance log; in Firefox
  and WebKit the page's Resource Timing entries, without methods or headers).
- `MemoryWatch(driver)`: the peak resident memory of the browser's processes while it runs.
- The app's pages: `sign_in` (through the sign-in and MFA pages), `open_page`, `open_upload`,
  `choose` (files for the upload page), the upload rows (`upload_row`, `wait_row_state`) and the
  library's cards (`card`, `wait_card_status`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from . import REPO
from .local_cloud import LocalCloud, fresh_totp
from .site import Served, starter_copy

SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or REPO / ".test-output" / "screenshots")
WIDTHS = (390, 1280)


class AppServer:
    def __init__(self, root: Path, *extra: str):
        self.project = starter_copy(root / "project")
        self.served = Served(self.project, "--cloud-port", "0", "--cloud-data", str(root / "cloud"), *extra)
        self.url = self.served.url
        self.cloud = LocalCloud.attached_to(self.served, root / "cloud")

    def stop(self):
        self.served.stop()


ENGINES = ("chromium", "firefox", "webkit")


def new_browser(engine: str = "chromium"):
    """A started browser of `engine` (one of ENGINES)."""
    if engine == "firefox":
        from .firefox import FirefoxBrowser
        return FirefoxBrowser()
    if engine == "webkit":
        from .webkit import WebKitBrowser
        return WebKitBrowser()
    assert engine == "chromium", f"unknown browser engine {engine!r} (one of {', '.join(ENGINES)})"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        raise AssertionError("chromium and chromium-driver are missing: scripts/install-deps test installs them")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.engine = "chromium"
    return driver


def wait_until(condition, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as error:  # the page may be navigating
            last_error = error
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


def wait_for_path(driver, path: str, timeout: float = 20.0):
    started = time.monotonic()
    try:
        wait_until(lambda: driver.execute_script("return location.pathname + location.search") == path
                   and driver.execute_script("return document.readyState") == "complete",
                   timeout, f"the browser to reach {path}")
    except AssertionError as error:
        shown = driver.execute_script(
            "return [...document.querySelectorAll('#form-error, #notice')].map(e => e.textContent.trim()).join(' | ')")
        console = [entry.get("message", "") for entry in driver.get_log("browser")][-5:]
        state = driver.execute_script("return document.readyState + ' ' + location.pathname + location.search")
        raise AssertionError(f"{error} after {time.monotonic() - started:.1f} s; at {driver.current_url} ({state}), showing: {shown!r}; console: {console}") from None


def ready(driver, timeout: float = 20.0):
    """Waits for the app's start (session restored, access rule applied) on the current page."""
    wait_until(lambda: driver.execute_script("return document.documentElement.dataset.ready === 'true'"),
               timeout, f"the app to start on {driver.current_url}")


def sign_out_button(driver):
    """The header's sign-out button once the page has started and shows it (Firefox refuses a click
    on it while the header is still being laid out)."""
    ready(driver)
    return wait_until(lambda: (button := field(driver, "sign-out")).is_displayed() and button, 20, "the sign-out button")


def field(driver, element_id: str):
    return driver.find_element(By.ID, element_id)


def fill(driver, element_id: str, text: str):
    """Types `text` into the field, as a person would; under load a driver can lose keystrokes typed
    while the page is still settling (seen in WebKit), so a field that does not hold the text after
    typing is cleared and typed again, once, before the test goes on with what it holds."""
    element = field(driver, element_id)
    for _ in range(2):
        element.clear()
        element.send_keys(text)
        if element.get_attribute("value") == text:
            break
    return element


def submit(driver, form_id: str):
    driver.find_element(By.CSS_SELECTOR, f"#{form_id} button[type=submit]").click()


def summary_text(driver, timeout: float = 20.0) -> str:
    return wait_until(lambda: (e := field(driver, "form-error")).is_displayed() and e.text, timeout, "the error summary")


class Screens:
    """Screenshots into `folder` (Chromium's) or its sibling `<folder>-<engine>` (another engine's);
    each engine's folder is emptied when that engine first saves into it, so the engines of one
    suite can run on different workers at once."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.saved: list[Path] = []
        self._emptied: set[Path] = set()

    def folder_for(self, driver) -> Path:
        engine = getattr(driver, "engine", "chromium")
        folder = self.folder if engine == "chromium" else self.folder.with_name(f"{self.folder.name}-{engine}")
        if folder not in self._emptied:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            self._emptied.add(folder)
        return folder

    def take(self, driver, name: str):
        """Screenshots of the whole page at phone and desktop widths (the layout settled at each)."""
        folder = self.folder_for(driver)
        for width in WIDTHS:
            set_viewport(driver, width, 900)
            time.sleep(0.15)
            height = driver.execute_script("return Math.max(document.documentElement.scrollHeight, 600)")
            set_viewport(driver, width, min(int(height) + 20, 3000))
            time.sleep(0.15)
            path = folder / f"{name}-{width}.png"
            driver.save_screenshot(str(path))
            self.saved.append(path)
        set_viewport(driver, 1280, 900)


def set_viewport(driver, width: int, height: int):
    """Sizes the window so that the page's viewport is `width` × `height` CSS pixels: every
    engine's window is larger than its viewport (by headless Chromium's emulated frame, Firefox's
    and WebKit's toolbars), and a screenshot shows the viewport. WebKit's window is never narrower
    than 447 px (MiniBrowser's toolbar), still below the app's first step at 30rem."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    if inner != [width, height]:
        size = driver.get_window_size()
        driver.set_window_size(size["width"] + width - inner[0], size["height"] + height - inner[1])


def console_problems(driver) -> list[str]:
    """Console entries that mean a policy violation or a script failure."""
    problems = []
    for entry in driver.get_log("browser"):
        message = entry.get("message", "")
        if re.search(r"Content.Security.Policy|Trusted ?Type|TrustedHTML|TrustedScript|Refused to|Uncaught", message, re.I):
            problems.append(message)
    return problems


# The page's Resource Timing entries not yet read (the buffer made large enough for an upload's
# parts on first reading); a request becomes an entry once its answer has come. The list is in
# order of start, so a request that started before the last reading but ended after it lands in the
# middle: entries are remembered by their start and URL, not counted.
RESOURCE_TIMING = """
  if (!window.__requestsRead) {
    window.__requestsRead = new Set();
    performance.setResourceTimingBufferSize(100000);
  }
  const read = window.__requestsRead;
  const fresh = [];
  for (const e of performance.getEntriesByType('resource')) {
    const key = e.startTime + ' ' + e.name;
    if (read.has(key)) continue;
    read.add(key);
    fresh.push([e.name, e.initiatorType, e.responseStatus || 0, performance.timeOrigin + e.startTime]);
  }
  return fresh;
"""


def network_requests(driver) -> list[dict]:
    """The requests the page sent since the last call: each `{url, method, headers, body, id}` and
    its answer `{response, id, url}`. Chromium's performance log has them all; in Firefox and
    WebKit they are the current page's Resource Timing entries: the URL and, where the engine
    says it, the status (`method` is None; no headers or body)."""
    if getattr(driver, "engine", "chromium") != "chromium":
        requests = []
        for url, initiator, status, started in driver.execute_script(RESOURCE_TIMING):
            key = f"{started}-{url}"
            requests.append({"url": url, "method": None, "headers": {}, "body": "", "id": key, "initiator": initiator})
            if status:
                requests.append({"response": status, "id": key, "url": url})
        return requests
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            request = message["params"]["request"]
            requests.append({"url": request["url"], "method": request["method"], "headers": request.get("headers", {}),
                             "body": request.get("postData", ""), "id": message["params"]["requestId"]})
        elif message["method"] == "Network.responseReceived":
            requests.append({"response": message["params"]["response"]["status"], "id": message["params"]["requestId"],
                             "url": message["params"]["response"]["url"]})
    return requests


def decode_qr(png: Path) -> str:
    """The text of the QR code in `png`, read by zbarimg (an independent decoder)."""
    if not shutil.which("zbarimg"):
        raise AssertionError("zbarimg is missing: scripts/install-deps test installs zbar-tools")
    result = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.strip(), f"zbarimg could not read {png}: {result.stderr}"
    return result.stdout.strip()


# -- the app's pages -----------------------------------------------------------------------------
def sign_in(driver, app, email, password, secret, used, *, base="", expect=None):
    """Signs in through the sign-in and MFA pages (a code from `secret` not in `used`) and waits for
    the page after them (the library unless `expect` says another)."""
    driver.get(app.url + f"{base}/login/")
    ready(driver)
    fill(driver, "email", email)
    fill(driver, "password", password)
    submit(driver, "sign-in")
    wait_for_path(driver, f"{base}/mfa/")
    ready(driver)
    fill(driver, "code", fresh_totp(secret, used))
    submit(driver, "mfa")
    wait_for_path(driver, expect or f"{base}/library/")
    ready(driver)


def open_page(driver, app, path: str):
    driver.get(app.url + path)
    ready(driver)


def open_upload(driver, app, base=""):
    open_page(driver, app, f"{base}/upload/")
    wait_until(lambda: driver.execute_script("return document.documentElement.dataset.uploadReady === 'true'"),
               20, "the upload page to start")


# Counts the page's own SHA-256 digests (the main thread's SubtleCrypto; a worker has its own): the
# upload page hashes parts in its worker, so an upload leaves the count at 0.
COUNT_DIGESTS = """
if (!window.__digests) {
  window.__digests = { count: 0 };
  const digest = SubtleCrypto.prototype.digest;
  SubtleCrypto.prototype.digest = function (...args) { window.__digests.count += 1; return digest.apply(this, args); };
}
"""


def main_thread_digests(driver) -> int:
    """How many digests the page computed on its main thread since COUNT_DIGESTS ran."""
    return driver.execute_script("return window.__digests ? window.__digests.count : -1")


def choose(driver, *paths: Path):
    driver.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in paths))


def upload_row(driver, name: str):
    for row in driver.find_elements(By.CSS_SELECTOR, "#uploads li.upload-item"):
        if row.find_element(By.CSS_SELECTOR, ".upload-name").text == name:
            return row
    return None


def row_state(driver, name: str) -> str | None:
    row = upload_row(driver, name)
    return row.get_attribute("data-state") if row else None


def wait_row_state(driver, name: str, *states: str, timeout: float = 120):
    try:
        return wait_until(lambda: row_state(driver, name) in states and row_state(driver, name), timeout,
                          f"the upload of {name} to be {'/'.join(states)}")
    except AssertionError as error:
        row = upload_row(driver, name)
        shown = " ".join(row.text.split()) if row else "no row"
        raise AssertionError(f"{error}; it is {row_state(driver, name)}, showing: {shown!r}") from None


def upload_through_the_page(driver, app, path: Path, *, status: str = "ready", timeout: float = 300,
                            upload_timeout: float = 120) -> str:
    """Uploads `path` through the upload page (its row done within `upload_timeout`), then waits in
    the library for its card to reach `status` (its conversion's end); returns the video's id."""
    open_upload(driver, app)
    choose(driver, path)
    wait_row_state(driver, path.name, "done", timeout=upload_timeout)
    video_id = upload_row(driver, path.name).get_attribute("data-video-id")
    open_page(driver, app, "/library/")
    wait_card_status(driver, video_id, status, timeout=timeout)
    return video_id


def card(driver, video_id: str):
    found = driver.find_elements(By.CSS_SELECTOR, f"#videos li[data-video-id='{video_id}']")
    return found[0] if found else None


def card_status(driver, video_id: str) -> str | None:
    element = card(driver, video_id)
    return element.get_attribute("data-status") if element else None


def wait_card_status(driver, video_id: str, *statuses: str, timeout: float = 180):
    return wait_until(lambda: card_status(driver, video_id) in statuses and card_status(driver, video_id), timeout,
                      f"video {video_id} to be {'/'.join(statuses)} (is {card_status(driver, video_id)})")


class MemoryWatch:
    """Peak resident memory of the browser's processes: their tree is found once a second, their
    `statm` read every 100 ms (cheap enough not to slow what is measured)."""

    def __init__(self, driver):
        self.root = driver.service.process.pid
        self.pids = self._tree()
        self.baseline = self.sample()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                children.setdefault(parent, []).append(int(entry))
        found, stack = [], [self.root]
        while stack:
            pid = stack.pop()
            found.append(pid)
            stack.extend(children.get(pid, []))
        return found

    def sample(self) -> int:
        total = 0
        for pid in self.pids:
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, ValueError, IndexError):
                continue
        return total

    def _run(self):
        ticks = 0
        while not self._stop.is_set():
            ticks += 1
            if ticks % 10 == 0:
                self.pids = self._tree()
            self.peak = max(self.peak, self.sample())
            time.sleep(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
