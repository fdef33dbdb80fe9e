"""End-to-end tests of `--stack`: `site build` and `site publish` take the environment's values
from a deployed CloudFormation stack's outputs, read with DescribeStacks from moto_server (every
signature checked). The stacks are made in moto with a trivial resource and literal outputs.

The API and the media are on the site's own origin (`/api`, `/media/`, the distribution's
behaviours): the stack's `ApiEndpoint` is not read, site.yml's `api.baseUrl: /api` stands, and the
pages' policy names only Cognito and the upload bucket besides `'self'`."""

from __future__ import annotations

import html
import json
import re
import uuid

import pytest

from support.publishing import assert_bucket_matches_build, create_stack, manifest, site_objects, stack_outputs
from support.site import run_site

CONFIG = re.compile(r'<script type="application/json" id="site-config">(.*?)</script>', re.S)
POLICY = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">')


@pytest.fixture
def stack(peer, bucket, project, site_bin):
    """A deployed stack whose outputs name a real bucket and distribution, and the environment for
    `site` (no SITE_* variables: everything comes from the stack)."""
    distribution = peer.create_distribution(bucket)
    outputs = stack_outputs(bucket, distribution)
    env = {k: v for k, v in peer.env().items() if not k.startswith("SITE_")}
    env["NO_COLOR"] = "1"
    return {"name": create_stack(peer, outputs), "outputs": outputs, "bucket": bucket,
            "distribution": distribution, "env": env, "project": project}


def site(stack, command, *extra, env=None, stack_name=None):
    return run_site([command, "--env", "production", "--stack", stack_name or stack["name"],
                     "--site", stack["project"], *extra], env or stack["env"], stack["project"])


def pages(stack) -> dict[str, str]:
    """Every built HTML page's text, by path."""
    dist = stack["project"] / "dist"
    return {e["path"]: (dist / e["path"]).read_text()
            for e in manifest(stack)["files"] if e["path"].endswith(".html")}


def csp(page: str) -> dict[str, list[str]]:
    """A page's Content-Security-Policy (its meta tag), by directive."""
    policy = html.unescape(POLICY.search(page).group(1))
    directives = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *values = directive.split()
        directives[name] = values
    return directives


def configs(stack) -> dict[str, dict]:
    """The app config of every built page that runs the app's modules (only those carry it), by path."""
    found = {path: json.loads(match.group(1))
             for path, match in ((path, CONFIG.search(page)) for path, page in pages(stack).items()) if match}
    assert found, "no page carries the app config"
    return found


def test_build_puts_the_stack_outputs_in_the_pages_config_and_policy(stack):
    result = site(stack, "build", "-q")
    assert result.returncode == 0, result.stderr
    outputs = stack["outputs"]
    for path, config in configs(stack).items():
        assert config["environment"] == "production"
        assert config["cognito"] == {
            "region": outputs["CognitoRegion"], "userPoolId": outputs["UserPoolId"],
            "clientId": outputs["UserPoolClientId"], "endpoint": "https://cognito-idp.us-east-1.amazonaws.com"}, path
        # site.yml's path on the site's own origin, not the stack's API endpoint.
        assert config["api"] == {"baseUrl": "/api"}, path
        assert config["uploads"] == {"origins": [outputs["UploadOrigin"]]}, path
        assert config["signUp"] == outputs["SignUpPolicy"], path
        assert "media" not in config, path
    # Every page's policy lets the app reach what the stack names, and nothing else: the API and
    # the media are 'self'.
    for path, page in pages(stack).items():
        directives = csp(page)
        assert directives["connect-src"] == ["'self'", "https://cognito-idp.us-east-1.amazonaws.com", outputs["UploadOrigin"]], path
        assert directives["img-src"] == ["'self'"], path
        assert directives["media-src"] == ["'self'", "blob:"], path
        assert outputs["ApiEndpoint"] not in page and "cloudfront.net" not in page, path


def test_an_accelerated_upload_origin_is_the_one_the_config_and_the_policy_name(peer, stack):
    """A stack deployed with UploadAcceleration outputs the temp bucket's s3-accelerate origin; the
    app then uploads there and its pages may connect there, and to no regional S3 host."""
    accelerated = "https://video-temp-111122223333-us-east-1.s3-accelerate.amazonaws.com"
    name = create_stack(peer, dict(stack["outputs"], UploadOrigin=accelerated))
    result = site(stack, "build", "-q", stack_name=name)
    assert result.returncode == 0, result.stderr
    for path, config in configs(stack).items():
        assert config["uploads"] == {"origins": [accelerated]}, path
    for path, page in pages(stack).items():
        assert csp(page)["connect-src"] == ["'self'", "https://cognito-idp.us-east-1.amazonaws.com", accelerated], path
        assert stack["outputs"]["UploadOrigin"] not in page, path


def test_site_variables_win_over_the_stack_outputs(stack):
    env = dict(stack["env"], SITE_API_BASE_URL="https://api.override.example/v2")
    result = site(stack, "build", "-q", env=env)
    assert result.returncode == 0, result.stderr
    for config in configs(stack).values():
        assert config["api"] == {"baseUrl": "https://api.override.example/v2"}
        assert config["cognito"]["userPoolId"] == stack["outputs"]["UserPoolId"]
    # An API elsewhere is another origin the app talks to.
    for path, page in pages(stack).items():
        assert csp(page)["connect-src"] == ["'self'", "https://cognito-idp.us-east-1.amazonaws.com",
                                            "https://api.override.example", stack["outputs"]["UploadOrigin"]], path


def test_without_a_region_variable_the_stack_is_looked_up_in_site_yml_publish_region(stack):
    env = {k: v for k, v in stack["env"].items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    result = site(stack, "build", "-q", env=env)
    assert result.returncode == 0, result.stderr
    assert all(c["cognito"]["userPoolId"] == stack["outputs"]["UserPoolId"] for c in configs(stack).values())


def test_a_stack_without_an_output_fails_naming_it_and_leaves_dist(peer, stack):
    assert site(stack, "build", "-q").returncode == 0
    before = (stack["project"] / "dist/index.html").read_bytes()
    outputs = dict(stack["outputs"])
    del outputs["UploadOrigin"]
    incomplete = create_stack(peer, outputs)
    result = site(stack, "build", stack_name=incomplete)
    assert result.returncode == 1
    assert f"stack '{incomplete}' has no output 'UploadOrigin' (needed for uploads.origins)" in result.stderr
    assert "build failed with 1 error" in result.stderr
    assert (stack["project"] / "dist/index.html").read_bytes() == before
    published = site(stack, "publish", "--json", stack_name=incomplete)
    assert published.returncode == 1
    assert f"stack '{incomplete}' has no output 'UploadOrigin'" in json.loads(published.stdout)["error"]


def test_the_outputs_the_site_no_longer_reads_are_neither_needed_nor_used(peer, stack):
    """A stack without ApiEndpoint builds; one still carrying the old ApiBaseUrl and MediaOrigin
    (deployed before the API and the media moved to the site's origin) changes nothing."""
    def built() -> dict[str, tuple]:
        found = configs(stack)
        return {path: (found.get(path), csp(page)) for path, page in pages(stack).items()}

    assert site(stack, "build", "-q").returncode == 0
    expected = built()
    without = {k: v for k, v in stack["outputs"].items() if k != "ApiEndpoint"}
    older = dict(stack["outputs"], ApiBaseUrl="https://old123.execute-api.us-east-1.amazonaws.com/",
                 MediaOrigin="https://d222222abcdef8.cloudfront.net")
    for outputs in (without, older):
        result = site(stack, "build", "-q", stack_name=create_stack(peer, outputs))
        assert result.returncode == 0, result.stderr
        assert built() == expected
        for page in pages(stack).values():
            assert "old123" not in page and "d222222abcdef8" not in page


def test_a_missing_stack_fails_naming_the_stack_and_the_region(stack):
    result = site(stack, "build", stack_name="no-such-stack")
    assert result.returncode == 1
    assert "stack 'no-such-stack' does not exist in us-east-1 (the region from AWS_REGION)" in result.stderr
    # The stack is regional: looked up elsewhere, it is not there.
    elsewhere = dict(stack["env"], AWS_REGION="eu-west-1")
    result = site(stack, "build", env=elsewhere)
    assert result.returncode == 1
    assert f"stack '{stack['name']}' does not exist in eu-west-1 (the region from AWS_REGION)" in result.stderr
    published = site(stack, "publish", "--json", stack_name="no-such-stack")
    assert published.returncode == 1
    assert "stack 'no-such-stack' does not exist in us-east-1" in json.loads(published.stdout)["error"]


def test_publish_goes_to_the_stacks_bucket_and_invalidates_its_distribution(peer, stack):
    assert site(stack, "build", "-q").returncode == 0
    first = site(stack, "publish", "--json")
    assert first.returncode == 0, first.stderr + first.stdout
    summary = json.loads(first.stdout)
    assert summary["stack"] == stack["name"] and summary["region"] == "us-east-1"
    assert_bucket_matches_build(peer, stack)

    help_page = stack["project"] / "site/pages/help.md"
    help_page.write_text(help_page.read_text() + "\nOne more line.\n")
    assert site(stack, "build", "-q").returncode == 0
    second = site(stack, "publish", "--json")
    assert second.returncode == 0, second.stderr + second.stdout
    summary = json.loads(second.stdout)
    assert [u["key"] for u in summary["uploaded"]] == ["help/index.html"]
    assert [i["distributionId"] for i in summary["invalidations"]] == [stack["distribution"]]
    listed = peer.client("cloudfront").list_invalidations(DistributionId=stack["distribution"])
    assert summary["invalidations"][0]["id"] in [i["Id"] for i in listed["InvalidationList"].get("Items", [])]
    assert_bucket_matches_build(peer, stack)


def test_site_publish_bucket_wins_over_the_stacks_bucket(peer, stack):
    other = peer.create_bucket(f"site-e2e-{uuid.uuid4().hex[:12]}")
    assert site(stack, "build", "-q").returncode == 0
    result = site(stack, "publish", "--json", env=dict(stack["env"], SITE_PUBLISH_BUCKET=other))
    assert result.returncode == 0, result.stderr + result.stdout
    assert site_objects(peer, stack["bucket"]) == []
    assert_bucket_matches_build(peer, dict(stack, bucket=other))
