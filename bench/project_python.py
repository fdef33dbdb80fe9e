"""Makes the benchmark that imports it run on the project's virtualenv, .venv/.

`scripts/install-deps bench` fills .venv/ with exactly what bench/requirements.txt locks. A benchmark
started with any other Python (`bench/upload` through its `#!/usr/bin/env python3` line, say) is
started again here with .venv/bin/python, so it never measures with the system's packages.
"""
import os
import sys

VENV = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".venv")
PYTHON = os.path.join(VENV, "bin", "python")

if os.path.realpath(sys.prefix) != os.path.realpath(VENV):
    if not os.path.exists(PYTHON):
        sys.exit(f"{sys.argv[0]}: {VENV} is missing: run scripts/install-deps bench")
    os.execv(PYTHON, [PYTHON, *sys.argv])
