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
- `browser` (module scope): a browser of the test's `engine` (support/app_browser.py's
  new_browser), one per module and engine; `no_console_problems` fails a test after which its
  console reported a policy or script error.
- `app` (module scope): the app as `site serve` serves it with its local cloud (support/app_browser.py's
  AppServer), one per module, started with the module's `APP_ARGS` if it has them (a tuple of
  `site serve` arguments); `screens` (module scope): screenshots into
  .test-output/screenshots/<the module's name without test_app_>; `alice` (module scope): a new
  user, signed in in the module's browser.
- `engine`: the browser engine a test runs in. Every test that uses `browser` (or `engine`) runs
  once per engine its module lists in `ENGINES`, a module-level tuple of support/app_browser.py's
  ENGINES; without one, in Chromium only. A module opts in with

      ENGINES = ("chromium", "firefox", "webkit")

  and its tests' ids name the engine (`test_x[firefox]`); a test that must run in other engines
  than its module's says so with `@pytest.mark.engines("chromium", "firefox", "webkit")`.
  Module-scoped fixtures that use `browser` or `engine` are made once per engine. $BROWSER_ENGINES
  (comma-separated) keeps only those engines, in every module:
  `BROWSER_ENGINES=webkit pytest Tests/EndToEnd/test_journey.py`.

The end-to-end files run on several workers, a file per worker (`-n 3 --dist loadfile`); a
module's Firefox and WebKit variants are units of their own, so each can go to another worker
(pytest_xdist_make_scheduler below).
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest

from support.app_browser import ENGINES, SCREENSHOTS, AppServer, Screens, console_problems, new_browser, sign_in
from support.aws_peer import AwsPeer
from support.fault_proxy import FaultProxy
from support.lambda_cloud import LambdaCloud
from support.lambda_host import build_lambda
from support.local_cloud import LocalCloud, register_user
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
def pytest_generate_tests(metafunc):
    """Runs a test that uses a browser in each engine its `engines` mark or else its module's
    ENGINES lists (Chromium without), as far as $BROWSER_ENGINES allows."""
    if "engine" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("engines")
    module_engines = getattr(metafunc.module, "ENGINES", ("chromium",))
    # support.app_browser's ENGINES imported into a module would silently put all its tests in every engine.
    assert module_engines is not ENGINES, (f"{metafunc.module.__name__} imports ENGINES from support.app_browser, which "
                                           "runs every test of it in every engine: state the module's own ENGINES, or "
                                           "mark the tests that need more with @pytest.mark.engines(...)")
    engines = marker.args if marker else module_engines
    unknown = set(engines) - set(ENGINES)
    assert not unknown, f"{metafunc.definition.nodeid} asks for unknown engines {sorted(unknown)}; known: {ENGINES}"
    wanted = [e.strip() for e in os.environ.get("BROWSER_ENGINES", "").split(",") if e.strip()]
    if wanted:
        engines = [e for e in engines if e in wanted]
    metafunc.parametrize("engine", engines, scope="module")


@pytest.fixture(scope="module")
def app(request, tmp_path_factory):
    built_site()
    server = AppServer(tmp_path_factory.mktemp(request.module.__name__.removeprefix("test_app_")),
                       *getattr(request.module, "APP_ARGS", ()))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def screens(request):
    folder = SCREENSHOTS / request.module.__name__.removeprefix("test_app_")
    print(f"screenshots: {folder}")
    return Screens(folder)


@pytest.fixture(scope="module")
def alice(app, browser):
    user = register_user(app.cloud, f"alice-{uuid.uuid4().hex[:6]}@example.com")
    sign_in(browser, app, user["email"], user["password"], user["secret"], user["used"])
    return user


@pytest.fixture(scope="module")
def browser(engine):
    """A browser of `engine` (a browser per module and engine), its console logged; `problems`
    collects what no_console_problems found."""
    driver = new_browser(engine)
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
    config.addinivalue_line("markers", "engines(*names): the browser engines this test runs in, whatever its module's ENGINES")


ENGINE_IN_ID = re.compile(r"\[(?:.*-)?(" + "|".join(e for e in ENGINES if e != "chromium") + r")(?:-.*)?\]$")


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook; without xdist the files run in order
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's --dist loadfile, with each file's Firefox and WebKit tests a unit of their own
    (`file[firefox]`): a worker runs a file's tests in one engine while others run it in the
    others. Units go out in collection order (the `early` files first) rather than largest first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LoadFileAndEngine(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            engine = ENGINE_IN_ID.search(nodeid)
            return f"{scope}[{engine.group(1)}]" if engine else scope

    config.option.loadscopereorder = False
    return LoadFileAndEngine(config, log)


def pytest_collection_modifyitems(items):
    """The files marked `early` first (scripts/test gives each file a worker, in this order); the
    rest keep their order."""
    items.sort(key=lambda item: item.get_closest_marker("early") is None)
