"""The `site` binary: one rule finds it for every suite; running it, and `site serve` on a copy of the
starter app.

`site_binary()` is $SITE_BIN when set (scripts/test sets it to the release build), else the newer of
the repository's release and debug builds. `built_site()` is the same path for a test that cannot
run without it: the test fails if $SITE_BIN names a file that does not exist, and is skipped if
nothing was built.

`Served(project, *args)` is `site serve --port 0 ARGS` in `project`, started once it answers and its
first build has ended, its output kept line by line; `starter_copy(root)` makes such a project.
`direct(origin, target)` is one request to exactly `target`, no header added."""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from . import REPO


def site_binary() -> Path:
    """$SITE_BIN if set, else the newer of the release and debug builds in the repository (the
    release build's path when neither exists)."""
    if os.environ.get("SITE_BIN"):
        return Path(os.environ["SITE_BIN"])
    release, debug = REPO / ".build" / "release" / "site", REPO / ".build" / "debug" / "site"
    built = [path for path in (release, debug) if path.exists()]
    return max(built, key=lambda path: path.stat().st_mtime) if built else release


def built_site() -> Path:
    """site_binary(), which exists: else the test fails (when $SITE_BIN names it) or is skipped."""
    path = site_binary()
    if not path.exists():
        if os.environ.get("SITE_BIN"):
            pytest.fail(f"SITE_BIN={path} does not exist")
        pytest.skip(f"{path} is not built (swift build)")
    return path


def run_site(args, env: dict[str, str], cwd, timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Runs `site ARGS`; raises subprocess.TimeoutExpired (after killing it) if it takes longer
    than `timeout` seconds."""
    return subprocess.run([str(site_binary()), *map(str, args)], env=env, cwd=cwd,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, check=False)


# -- site serve ------------------------------------------------------------------------------------------
class Served:
    """`site serve --port 0 ARGS` in `project`, once it answers and its first build has ended."""

    def __init__(self, project: Path, *args: str):
        self.project = project
        self.lines: list[str] = []
        self.process = subprocess.Popen([str(site_binary()), "serve", "--port", "0", *args], cwd=project,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        self.url = None
        built = False
        # The server answers once it prints its URL; the first build, written to dist/, ends with its own line.
        while self.url is None or not built:
            line = self.process.stdout.readline()
            assert line and time.monotonic() < deadline, "site serve did not start:\n" + "".join(self.lines)
            self.lines.append(line)
            if line.startswith("site: "):
                self.url = line.split(" ", 1)[1].strip().rstrip("/")
            built = built or line.startswith(("rebuilt (start)", "build failed (start)"))
        threading.Thread(target=self._drain, daemon=True).start()
        parsed = urllib.parse.urlparse(self.url)
        self.host, self.port = parsed.hostname, parsed.port

    def _drain(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def get(self, target: str, headers: dict | None = None, method: str = "GET"):
        return direct(self.url, target, headers, method)

    def rebuilds(self) -> int:
        """How many rebuilds have ended (written to dist/, or failed)."""
        return sum(line.startswith(("rebuilt (", "build failed (")) for line in list(self.lines))

    def wait_for_rebuilds(self, count: int, timeout: float = 60.0):
        """Waits until `count` rebuilds have ended."""
        deadline = time.monotonic() + timeout
        while self.rebuilds() < count:
            assert time.monotonic() < deadline, "".join(self.lines[-20:])
            time.sleep(0.02)

    def wait_until_settled(self, quiet: float = 1.0, timeout: float = 60.0):
        """Waits until no rebuild has ended for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        count, since = self.rebuilds(), time.monotonic()
        while time.monotonic() - since < quiet:
            assert time.monotonic() < deadline, "rebuilds never settled"
            time.sleep(0.05)
            if self.rebuilds() != count:
                count, since = self.rebuilds(), time.monotonic()

    def stop(self):
        self.process.terminate()
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def starter_copy(root: Path) -> Path:
    """A copy of the starter app at `root`, for a server the test may edit under."""
    shutil.copytree(REPO / "site", root / "site")
    shutil.copytree(REPO / "assets", root / "assets")
    return root


def direct(origin: str, target: str, headers: dict | None = None, method: str = "GET"):
    """The answer of the server at `origin` to exactly `target` (not re-encoded, no header added):
    (status, headers, body)."""
    parsed = urllib.parse.urlparse(origin)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()
