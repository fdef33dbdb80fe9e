"""A stand-in for the AWS CLI, for the tests of the infra/ scripts: a Python script named `aws`,
first on PATH, that records every call in a JSON state file (`calls`) and answers from that state as
its body says. `install` writes it; each suite gives the body for the calls its script makes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# What every fake begins with: the state, read, and this call recorded in it; `option` reads a flag's
# value, and `done` writes the state back and answers.
PROLOGUE = """import json, os, sys
state_file = os.environ["FAKE_AWS_STATE"]
with open(state_file) as f:
    state = json.load(f)
args = sys.argv[1:]
state["calls"].append(args)

def option(name, default=None):
    return args[args.index(name) + 1] if name in args else default

def done(out="", code=0, err=""):
    with open(state_file, "w") as f:
        json.dump(state, f)
    sys.stdout.write(out)
    sys.stderr.write(err)
    sys.exit(code)
"""


def install(folder: Path, body: str, state: dict) -> tuple[Path, dict]:
    """Writes the fake (PROLOGUE, then `body`) as `folder/bin/aws` and `state` (with an empty
    `calls`) as `folder/aws-state.json`; returns that file and an environment with the fake first on
    PATH and none of the caller's AWS region or profile."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "aws"
    fake.write_text(f"#!{sys.executable}\n" + PROLOGUE + body)
    fake.chmod(0o755)
    state_file = folder / "aws-state.json"
    state_file.write_text(json.dumps({"calls": [], **state}))
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_AWS_STATE": str(state_file)}
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        env.pop(name, None)
    return state_file, env
