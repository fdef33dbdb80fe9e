"""End-to-end tests of `site publish` against a real S3/CloudFront API peer (moto_server) with
every request's signature checked, inspected afterwards with boto3."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from conftest import REPO, run_site


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


def build(target, environment="production"):
    env = {k: v for k, v in target["env"].items() if environment == "production" or not k.startswith("SITE_PUBLISH_")}
    result = run_site(["build", "--env", environment, "--site", target["project"], "-q"], env, target["project"])
    assert result.returncode == 0, result.stderr


def publish(target, *extra, env=None, expect_ok=True):
    result = run_site(["publish", "--env", "production", "--site", target["project"], "--json", *extra],
                      env or target["env"], target["project"])
    summary = json.loads(result.stdout) if result.stdout.strip() else {}
    if expect_ok:
        assert result.returncode == 0, result.stderr + result.stdout
    return summary, result


def site_objects(peer, bucket):
    s3 = peer.client("s3")
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in page.get("Contents", [])]
    return sorted(k for k in keys if not k.startswith(".site/"))


def manifest(target):
    return json.loads((target["project"] / "dist/.site/manifest.json").read_text())


def assert_bucket_matches_build(peer, target):
    """Every object of the build is in the bucket with its bytes, headers and hash metadata."""
    s3 = peer.client("s3")
    dist = target["project"] / "dist"
    files = manifest(target)["files"]
    for entry in files:
        obj = s3.get_object(Bucket=target["bucket"], Key=entry["path"])
        body = obj["Body"].read()
        if entry.get("gzip"):
            assert body == (dist / entry["gzip"]["path"]).read_bytes()
            assert gzip.decompress(body) == (dist / entry["path"]).read_bytes()
            assert obj["ContentEncoding"] == "gzip"
        else:
            assert body == (dist / entry["path"]).read_bytes()
            assert "ContentEncoding" not in obj
        assert obj["ContentType"] == entry["contentType"]
        expected_cache = "public, max-age=31536000, immutable" if entry["cache"] == "immutable" else "no-cache"
        assert obj["CacheControl"] == expected_cache
        assert obj["Metadata"]["site-sha256"] == (entry.get("gzip") or entry)["sha256"]
        assert len(obj["Metadata"]["site-headers"]) == 64
    assert site_objects(peer, target["bucket"]) == sorted(e["path"] for e in files)


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


def test_one_page_edit_uploads_that_page_and_invalidates_its_paths(peer, target):
    build(target)
    publish(target)
    help_page = target["project"] / "site/pages/help.md"
    help_page.write_text(help_page.read_text() + "\nOne more line.\n")
    build(target)
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
