"""The `site` binary: one rule finds it for every suite, and runs it.

`site_binary()` is $SITE_BIN when set (scripts/test sets it to the release build), else the newer of
the repository's release and debug builds. `built_site()` is the same path for a test that cannot
run without it: the test fails if $SITE_BIN names a file that does not exist, and is skipped if
nothing was built."""

from __future__ import annotations

import os
import subprocess
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
