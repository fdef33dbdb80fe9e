"""What the benchmarks share: the project's Python, the `site` binary, the processes they start,
timing, statistics and the tables they print.

Every benchmark imports it first (`import benchlib`), and that import makes it run on the
project's virtualenv, .venv/: `scripts/install-deps bench` fills .venv/ with exactly what
bench/requirements.txt locks, and a benchmark started with any other Python (`bench/upload.py`
through its `#!/usr/bin/env python3` line, say) is started again with .venv/bin/python, so it never
measures with the system's packages; .venv/bin goes first on PATH for the commands it starts.

- `REPO`; `install_deps(kind)`: scripts/install-deps; `use_test_support()`: puts Tests/EndToEnd on
  sys.path, so that the end-to-end suites' `support` package (the local cloud, the app in
  Chromium) imports.
- `add_site_binary_option(parser)` and `site_binary(given)`: --site-binary, else
  .build/release/site built with `swift build -c release --product site --force-resolved-versions`.
- `Server`: a process in a session of its own whose output is kept line by line; `free_port()`;
  `proc_status_kib(pid, field)` and `RssSampler`: resident memory from /proc.
- `timed(cmd)`: a command's wall time, exiting with its output if it fails; `fail(message)`.
- `median`, `p90`; `at_most(name, value, limit)` and `verdict(checks)`: the verdict line;
  `Table`: a markdown table with a "met?" column.
- `incompressible_file(path, size)`.
"""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(REPO, ".venv")
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

import shutil  # noqa: E402
import signal  # noqa: E402  (after the re-exec: nothing of the wrong Python is imported)
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

MIB = 1024 * 1024


# -- the project ----------------------------------------------------------------------------------
def install_deps(kind="bench"):
    """Installs what `scripts/install-deps KIND` installs and is missing (nothing when all is there)."""
    subprocess.run([os.path.join(REPO, "scripts", "install-deps"), kind], cwd=REPO, check=True)


def use_test_support():
    """Puts Tests/EndToEnd on sys.path: `from support.local_cloud import LocalCloud` then works."""
    tests = os.path.join(REPO, "Tests", "EndToEnd")
    if tests not in sys.path:
        sys.path.insert(0, tests)


def add_site_binary_option(parser):
    parser.add_argument("--site-binary", help="use this site binary instead of building .build/release/site")


def site_binary(given=None):
    """The absolute path of `given` (--site-binary); without one, .build/release/site, built first
    (`swift build -c release --product site --force-resolved-versions`: the versions
    Package.resolved locks; quick when it is up to date). Exits unless it is an executable."""
    if given is None:
        subprocess.run(["swift", "build", "-c", "release", "--product", "site", "--force-resolved-versions"],
                       cwd=REPO, check=True)
        given = os.path.join(REPO, ".build", "release", "site")
    path = os.path.abspath(given)
    if not os.access(path, os.X_OK):
        sys.exit(f"error: {path} is not an executable")
    return path


# -- processes ------------------------------------------------------------------------------------
def fail(message, output=None, name="the server"):
    """Exits 1 with `error: message`, and the last 20 lines of `output` (the lines `name` printed)."""
    if output:
        message += f"\n-- last lines of {name}'s output:\n" + "\n".join(line.rstrip("\n") for line in output[-20:])
    raise SystemExit("error: " + message)


def timed(cmd, env=None, cwd=None, what=None, timeout=None):
    """Runs cmd; returns its wall time in seconds. Exits with its output if it fails."""
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=timeout)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        fail(f"{what or '`' + ' '.join(map(str, cmd)) + '`'} exited with {result.returncode}:\n"
             f"{result.stdout}{result.stderr}")
    return wall


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A process in a session of its own, its output (stdout and stderr) kept line by line with the
    time each arrived: `lines` holds (perf_counter, line) pairs, `texts()` the lines alone."""

    def __init__(self, name, cmd, cwd):
        self.name, self.cmd, self.cwd = name, [str(part) for part in cmd], cwd
        self.lines = []
        self.started = time.perf_counter()
        self.process = subprocess.Popen(self.cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, errors="replace",
                                        start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append((time.perf_counter(), line.rstrip("\n")))

    def texts(self):
        return [line for _, line in list(self.lines)]

    def output(self, last=40):
        return "\n".join(self.texts()[-last:])

    def fail(self, problem):
        """Stops the server and exits 1 naming it, with the end of its output."""
        self.stop()
        sys.exit(f"error: {self.name} ({' '.join(self.cmd)}): {problem}\n{self.output()}")

    def wait_for(self, ready, what, timeout=120.0):
        """Waits until `ready(texts)` holds for the output so far; fails if the process exits first
        or `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while not ready(self.texts()):
            if self.process.poll() is not None:
                self.reader.join(timeout=2)
                self.fail(f"exited with {self.process.returncode} before {what}")
            if time.monotonic() > deadline:
                self.fail(f"{what} did not happen within {timeout:.0f} s")
            time.sleep(0.05)

    def status_kib(self, field):
        return proc_status_kib(self.process.pid, field)

    def stop(self, timeout=10):
        """SIGINT (Ctrl-C), then SIGKILL if it has not exited after `timeout` seconds."""
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGINT)
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=2)

    def save_log(self, path):
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(self.texts()) + "\n")


def proc_status_kib(pid, field):
    """A KiB field of /proc/PID/status (VmRSS, VmHWM, ...); None when the process or field is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class RssSampler(threading.Thread):
    """Samples the process's VmRSS (KiB) every 50 ms once started; `peak` is the largest sample,
    the first taken when it is made."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.stop_event = threading.Event()
        self.peak = self.sample()

    def sample(self):
        return proc_status_kib(self.pid, "VmRSS") or 0

    def run(self):
        while not self.stop_event.wait(0.05):
            self.peak = max(self.peak, self.sample())

    def finish(self):
        """Stops sampling; the peak, one last sample included."""
        self.stop_event.set()
        self.join()
        self.peak = max(self.peak, self.sample())
        return self.peak


# -- files ----------------------------------------------------------------------------------------
def incompressible_file(path, size):
    """`size` bytes that no compression shrinks: a 16 MiB random block, each copy stamped with its
    index so no two are equal; written to disk (fsync) before it returns."""
    block = bytearray(os.urandom(16 * MIB))
    with open(path, "wb") as f:
        written, index = 0, 0
        while written < size:
            block[:8] = index.to_bytes(8, "little")
            chunk = block[:min(len(block), size - written)]
            f.write(chunk)
            written += len(chunk)
            index += 1
        f.flush()
        os.fsync(f.fileno())


def clean_outputs(tool, root):
    """Removes what `tool` (`site` or `hugo`) built in `root` before, so its next build or start is cold."""
    paths = ([f"{root}/dist", f"{root}/.dist.spare", f"{root}/.dist.lock"] if tool == "site"
             else [f"{root}/public", f"{root}/resources"])
    for path in paths:
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


# -- statistics and the report --------------------------------------------------------------------
def median(values):
    return statistics.median(values)


def p90(values):
    values = list(values)
    return statistics.quantiles(values, n=10, method="inclusive")[8] if len(values) > 1 else values[0]


def at_most(name, value, limit, digits=".3f"):
    """A check for verdict(): `name value ≤ limit`, held when value is at most limit."""
    held = value <= limit
    return f"{name} {value:{digits}} {'≤' if held else '>'} {limit}", held


def verdict(checks, label="verdict"):
    """The verdict line of (text, held) checks: `label: targets hold — text ok; …` (or MISSED)."""
    held = all(ok for _, ok in checks)
    return (f"{label}: {'targets hold' if held else 'targets MISSED'} — "
            + "; ".join(f"{text} {'ok' if ok else 'MISSED'}" for text, ok in checks))


class Table:
    """A markdown table. `align` has an `l` or `r` per column. When the last column is "met?",
    row()'s `met` fills it: yes, **no**, or — when the measure has no target."""

    def __init__(self, *columns, align=None):
        self.columns = columns
        self.align = align or "l" * len(columns)
        self.rows = []

    def row(self, *cells, met=None):
        """A row; cells left out are —."""
        width = len(self.columns) - (self.columns[-1] == "met?")
        cells = [str(cell) for cell in cells] + ["—"] * (width - len(cells))
        if self.columns[-1] == "met?":
            cells.append("—" if met is None else ("yes" if met else "**no**"))
        self.rows.append(cells)

    def lines(self):
        rule = "|" + "|".join("---:" if kind == "r" else "---" for kind in self.align) + "|"
        return ["| " + " | ".join(self.columns) + " |", rule] + ["| " + " | ".join(cells) + " |" for cells in self.rows]

    def __str__(self):
        return "\n".join(self.lines())
