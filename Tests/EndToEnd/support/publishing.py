"""Helpers of the `site publish` end-to-end tests: build and publish a project
with `site`, check a bucket against the build with boto3, and make the
CloudFormation stack whose outputs `--stack` reads.

A `target` (the conftest fixture) is a dict: bucket, distribution, env (the
complete environment for `site`) and project (a copy of the starter app)."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import uuid

from .site import run_site, site_binary


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


def assert_bucket_matches_build(peer, target, retained=()):
    """Every object of the build is in the bucket with its bytes, headers and hash metadata, and
    nothing else is but the `retained` keys (old fingerprinted assets in their grace period)."""
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
    assert site_objects(peer, target["bucket"]) == sorted([e["path"] for e in files] + list(retained))


def start_publish(target, *extra, env=None) -> subprocess.Popen:
    """Starts `site publish` without waiting for it (to kill it mid-run)."""
    return subprocess.Popen(
        [str(site_binary()), "publish", "--env", "production", "--site", str(target["project"]), "--json", *extra],
        env=env or target["env"], cwd=target["project"], stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def asset_references(target) -> dict[str, set[str]]:
    """For each HTML file of the build, the fingerprinted files it names."""
    dist = target["project"] / "dist"
    files = manifest(target)["files"]
    assets = {e["path"] for e in files if e["cache"] == "immutable"}
    pattern = re.compile(r"assets/[A-Za-z0-9_./-]+")
    return {e["path"]: set(pattern.findall((dist / e["path"]).read_text())) & assets
            for e in files if e["path"].endswith(".html")}


# -- stacks: the values `--stack` reads --------------------------------------------------------------
def stack_outputs(bucket: str, distribution: str) -> dict[str, str]:
    """Every output the production template emits; the bucket and distribution exist in moto."""
    return {
        "CognitoRegion": "us-east-1",
        "UserPoolId": "us-east-1_StackPool7",
        "UserPoolClientId": "stackclient00000000000000a1",
        # The API Gateway URL the distribution's /api/* behaviour forwards to; the app never calls it.
        "ApiEndpoint": "https://abc123.execute-api.us-east-1.amazonaws.com",
        "UploadOrigin": "https://video-temp-e2e.s3.us-east-1.amazonaws.com",
        "SiteBucket": bucket,
        "SiteBucketRegion": "us-east-1",
        "DistributionId": distribution,
        # Not production's default (invite), so a build that shows sign-up took it from the stack.
        "SignUpPolicy": "open",
    }


def create_stack(peer, outputs: dict[str, str]) -> str:
    """A stack in moto with one SNS topic and `outputs` as literal strings; returns its name."""
    name = f"video-e2e-{uuid.uuid4().hex[:10]}"
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cloudformation = peer.client("cloudformation")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))
    status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE", status
    return name
