"""Fixtures for the end-to-end tests of `site publish`.

- `peer` (module scope): a started AwsPeer; see support/aws_peer.py.
- `bucket`: a fresh, uniquely named bucket on the peer.
- `fault_proxy(**faults)`: starts a FaultProxy in front of the peer and returns
  it; stopped after the test, its request log saved to the test's tmp_path.
- `site_bin`: the `site` executable, or a skip if it has not been built.
- `run_site(args, env, cwd)`: runs `site` and captures its output.
- `project`: a copy of the starter app in tmp_path, so a test can edit it.
- `target`: a bucket with a CloudFront distribution, and the environment that
  makes `site publish --env production` of `project` go there.
- `cloud` (module scope): a started `site cloud` with a fresh data folder; see support/local_cloud.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from support.aws_peer import AwsPeer
from support.fault_proxy import FaultProxy
from support.local_cloud import LocalCloud, cloud_binary

REPO = Path(__file__).resolve().parents[2]


def site_binary() -> Path:
    """$SITE_BIN if set, else the newer of the release and debug builds in the repository."""
    return cloud_binary()


def run_site(args, env: dict[str, str], cwd, timeout: float = 120.0
             ) -> subprocess.CompletedProcess:
    """Runs `site ARGS`; raises subprocess.TimeoutExpired (after killing it)
    if it takes longer than `timeout` seconds."""
    return subprocess.run([str(site_binary()), *map(str, args)], env=env, cwd=cwd,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def peer():
    with AwsPeer() as started:
        yield started


@pytest.fixture
def bucket(peer) -> str:
    return peer.create_bucket(f"site-e2e-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def fault_proxy(peer, tmp_path):
    proxies = []

    def start(**faults) -> FaultProxy:
        proxy = FaultProxy(peer.url, **faults).start()
        proxies.append(proxy)
        return proxy

    yield start
    for number, proxy in enumerate(proxies):
        proxy.stop()
        proxy.dump_log(tmp_path / f"proxy-{number}.json")


@pytest.fixture
def site_bin() -> Path:
    path = site_binary()
    if not path.exists():
        if "SITE_BIN" in os.environ:
            pytest.fail(f"SITE_BIN={path} does not exist")
        pytest.skip(f"{path} is not built (swift build)")
    return path


@pytest.fixture
def project(tmp_path):
    """A copy of the starter app, so tests can edit it."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "site", root / "site")
    shutil.copytree(REPO / "assets", root / "assets")
    return root


@pytest.fixture
def target(peer, bucket, project, site_bin):
    distribution = peer.create_distribution(bucket)
    env = peer.env()
    env.update({"SITE_PUBLISH_BUCKET": bucket, "SITE_PUBLISH_DISTRIBUTION_IDS": distribution, "NO_COLOR": "1"})
    return {"bucket": bucket, "distribution": distribution, "env": env, "project": project}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    binary = cloud_binary()
    if not binary.exists():
        pytest.skip(f"{binary} is not built (swift build)")
    started = LocalCloud(binary, tmp_path_factory.mktemp("cloud")).start()
    try:
        yield started
    finally:
        started.stop()


# -- order ------------------------------------------------------------------------------------------
def pytest_configure(config):
    config.addinivalue_line("markers", "early: a long file, started first so that the workers finish together")


def pytest_collection_modifyitems(items):
    """The files marked `early` first (scripts/test gives each file a worker, in this order); the
    rest keep their order."""
    items.sort(key=lambda item: item.get_closest_marker("early") is None)
