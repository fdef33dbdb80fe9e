"""End-to-end tests of `site publish` against a real S3/CloudFront API peer (moto_server) with
every request's signature checked, inspected afterwards with boto3."""

from __future__ import annotations

import hashlib
import os
import signal
import time
import urllib.parse

from support.publishing import (asset_references, assert_bucket_matches_build, build, manifest, publish,
                                site_objects, start_publish)


def test_first_publish_uploads_the_build_then_nothing_changes(peer, target):
    build(target)
    summary, _ = publish(target)
    assert len(summary["uploaded"]) == len(manifest(target)["files"])
    kinds = [u["key"].startswith("assets/") for u in summary["uploaded"]]
    assert kinds == sorted(kinds, reverse=True), "fingerprinted assets go up before anything else"
    assert summary["uploaded"][-1]["key"].endswith(".html")
    assert_bucket_matches_build(peer, target)

    again, _ = publish(target)
    assert again["uploaded"] == [] and again["requests"].get("PUT", 0) == 0

    build(target)  # a rebuild with no source change
    rebuilt, _ = publish(target)
    assert rebuilt["uploaded"] == [] and rebuilt["requests"].get("PUT", 0) == 0
    assert rebuilt["requests"].get("HEAD", 0) == 0


def publish_then_edit_help_page(target):
    """Publishes the starter app, then edits and rebuilds its help page."""
    build(target)
    publish(target)
    help_page = target["project"] / "site/pages/help.md"
    help_page.write_text(help_page.read_text() + "\nOne more line.\n")
    build(target)


def test_one_page_edit_uploads_that_page_and_invalidates_its_paths(peer, target):
    publish_then_edit_help_page(target)
    summary, _ = publish(target)
    assert [u["key"] for u in summary["uploaded"]] == ["help/index.html"]
    assert summary["invalidations"][0]["paths"] == ["/help/", "/help", "/help/index.html"]
    assert summary["invalidations"][0]["distributionId"] == target["distribution"]
    # The one other PUT is the deploy record.
    assert summary["requests"]["PUT"] == 2
    assert_bucket_matches_build(peer, target)


def test_asset_edit_uploads_the_new_asset_and_its_pages_and_keeps_the_old(peer, target):
    build(target)
    publish(target)
    old_css = next(e["path"] for e in manifest(target)["files"] if e["path"].startswith("assets/css/"))
    css = target["project"] / "assets/css/app.css"
    css.write_text(css.read_text() + "\n.new-rule { color: red; }\n")
    build(target)
    summary, _ = publish(target)
    uploaded = [u["key"] for u in summary["uploaded"]]
    new_css = next(e["path"] for e in manifest(target)["files"] if e["path"].startswith("assets/css/"))
    assert uploaded[0] == new_css
    assert all(key.endswith(".html") for key in uploaded[1:]) and len(uploaded) > 1
    assert summary["retained"] == [old_css]
    assert old_css in site_objects(peer, target["bucket"])


def add_news_page(target):
    (target["project"] / "site/pages/news.md").write_text("---\ntitle: News\n---\nNothing yet.\n")


def test_removed_page_is_deleted_after_uploads(peer, target):
    add_news_page(target)
    build(target)
    publish(target)
    (target["project"] / "site/pages/news.md").unlink()
    build(target)
    summary, _ = publish(target)
    assert sorted(d["key"] for d in summary["deleted"]) == ["en/news/index.html", "news/index.html"]
    assert "news/index.html" not in site_objects(peer, target["bucket"])
    assert_bucket_matches_build(peer, target)


def test_too_many_deletes_are_refused_as_a_whole(peer, target):
    add_news_page(target)
    build(target)
    publish(target)
    before = site_objects(peer, target["bucket"])
    (target["project"] / "site/pages/news.md").unlink()
    build(target)
    summary, result = publish(target, "--max-deletes", "1", expect_ok=False)
    assert result.returncode != 0
    assert "more than the limit of 1" in summary["error"]
    assert site_objects(peer, target["bucket"]) == before
    allowed, _ = publish(target, "--max-deletes", "2")
    assert len(allowed["deleted"]) == 2


def test_a_build_for_another_environment_is_refused(peer, target):
    build(target, environment="local")
    summary, result = publish(target, expect_ok=False)
    assert result.returncode != 0
    assert "built for the 'local' environment" in summary["error"]
    assert site_objects(peer, target["bucket"]) == []


def test_dry_run_changes_nothing(peer, target):
    build(target)
    summary, _ = publish(target, "--dry-run")
    assert summary["dryRun"] and len(summary["uploaded"]) == len(manifest(target)["files"])
    assert site_objects(peer, target["bucket"]) == []


def test_faults_retried_until_the_bucket_is_exact(peer, target, fault_proxy):
    build(target)
    proxy = fault_proxy(seed=11, p500=0.1, p503=0.1, pdrop=0.05, pdrop_after=0.05)
    summary, _ = publish(target, env={**target["env"], "AWS_ENDPOINT_URL": proxy.url})
    assert summary["retries"] > 0
    outcomes = proxy.outcomes()
    assert {"injected-500", "injected-503", "dropped", "dropped-after-forward"} <= set(outcomes)
    assert_bucket_matches_build(peer, target)


def test_a_skewed_server_clock_is_adopted(peer, target, fault_proxy):
    build(target)
    proxy = fault_proxy(skew_seconds=3 * 3600)
    publish(target, env={**target["env"], "AWS_ENDPOINT_URL": proxy.url})
    assert "skewed-403" in proxy.outcomes()
    assert_bucket_matches_build(peer, target)


def test_wait_polls_the_invalidation_to_completion(peer, target):
    publish_then_edit_help_page(target)
    summary, _ = publish(target, "--wait")
    invalidation = summary["invalidations"][0]
    assert invalidation["completed"] is True
    status = peer.client("cloudfront").get_invalidation(DistributionId=target["distribution"], Id=invalidation["id"])
    assert status["Invalidation"]["Status"] == "COMPLETED"
    # One CreateInvalidation (POST) and at least one GetInvalidation after it.
    assert summary["requests"]["POST"] >= 1 and summary["requests"]["GET"] >= 2


def test_a_large_file_goes_up_in_parts_and_is_then_left_alone(peer, target):
    media = target["project"] / "assets/media"
    media.mkdir()
    body = os.urandom(12 * 1024 * 1024 + 12345)
    (media / "intro.mp4").write_bytes(body)
    build(target)
    summary, _ = publish(target, "--multipart-above", "5", "--part-size", "5")
    key = next(e["path"] for e in manifest(target)["files"] if e["path"].startswith("assets/media/intro."))
    obj = peer.client("s3").get_object(Bucket=target["bucket"], Key=key)
    assert obj["Body"].read() == body
    assert obj["ETag"].strip('"').endswith("-3"), "three parts: 5 MiB, 5 MiB and the rest"
    assert obj["ContentType"] == "video/mp4"
    assert obj["Metadata"]["site-sha256"] == hashlib.sha256(body).hexdigest()
    # CreateMultipartUpload and CompleteMultipartUpload are POSTs; the parts are PUTs.
    assert summary["requests"]["POST"] >= 2
    assert_bucket_matches_build(peer, target)

    # A multipart ETag is not an MD5; change detection does not depend on it.
    build(target)
    again, _ = publish(target, "--multipart-above", "5", "--part-size", "5")
    assert again["uploaded"] == [] and again["requests"].get("PUT", 0) == 0


def successful_puts(proxy) -> list:
    return [e for e in proxy.log if e.method == "PUT" and e.upstream_status == 200]


def kill_after_puts(target, proxy, count: int, timeout: float = 60.0) -> None:
    """Starts a publish through `proxy` and SIGKILLs it once `count` more
    objects have been stored; fails if the publish ends first."""
    already = len(successful_puts(proxy))
    process = start_publish(target, "--jobs", "2", env={**target["env"], "AWS_ENDPOINT_URL": proxy.url})
    deadline = time.monotonic() + timeout
    try:
        while len(successful_puts(proxy)) < already + count:
            assert process.poll() is None, f"publish ended before it could be killed: {process.communicate()}"
            assert time.monotonic() < deadline, "publish made no progress"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()


def assert_no_html_before_its_assets(proxy, references: dict[str, set[str]], since: int = 0) -> None:
    """Every HTML object stored after request `since` was sent only after each asset it names
    (in `references`, made from the build being published) had been stored."""
    stored = successful_puts(proxy)
    for html in (e for e in stored if e.seq > since):
        key = urllib.parse.unquote(html.target.split("?")[0]).split("/", 2)[2]
        for asset in references.get(key, ()):
            before = [e for e in stored if e.target.split("?")[0].endswith("/" + asset) and e.end <= html.start]
            assert before, f"{key} was uploaded (request {html.seq}) before {asset}"


def test_a_killed_publish_converges_and_never_exposes_html_before_its_assets(peer, target, fault_proxy):
    proxy = fault_proxy(delay_seconds=0.05, methods={"PUT"})
    build(target)
    references = asset_references(target)
    kill_after_puts(target, proxy, 3)
    publish(target, env={**target["env"], "AWS_ENDPOINT_URL": proxy.url})
    assert_bucket_matches_build(peer, target)
    assert_no_html_before_its_assets(proxy, references)

    # An asset edit: the new stylesheet and module must be in place before any page naming them.
    css = target["project"] / "assets/css/app.css"
    css.write_text(css.read_text() + "\n.killed-mid-run { color: blue; }\n")
    boot = target["project"] / "assets/js/pages/app.js"
    boot.write_text(boot.read_text() + "\n// edited\n")
    build(target)
    references = asset_references(target)
    since = proxy.log[-1].seq
    kill_after_puts(target, proxy, 1)
    kill_after_puts(target, proxy, 4)
    summary, _ = publish(target, env={**target["env"], "AWS_ENDPOINT_URL": proxy.url})
    assert len(summary["retained"]) == 2, "the old stylesheet and module stay for the grace period"
    assert_bucket_matches_build(peer, target, retained=summary["retained"])
    assert_no_html_before_its_assets(proxy, references, since)
    # The re-runs only finished what the killed ones left.
    assert len(summary["uploaded"]) < len(references)
