"""Fixtures for the end-to-end tests of `site publish`.

- `peer` (module scope): a started AwsPeer; see support/aws_peer.py.
- `bucket`: a fresh, uniquely named bucket on the peer.
- `fault_proxy(**faults)`: starts a FaultProxy in front of the peer and returns
  it; stopped after the test, its request log saved to the test's tmp_path.
- `site_bin`: the `site` executable, or a skip if it has not been built (support/site.py's
  built_site()).
- `project`: a copy of the starter app in tmp_path, so a test can edit it.
- `target`: a bucket with a CloudFront distribution, and the environment that
  makes `site publish --env production` of `project` go there.
- `cloud` (module scope): a started `site cloud` with a fresh data folder; see support/local_cloud.py.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from support import REPO  # noqa: F401  (test_readme.py reads it from here)
from support.aws_peer import AwsPeer
from support.fault_proxy import FaultProxy
from support.local_cloud import LocalCloud
from support.site import built_site


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
    return built_site()


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
    started = LocalCloud(built_site(), tmp_path_factory.mktemp("cloud")).start()
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
