"""The fixtures the end-to-end suites share (support/ holds what they start; no test file imports
another), and the order the files run in.

- `peer` (module scope): a started AwsPeer; see support/aws_peer.py.
- `bucket`: a fresh, uniquely named bucket on the peer.
- `fault_proxy(**faults)`: starts a FaultProxy in front of the peer and returns
  it; stopped after the test, its request log saved to the test's tmp_path.
- `site_bin`: the `site` executable, or a skip if it has not been built (support/site.py's
  built_site()).
- `project`: a copy of the starter app in tmp_path, so a test can edit it.
- `target`: a bucket with a CloudFront distribution, and the environment that
  makes `site publish --env production` of `project` go there.
- `production`: a started ProductionPeer on `peer`; see support/production_peer.py.
- `cloud` (module scope): a started `site cloud` with a fresh data folder; see support/local_cloud.py.
- `api_host` (module scope): the video API's two hosts in turn, the local cloud and the production
  host (support/lambda_cloud.py); a suite that runs on both defines its `cloud` as this.
- `browser` (module scope): headless Chromium (support/app_browser.py's new_browser);
  `no_console_problems` fails a test after which its console reported a policy or script error.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from support.app_browser import console_problems, new_browser
from support.aws_peer import AwsPeer
from support.fault_proxy import FaultProxy
from support.lambda_cloud import LambdaCloud
from support.lambda_host import build_lambda
from support.local_cloud import LocalCloud
from support.production_peer import ProductionPeer
from support.site import built_site, starter_copy


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
    return starter_copy(tmp_path / "project")


@pytest.fixture
def target(peer, bucket, project, site_bin):
    distribution = peer.create_distribution(bucket)
    env = peer.env()
    env.update({"SITE_PUBLISH_BUCKET": bucket, "SITE_PUBLISH_DISTRIBUTION_IDS": distribution, "NO_COLOR": "1"})
    return {"bucket": bucket, "distribution": distribution, "env": env, "project": project}


@pytest.fixture
def production(peer):
    """A started ProductionPeer on the module's moto_server (`peer`)."""
    with ProductionPeer(peer) as started:
        yield started


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    started = LocalCloud(built_site(), tmp_path_factory.mktemp("cloud")).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module", params=["local", "lambda"])
def api_host(request, tmp_path_factory):
    """The local cloud; or the production host with the local cloud's user pool in front."""
    with LocalCloud(built_site(), tmp_path_factory.mktemp("cloud")) as local:
        if request.param == "local":
            yield local
            return
        with AwsPeer() as aws, ProductionPeer(aws, allowed_origins=["http://127.0.0.1:8000"]) as production:
            # Presigned URLs: moto answers them only while it checks no signatures (support/production_peer.py).
            aws.allow_unauthenticated(1_000_000_000)
            with LambdaCloud(local, production, build_lambda().binary) as lambda_cloud:
                yield lambda_cloud


# -- the browser ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    """Headless Chromium with its console and network logged (a browser per module); `problems`
    collects what no_console_problems found."""
    driver = new_browser()
    driver.problems = []
    yield driver
    driver.quit()


@pytest.fixture
def no_console_problems(browser):
    """Fails a test after which the console reported a CSP, Trusted Types or script error. A module
    asks for it in every test with `pytestmark = pytest.mark.usefixtures("no_console_problems")`."""
    yield
    problems = console_problems(browser)
    browser.problems += problems
    assert not problems, "the console reported:\n" + "\n".join(problems)


# -- order ------------------------------------------------------------------------------------------
def pytest_configure(config):
    config.addinivalue_line("markers", "early: a long file, started first so that the workers finish together")


def pytest_collection_modifyitems(items):
    """The files marked `early` first (scripts/test gives each file a worker, in this order); the
    rest keep their order."""
    items.sort(key=lambda item: item.get_closest_marker("early") is None)
