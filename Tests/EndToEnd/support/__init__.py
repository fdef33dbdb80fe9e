"""What the end-to-end suites share: the processes they start, the peers they start them against,
and the helpers that read them. No test file imports another; they import from here.

- `site`: the `site` binary (one rule finds it, honouring $SITE_BIN), running it, and `site serve`
  started on a copy of the starter app (Served, starter_copy).
- `local_cloud`: `site cloud` started with a fresh data folder (LocalCloud), its users and plain HTTP
  calls of its API and media.
- `app_browser`: the app served by `site serve` with its local cloud (AppServer), driven in headless
  Chromium, and the steps through its pages (sign_in, the upload rows, the library's cards).
- `files`: files the tests make (a real clip by ffmpeg, incompressible MiBs) and the SHA-256
  checksums S3 and the API take.
- `aws_peer`: moto_server on loopback (AwsPeer); `production_peer`: the production stack's buckets,
  queues and table on it, with `mediaconvert_fake`'s MediaConvert; `fault_proxy`: faults injected
  between a client and a peer (also a script).
- `lambda_host`: the static Lambda bootstrap run against a stand-in of the Runtime API;
  `lambda_cloud`: the production API (API Gateway's authorizer and events) in front of it.
- `cfn_template`: infra/template.yaml read as data (and `as_list`, for its one-or-many values);
  `publishing`: `site build`/`site publish` of a project, the bucket checked against the build, and
  the stack `--stack` reads; `venv_commands`: the commands the virtualenv installs.

`REPO` is the repository's root, `free_port()` a port nothing listens on. The fixtures are
conftest.py's.
"""

import socket
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
