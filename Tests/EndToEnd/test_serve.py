"""`site serve`: dist/ served as production would, traversal refused, and the live-reload stream.

Each module-level server runs on a copy of the starter app (`--no-cloud` unless a test says
otherwise) on a free port."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from support import free_port
from support.site import Served, built_site, direct, site_binary, starter_copy


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    built_site()
    root = starter_copy(tmp_path_factory.mktemp("serve") / "project")
    server = Served(root, "--no-cloud")
    yield server
    server.stop()


def manifest(served) -> dict:
    return {entry["path"]: entry for entry in json.loads((served.project / "dist/.site/manifest.json").read_text())["files"]}


def css_path(served) -> str:
    return next(path for path in manifest(served) if path.endswith(".css"))


def test_pretty_urls_redirect_and_404(served):
    status, headers, body = served.get("/help/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    status, headers, _ = served.get("/help")
    assert status == 301 and headers["Location"] == "/help/"
    status, headers, body = served.get("/no/such/page/")
    assert status == 404 and b"<html" in body and headers["Content-Type"].startswith("text/html")


def test_pages_get_the_live_reload_client_but_dist_does_not(served):
    _, _, body = served.get("/")
    assert b'src="/_site/live.js"' in body
    assert b"/_site/live.js" not in (served.project / "dist/index.html").read_bytes()
    status, headers, script = served.get("/_site/live.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript") and b"EventSource" in script


def test_security_headers_and_a_policy_that_lets_the_client_connect(served):
    _, headers, body = served.get("/")
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"):
        assert headers[name], name
    policy = headers["Content-Security-Policy"]
    assert re.search(r"connect-src 'self'", policy)
    assert "upgrade-insecure-requests" not in policy
    meta = re.search(rb'http-equiv="Content-Security-Policy" content="([^"]*)"', body)
    if meta:
        assert b"connect-src 'self'" in meta.group(1)


def test_etags_and_conditional_requests(served):
    path = "/" + css_path(served)
    status, headers, _ = served.get(path)
    etag = headers["ETag"]
    assert status == 200 and etag == '"%s"' % manifest(served)[path[1:]]["sha256"]
    assert served.get(path, {"If-None-Match": etag})[0] == 304
    assert served.get(path, {"If-None-Match": '"other", ' + etag})[0] == 304
    assert served.get(path, {"If-None-Match": "*"})[0] == 304
    assert served.get(path, {"If-None-Match": '"other"'})[0] == 200
    page_etag = served.get("/")[1]["ETag"]
    assert served.get("/", {"If-None-Match": page_etag})[0] == 304


def test_ranges(served):
    path = css_path(served)
    whole = (served.project / "dist" / path).read_bytes()
    size = len(whole)
    status, headers, body = served.get("/" + path, {"Range": "bytes=0-9"})
    assert status == 206 and body == whole[:10] and headers["Content-Range"] == f"bytes 0-9/{size}"
    status, headers, body = served.get("/" + path, {"Range": "bytes=-5"})
    assert status == 206 and body == whole[-5:] and headers["Content-Range"] == f"bytes {size - 5}-{size - 1}/{size}"
    status, _, body = served.get("/" + path, {"Range": f"bytes={size - 3}-"})
    assert status == 206 and body == whole[-3:]
    status, headers, _ = served.get("/" + path, {"Range": f"bytes={size}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{size}"


def test_gzip_negotiation(served):
    path = "/" + css_path(served)
    whole = (served.project / "dist" / path[1:]).read_bytes()
    status, headers, body = served.get(path, {"Accept-Encoding": "gzip, br"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in headers["Vary"]
    assert gzip.decompress(body) == whole
    status, headers, body = served.get(path, {"Accept-Encoding": "gzip;q=0, identity"})
    assert headers.get("Content-Encoding") is None and body == whole
    assert served.get(path)[2] == whole


def test_pages_are_gzip_negotiated_with_their_own_etags(served):
    _, plain_headers, plain = served.get("/help/")
    status, headers, body = served.get("/help/", {"Accept-Encoding": "gzip, br"})
    assert status == 200 and headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in headers["Vary"]
    assert gzip.decompress(body) == plain and len(body) < len(plain)
    assert "Accept-Encoding" in plain_headers["Vary"] and plain_headers.get("Content-Encoding") is None
    etag, plain_etag = headers["ETag"], plain_headers["ETag"]
    assert etag != plain_etag and not etag.startswith("W/") and not plain_etag.startswith("W/")
    assert served.get("/help/", {"Accept-Encoding": "gzip", "If-None-Match": etag})[0] == 304
    assert served.get("/help/", {"Accept-Encoding": "gzip", "If-None-Match": plain_etag})[0] == 200
    assert served.get("/help/", {"Accept-Encoding": "gzip;q=0"})[2] == plain
    status, headers, body = served.get("/no/such/page/", {"Accept-Encoding": "gzip"})
    assert status == 404 and headers["Content-Encoding"] == "gzip" and b"<html" in gzip.decompress(body)


def test_a_suffix_range_on_a_page_returns_its_last_bytes(served):
    plain = served.get("/help/")[2]
    size = len(plain)
    status, headers, body = served.get("/help/", {"Range": "bytes=-16", "Accept-Encoding": "gzip"})
    assert status == 206 and body == plain[-16:] and headers.get("Content-Encoding") is None
    assert headers["Content-Range"] == f"bytes {size - 16}-{size - 1}/{size}"
    status, _, body = served.get("/help/", {"Range": "bytes=0-99"})
    assert status == 206 and body == plain[:100]
    status, headers, _ = served.get("/help/", {"Range": f"bytes={size}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{size}"


def exchange(served, requests: list[tuple[str, str, dict]]) -> list[tuple[int, dict, bytes]]:
    """Sends `requests` (method, target, headers) on one connection in a single write, the last
    asking to close, and parses the answers in the order they came."""
    raw = b""
    for index, (method, target, headers) in enumerate(requests):
        lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", *(f"{name}: {value}" for name, value in headers.items())]
        if index == len(requests) - 1:
            lines.append("Connection: close")
        raw += ("\r\n".join(lines) + "\r\n\r\n").encode()
    with socket.create_connection((served.host, served.port), timeout=10) as connection:
        connection.sendall(raw)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    answers = []
    for method, _, _ in requests:
        head, separator, answer = answer.partition(b"\r\n\r\n")
        assert separator, "an answer is missing"
        status_line, *fields = head.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, value in (field.split(":", 1) for field in fields)}
        length = 0 if method == "HEAD" or status_line.split()[1] == "304" else int(headers["content-length"])
        answers.append((int(status_line.split()[1]), headers, answer[:length]))
        answer = answer[length:]
    assert answer == b"", "bytes after the last answer"
    return answers


def test_pipelined_requests_are_answered_in_order(served):
    """Answers from memory never overtake one that goes through the responder (a `.gz` read from
    disk), and HEAD answers carry no body."""
    css = "/" + css_path(served)
    whole = (served.project / "dist" / css[1:]).read_bytes()
    help_page = served.get("/help/")[2]
    answers = exchange(served, [
        ("GET", css, {"Accept-Encoding": "gzip"}),
        ("GET", "/help/", {}),
        ("HEAD", "/_site/live.js", {}),
        ("HEAD", "/help/", {}),
        ("GET", css, {"Range": "bytes=-10"}),
        ("GET", "/help", {}),
        ("POST", "/help/", {"Content-Length": "3"}),
    ])
    # The POST's body was never sent: the server answers 405 from the head and closes.
    (gz, page, client, head, tail, redirect, post) = answers
    assert gz[0] == 200 and gz[1]["content-encoding"] == "gzip" and gzip.decompress(gz[2]) == whole
    assert page[0] == 200 and page[2] == help_page
    assert client[0] == 200 and client[2] == b"" and int(client[1]["content-length"]) > 0
    assert head[0] == 200 and head[2] == b"" and head[1]["content-length"] == str(len(help_page))
    assert tail[0] == 206 and tail[2] == whole[-10:]
    assert redirect[0] == 301 and redirect[1]["location"] == "/help/"
    assert post[0] == 405 and post[1]["allow"] == "GET, HEAD"
    for status, headers, _ in answers:
        assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT", headers["date"]), headers


TRAVERSALS = [
    "/../site/site.yml", "/%2e%2e/site/site.yml", "/%2E%2E/site/site.yml", "/..%2fsite/site.yml", "/..%2Fsite%2Fsite.yml",
    "/%2e%2e%2fsite%2fsite.yml", "/assets/../../site/site.yml", "/assets/%2e%2e/%2e%2e/site/site.yml",
    "/..\\site\\site.yml", "/%5c..%5csite%5csite.yml", "/..%5csite/site.yml", "/index.html%00.css", "/%00",
    "/.site/manifest.json", "/.site/headers.json", "/%2esite/manifest.json", "//etc/passwd", "/..;/site/site.yml",
    "/%252e%252e/site/site.yml", "/%c0%ae%c0%ae/site/site.yml", "/assets/./../../site/site.yml",
    "/./../site/site.yml", "/%2e/%2e%2e/site/site.yml", "/site/site.yml", "/etc/passwd",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_is_refused(served, target):
    connection = socket.create_connection((served.host, served.port), timeout=10)
    try:
        connection.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1"))
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    finally:
        connection.close()
    status = int(answer.split(b" ", 2)[1])
    assert status in (400, 404), (target, answer[:200])
    assert b"environments:" not in answer and b"root:" not in answer and b'"files"' not in answer


def read_event(stream, timeout: float = 30.0) -> tuple[str, str]:
    """The next named event of a text/event-stream response."""
    deadline = time.monotonic() + timeout
    name, data = None, ""
    while time.monotonic() < deadline:
        line = stream.readline().decode()
        if not line:
            raise AssertionError("the event stream ended")
        line = line.rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and name:
            return name, data
    raise AssertionError("no event in time")


def open_events(served):
    connection = http.client.HTTPConnection(served.host, served.port, timeout=40)
    connection.request("GET", "/_site/events")
    response = connection.getresponse()
    assert response.status == 200 and response.headers["Content-Type"] == "text/event-stream"
    return connection, response


def test_an_edit_reloads_and_a_broken_template_reports_file_and_line(served):
    connection, events = open_events(served)
    try:
        page = served.project / "site/pages/help.md"
        page.write_text(page.read_text() + "\n\nA line added by the test.\n")
        assert read_event(events)[0] == "reload"
        assert b"A line added by the test." in served.get("/help/")[2]
        layout = served.project / "site/layouts/page.mustache"
        original = layout.read_text()
        layout.write_text(original.replace("{{{content}}}", "{{#broken}}{{{content}}}"))
        name, data = read_event(events)
        assert name == "failure"
        assert "page.mustache" in json.loads(data)["message"]
        # The last good build is still served meanwhile.
        assert served.get("/help/")[0] == 200
        layout.write_text(original)
        assert read_event(events)[0] == "reload"
    finally:
        connection.close()
    assert any(line.startswith("rebuilt (") for line in served.lines)
    assert any(line.startswith("build failed (") for line in served.lines)


def test_serve_starts_the_local_cloud_and_builds_against_it(tmp_path):
    built_site()
    root = starter_copy(tmp_path / "project")
    server = Served(root, "--cloud-port", "0", "--cloud-data", str(tmp_path / "cloud"))
    try:
        deadline = time.monotonic() + 30
        while not any(line.startswith("mailbox: ") for line in server.lines):
            assert time.monotonic() < deadline, "".join(server.lines)
            time.sleep(0.1)
        cognito = next(line.split(" ", 1)[1].strip() for line in server.lines if line.startswith("cognito: "))
        config = (root / "dist/assets").rglob("*.js")
        assert any(cognito.encode() in path.read_bytes() for path in config) or cognito.encode() in (root / "dist/index.html").read_bytes()
        assert server.stop() == 0
    finally:
        if server.process.poll() is None:
            server.stop()


def test_saves_by_rename_and_new_folders_are_seen(served, tmp_path):
    connection, events = open_events(served)
    try:
        page = served.project / "site/pages/help.md"
        replacement = served.project / "help.md.saving"
        replacement.write_text(page.read_text() + "\n\nSaved by rename.\n")
        replacement.replace(page)
        assert read_event(events)[0] == "reload"
        assert b"Saved by rename." in served.get("/help/")[2]
        folder = served.project / "site/pages/guide"
        folder.mkdir()
        time.sleep(0.2)  # the new folder's watch is in place before its first file
        (folder / "intro.md").write_text("---\ntitle: Guide\n---\n\nA page in a new folder.\n")
        # The folder's creation may rebuild first; the file's arrival rebuilds again.
        for _ in range(3):
            assert read_event(events)[0] == "reload"
            status, _, body = served.get("/guide/intro/")
            if status == 200:
                break
        assert status == 200 and b"A page in a new folder." in body, body[:300]
    finally:
        connection.close()


def test_polling_watcher_when_asked(tmp_path):
    built_site()
    root = starter_copy(tmp_path / "project")
    server = Served(root, "--no-cloud", "--poll")
    try:
        connection, events = open_events(server)
        try:
            page = root / "site/pages/help.md"
            page.write_text(page.read_text() + "\n\nSeen by polling.\n")
            assert read_event(events)[0] == "reload"
            assert b"Seen by polling." in server.get("/help/")[2]
        finally:
            connection.close()
    finally:
        server.stop()


def test_a_stylesheet_edit_swaps_styles_instead_of_reloading(served):
    import base64
    import hashlib
    connection, events = open_events(served)
    try:
        stylesheet = next((served.project / "assets").rglob("*.css"))
        stylesheet.write_text(stylesheet.read_text() + "\n.test-marker { color: rgb(1, 2, 3); }\n")
        name, data = read_event(events)
        assert name == "styles", (name, data)
        sheets = json.loads(data)["stylesheets"]
        sheet = next(entry for entry in sheets if entry["source"] == str(stylesheet.relative_to(served.project)))
        status, _, body = served.get(sheet["href"])
        assert status == 200 and b".test-marker" in body
        assert sheet["integrity"] == "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()
        # Pages now link the new stylesheet, so a reload later gets it too.
        assert sheet["href"].encode() in served.get("/")[2]
    finally:
        connection.close()
    assert b"unfingerprinted" in served.get("/_site/live.js")[2]


STYLESHEET_LINK = re.compile(rb'href="(/assets/[^"]+\.css)"')


def test_a_page_asked_for_right_after_a_stylesheet_edit_names_the_new_stylesheet(served):
    """The browser hears of the new stylesheet before the pages linking it are rendered; a page
    asked for at once is the new build's (it waits for its page), never one naming a stylesheet the
    server no longer has."""
    stylesheet = served.project / "assets/css/app.css"
    original = stylesheet.read_text()
    connection, events = open_events(served)
    try:
        for round in range(5):
            stylesheet.write_text(original + f"\n.right-after-{round} {{ color: #00000{round}; }}\n")
            name, data = read_event(events)
            assert name == "styles", (name, data)
            hrefs = {sheet["href"] for sheet in json.loads(data)["stylesheets"]}
            for page in ("/", "/help/", "/en/help/", "/no/such/page/"):
                status, _, body = served.get(page)
                linked = {href.decode() for href in STYLESHEET_LINK.findall(body)}
                assert status in (200, 404) and linked and linked <= hrefs, (round, page, linked, hrefs)
                for href in linked:
                    status, _, css = served.get(href)
                    assert status == 200 and f".right-after-{round}".encode() in css
    finally:
        connection.close()
        stylesheet.write_text(original)
    assert re.search(r"styles swapped after \d+ ms", "".join(served.lines)), served.lines[-5:]


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_each_kind_of_edit_rebuilds_exactly_what_a_clean_build_makes(tmp_path):
    """A page, a partial, a stylesheet, a JS module, a translation and site.yml, one after another:
    each gives the right event, and dist/ then equals a clean `site build` of the same sources."""
    built_site()
    root = starter_copy(tmp_path / "project")
    server = Served(root, "--no-cloud")
    edits = [
        ("site/pages/help.md", lambda text: text + "\n\nA paragraph added by the test.\n", "reload"),
        ("site/partials/footer.mustache", lambda text: text.replace("</footer>", "<span>edited</span></footer>"), "reload"),
        ("assets/css/app.css", lambda text: text + "\n.added-by-test { color: #123456; }\n", "styles"),
        ("assets/js/config.js", lambda text: text + "\n// edited by the test\n", "reload"),
        ("site/i18n/en.json", lambda text: text.replace('"Privacy"', '"Privacy (edited)"', 1), "reload"),
        ("site/site.yml", lambda text: text.replace("title: SStech Video", "title: SStech Video Edited"), "reload"),
    ]
    try:
        connection, events = open_events(server)
        try:
            for step, (relative, change, expected) in enumerate(edits):
                path = root / relative
                before = path.read_text()
                after = change(before)
                assert after != before, f"the test's edit of {relative} changed nothing"
                ended = server.rebuilds()
                path.write_text(after)
                assert read_event(events)[0] == expected, relative
                # The browser is told before dist/ is written (before the pages, for a stylesheet).
                server.wait_for_rebuilds(ended + 1)
                clean = tmp_path / f"clean-{step}"
                result = subprocess.run([str(site_binary()), "build", "--out", str(clean)], cwd=root,
                                        capture_output=True, text=True)
                assert result.returncode == 0, result.stderr
                served_tree, clean_tree = tree_bytes(root / "dist"), tree_bytes(clean)
                differing = sorted(name for name in set(served_tree) | set(clean_tree) if served_tree.get(name) != clean_tree.get(name))
                assert not differing, f"after editing {relative}, dist/ differs from a clean build in {differing}"
        finally:
            connection.close()
        rebuilds = [line for line in server.lines if line.startswith("rebuilt (")]
        # The page edit renders that page (help.md is Portuguese only: English has its own), not the whole site.
        assert re.search(r"rebuilt \(help\.md\) in \d+ ms, 1 of \d+ pages", "".join(rebuilds)), rebuilds
        assert re.search(r"rebuilt \(site\.yml\) in \d+ ms, all \d+ pages", "".join(rebuilds)), rebuilds
    finally:
        server.stop()


def test_edits_mixing_stylesheets_and_pages_end_with_dist_equal_to_a_clean_build(tmp_path):
    """Stylesheet and page edits in quick succession, some landing while the last is still being
    rendered: every page served meanwhile names stylesheets the server has, and dist/ ends equal
    to a clean build."""
    built_site()
    root = starter_copy(tmp_path / "project")
    server = Served(root, "--no-cloud")
    stylesheet, help_page, privacy = root / "assets/css/app.css", root / "site/pages/help.md", root / "site/pages/privacy.md"
    stop = threading.Event()
    problems = []
    heard = []
    connection, events = open_events(server)

    def listen():
        try:
            while not stop.is_set():
                heard.append(read_event(events, timeout=120)[0])
        except Exception:  # the stream is closed at the end
            pass

    def browse():
        # Asks for pages the whole time. A stylesheet a page names may be gone when it is asked for
        # only if the browser was told of a newer build in between.
        while not stop.is_set():
            for page in ("/", "/help/", "/privacy/"):
                before = len(heard)
                status, _, body = server.get(page)
                if status != 200:
                    problems.append((page, status))
                for href in STYLESHEET_LINK.findall(body):
                    if server.get(href.decode())[0] != 200:
                        time.sleep(0.3)  # the event of a swap made meanwhile may be on its way
                        if len(heard) == before:
                            problems.append((page, href))

    threading.Thread(target=listen, daemon=True).start()
    browser = threading.Thread(target=browse, daemon=True)
    browser.start()
    try:
        edits = [
            (stylesheet, "\n.mixed-1 { color: #111111; }\n"), (help_page, "\n\nMixed edit one.\n"),
            (stylesheet, "\n.mixed-2 { color: #222222; }\n"), (stylesheet, "\n.mixed-3 { color: #333333; }\n"),
            (privacy, "\n\nMixed edit two.\n"), (stylesheet, "\n.mixed-4 { color: #444444; }\n"),
            (help_page, "\n\nMixed edit three.\n"), (stylesheet, "\n.mixed-5 { color: #555555; }\n"),
        ]
        for step, (path, addition) in enumerate(edits):
            # Appended in one write, as an editor's save lands whole: a rewrite that truncates first
            # could be read empty by a build under load, which tests the machine, not the server.
            with path.open("a") as file:
                file.write(addition)
            # Some edits follow the last at once, some after it has been noticed, some later still
            # (an edit that comes while pages are rendered cancels them: the next build takes both).
            time.sleep((0, 0.03, 0.15, 0.4)[step % 4])
        server.wait_until_settled()
        # And a stylesheet edit alone, announced before its pages are rendered.
        with stylesheet.open("a") as file:
            file.write("\n.mixed-6 { color: #666666; }\n")
        server.wait_until_settled()
    finally:
        stop.set()
        browser.join(20)
        # Ends the listener's read at once (close alone waits for the read it is blocked in).
        connection.sock.shutdown(socket.SHUT_RDWR)
        connection.close()
    try:
        assert not problems, problems[:5]
        assert "failure" not in heard and len(heard) >= 2 and heard[-1] == "styles", (heard, server.lines[-15:])
        clean = tmp_path / "clean"
        result = subprocess.run([str(site_binary()), "build", "--out", str(clean)], cwd=root, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        served_tree, clean_tree = tree_bytes(root / "dist"), tree_bytes(clean)
        differing = sorted(name for name in set(served_tree) | set(clean_tree) if served_tree.get(name) != clean_tree.get(name))
        assert not differing, f"dist/ differs from a clean build in {differing}"
        assert b".mixed-6" in next(data for name, data in served_tree.items() if name.endswith(".css") and not name.endswith(".gz"))
    finally:
        server.stop()


def test_requests_during_the_first_build_wait_for_it(tmp_path):
    """The server listens while the first build runs; a request made then is answered with the
    built page, never an error."""
    built_site()
    root = starter_copy(tmp_path / "project")
    port = free_port()
    process = subprocess.Popen([str(site_binary()), "serve", "--port", str(port), "--no-cloud"], cwd=root,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, "site serve never answered"
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", "/")
                response = connection.getresponse()
                break
            except (ConnectionRefusedError, ConnectionResetError):
                time.sleep(0.005)
        assert response.status == 200, response.read()[:200]
        assert b"/_site/live.js" in response.read()
    finally:
        process.terminate()
        process.wait(20)


# -- DNS rebinding: only known names in Host ---------------------------------------------------------

def raw_get(url: str, target: str, host: str | None):
    """GET `target` from the server at `url`, sending `host` as the Host header (none when None)."""
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        connection.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


@pytest.fixture(scope="module")
def served_with_cloud(tmp_path_factory):
    built_site()
    root = starter_copy(tmp_path_factory.mktemp("serve-hosts") / "project")
    server = Served(root, "--cloud-port", "0", "--cloud-data", str(root / ".cloud"), "--allowed-host", "dev.example")
    deadline = time.monotonic() + 30
    while not any(line.startswith("mailbox: ") for line in list(server.lines)):
        assert time.monotonic() < deadline, "the local cloud did not start:\n" + "".join(server.lines)
        time.sleep(0.05)
    server.mailbox = next(line.split(" ", 1)[1].strip() for line in list(server.lines) if line.startswith("mailbox: "))
    yield server
    server.stop()


REBOUND = ["evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.evil.example", "EVIL.EXAMPLE."]


@pytest.mark.parametrize("host", REBOUND)
def test_both_servers_refuse_a_host_name_they_do_not_know(served_with_cloud, host):
    # A page on evil.example that pointed its name at 127.0.0.1 sends Host: evil.example.
    mailbox = urllib.parse.urlparse(served_with_cloud.mailbox)
    for url, target in [(served_with_cloud.url, "/"), (served_with_cloud.url, "/_site/events"),
                        (f"{mailbox.scheme}://{mailbox.netloc}", mailbox.path), (f"{mailbox.scheme}://{mailbox.netloc}", "/_local/")]:
        status, body = raw_get(url, target, host)
        assert status == 403, f"{url}{target} with Host {host}: {status}"
        assert "--allowed-host" in body and "DNS rebinding" in body
        assert "code" not in body.lower().replace("codes", ""), "the refusal must not carry the mailbox"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:1234", "app.localhost", "[::1]:8000", "dev.example", "DEV.example:80", None])
def test_loopback_names_addresses_and_the_allowed_host_are_answered(served_with_cloud, host):
    mailbox = urllib.parse.urlparse(served_with_cloud.mailbox)
    assert raw_get(served_with_cloud.url, "/", host)[0] == 200
    assert raw_get(f"{mailbox.scheme}://{mailbox.netloc}", mailbox.path, host)[0] == 200


def test_without_allowed_host_only_loopback_names_are_answered(served):
    assert raw_get(served.url, "/", "dev.example")[0] == 403
    assert raw_get(served.url, "/", "localhost")[0] == 200


# -- /api and /media/ forwarded to the local cloud: one origin, as CloudFront gives production ----------

def cloud_origin(served) -> str:
    """The local cloud's own origin, from the endpoints `site serve` printed."""
    api = next(line.split(" ", 1)[1].strip() for line in list(served.lines) if line.startswith("api: "))
    return api[: -len("/api")]


def cloud_client(served):
    """A LocalCloud client (mailbox, Cognito, boto3) of the cloud `site serve` started, with no process of its own."""
    from support.local_cloud import LocalCloud
    return LocalCloud.attached_to(served, served.project / ".cloud")


def test_the_api_through_the_dev_server_is_the_local_clouds_own_answer(served_with_cloud):
    status, headers, body = served_with_cloud.get("/api/openapi.yaml")
    own_status, own_headers, own_body = direct(cloud_origin(served_with_cloud), "/api/openapi.yaml")
    assert status == own_status == 200 and body.startswith(b"openapi:")
    assert body == own_body
    for name in ("Content-Type", "Content-Length", "Cache-Control", "ETag"):
        assert headers.get(name) == own_headers.get(name), name


def test_an_api_call_without_a_token_gets_the_apis_401_through_the_dev_server(served_with_cloud):
    status, headers, body = served_with_cloud.get("/api/videos")
    assert status == 401 and headers["Content-Type"] == "application/json"
    assert headers["WWW-Authenticate"].startswith("Bearer ")
    assert json.loads(body)["error"]["code"] == "Unauthorized"
    own_status, own_headers, own_body = direct(cloud_origin(served_with_cloud), "/api/videos")
    assert (status, headers["WWW-Authenticate"], body) == (own_status, own_headers["WWW-Authenticate"], own_body)


def test_media_through_the_dev_server_open_with_the_cookies_the_api_set_for_its_origin(served_with_cloud):
    """POST /api/session through the dev server sets cookies for the origin the browser sees (the
    dev server's Host is kept), and they open the user's media there, ranges included; on the
    cloud's own origin the same cookies open nothing."""
    import base64
    import os
    from support.local_cloud import register_user
    cloud = cloud_client(served_with_cloud)
    user = register_user(cloud, f"proxy-{os.urandom(4).hex()}@example.com")
    video_id = base64.b32encode(os.urandom(16)).decode().rstrip("=").lower()
    key = f"videos/{user['sub']}/{video_id}/video.mp4"
    content = os.urandom(300_000)
    cloud.s3().put_object(Bucket=cloud.main_bucket, Key=key, Body=content, ContentType="video/mp4")

    refused = served_with_cloud.get(f"/media/{key}")
    assert refused[0] == 403 and b"<Error><Code>MissingKey</Code>" in refused[2]
    status, headers, _ = served_with_cloud.get("/api/session", {"Authorization": f"Bearer {user['tokens']['AccessToken']}",
                                                                "Content-Length": "0"}, method="POST")
    assert status == 200
    cookies = headers.get_all("Set-Cookie")
    assert len(cookies) == 3, cookies
    assert all(f"Path=/media/videos/{user['sub']}/" in cookie for cookie in cookies)
    jar = "; ".join(cookie.split(";", 1)[0] for cookie in cookies)

    status, headers, body = served_with_cloud.get(f"/media/{key}", {"Cookie": jar})
    assert status == 200 and body == content and headers["Content-Type"] == "video/mp4"
    status, headers, body = served_with_cloud.get(f"/media/{key}", {"Cookie": jar, "Range": "bytes=1000-1999"})
    assert status == 206 and body == content[1000:2000]
    assert headers["Content-Range"] == f"bytes 1000-1999/{len(content)}" and headers["Accept-Ranges"] == "bytes"
    assert direct(cloud_origin(served_with_cloud), f"/media/{key}", {"Cookie": jar})[0] == 403


def test_a_page_calls_the_api_on_its_own_origin_without_a_preflight(served_with_cloud):
    """A page's fetch of /api/… with a bearer token is same-origin: the browser sends no OPTIONS
    preflight and reads the answer (status and WWW-Authenticate) without CORS. The same call to the
    cloud's own origin, the control, is preflighted."""
    from support.app_browser import new_browser  # with Chromium's performance log
    browser = new_browser()
    call = """const done = arguments[arguments.length - 1];
        fetch(arguments[0], {headers: {Authorization: "Bearer not-a-token"}})
          .then((response) => done([response.status, response.type, response.headers.get("WWW-Authenticate")]))
          .catch((error) => done(String(error)));"""
    try:
        # A page of the dev server's origin that carries no CSP of its own.
        browser.get(served_with_cloud.url + "/_site/live.js")
        own = served_with_cloud.url + "/api/videos"
        control = cloud_origin(served_with_cloud) + "/api/videos"
        status, kind, challenge = browser.execute_async_script(call, own)
        assert (status, kind) == (401, "basic") and challenge.startswith("Bearer "), (status, kind, challenge)
        assert browser.execute_async_script(call, control)[:2] == [401, "cors"]
        sent = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
        requests = [(event["params"]["request"]["method"], event["params"]["request"]["url"])
                    for event in sent if event["method"] == "Network.requestWillBeSent"]
    finally:
        browser.quit()
    assert ("GET", own) in requests and ("OPTIONS", own) not in requests, requests
    assert ("OPTIONS", control) in requests, requests


def test_without_the_cloud_api_and_media_paths_are_the_sites_404(served):
    for target in ("/api/videos", "/api", "/media/videos/someone/video.mp4"):
        status, headers, body = served.get(target)
        assert status == 404 and headers["Content-Type"].startswith("text/html") and b"<html" in body, target


def test_cloud_url_proxies_to_a_cloud_run_on_its_own(tmp_path):
    """`--cloud-url` starts no cloud: /api and /media/ are proxied over HTTP to the one given, and the
    build points Cognito and uploads at it."""
    import os
    from support.local_cloud import LocalCloud, register_user
    built_site()
    with LocalCloud(site_binary(), tmp_path / "cloud") as cloud:
        origin = cloud.api_url[: -len("/api")]
        server = Served(starter_copy(tmp_path / "project"), "--cloud-url", origin)
        try:
            assert not any(line.startswith("mailbox: ") for line in list(server.lines)), "a second cloud started"
            status, _, body = server.get("/api/openapi.yaml")
            assert status == 200 and body == direct(origin, "/api/openapi.yaml")[2]
            page = server.get("/login/")[2].decode()
            assert f'"endpoint":"{origin}"' in page and f'"origins":["{origin}"]' in page, "the build does not name the cloud"

            user = register_user(cloud, f"cloud-url-{os.urandom(4).hex()}@example.com")
            key = f"videos/{user['sub']}/{'a' * 26}/video.mp4"
            cloud.s3().put_object(Bucket=cloud.main_bucket, Key=key, Body=b"media bytes", ContentType="video/mp4")
            status, headers, _ = server.get("/api/session", {"Authorization": f"Bearer {user['tokens']['AccessToken']}",
                                                             "Content-Length": "0"}, method="POST")
            assert status == 200
            jar = "; ".join(cookie.split(";", 1)[0] for cookie in headers.get_all("Set-Cookie"))
            assert server.get(f"/media/{key}", {"Cookie": jar})[2] == b"media bytes"
        finally:
            server.stop()


def test_cloud_url_must_be_an_origin(tmp_path):
    for value, message in [("ftp://127.0.0.1:9500", "must be an origin"), ("http://127.0.0.1:9500/api", "must be an origin")]:
        result = subprocess.run([str(site_binary()), "serve", "--cloud-url", value], capture_output=True, text=True, timeout=30,
                                cwd=tmp_path)
        assert result.returncode != 0 and message in result.stderr, result.stderr
    result = subprocess.run([str(site_binary()), "serve", "--cloud-url", "http://127.0.0.1:9500", "--no-cloud"],
                            capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert result.returncode != 0 and "contradict" in result.stderr, result.stderr
