"""Makes the benchmark that imports it run on the project's virtualenv, .venv/.

`scripts/install-deps bench` fills .venv/ with exactly what bench/requirements.txt locks. A
benchmark started with any other Python (`bench/upload.py` through its `#!/usr/bin/env python3`
line, say) is started again here with .venv/bin/python, so it never measures with the system's
packages, and .venv/bin goes first on PATH for the commands it starts.
"""
import os
import sys

VENV = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".venv")
PYTHON = os.path.join(VENV, "bin", "python")

if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
    if not os.path.exists(PYTHON):
        sys.exit(f"{sys.argv[0]}: {VENV} is missing: run scripts/install-deps bench")
    os.execv(PYTHON, [PYTHON, *sys.argv])

# The commands the locked packages install (aws, moto_server) come first for the tools a
# benchmark starts, as scripts/test does for the tests.
_bin = os.path.join(VENV, "bin")
if os.environ.get("PATH", "").split(os.pathsep)[0] != _bin:
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")
