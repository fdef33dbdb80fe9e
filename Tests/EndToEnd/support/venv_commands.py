"""Commands that the tests' Python packages install (moto_server, cfn-lint, st).

The one beside the Python running the tests comes first: that is the project's virtualenv, .venv/,
which scripts/install-deps fills from Tests/EndToEnd/requirements.txt. Only then PATH, so a copy in
the system's Python never stands in for the locked one when pytest is started as .venv/bin/python."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def venv_command(name: str) -> str | None:
    """The path of NAME in the running virtualenv's bin/, else on PATH, else None."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
