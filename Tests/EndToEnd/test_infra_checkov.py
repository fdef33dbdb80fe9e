"""The production template (infra/template.yaml) through checkov, a scanner that knows nothing of
this project's own tests.

checkov runs from its own virtualenv, .venv-checkov/, which scripts/install-deps test fills from
Tests/Infra/requirements.txt (checkov pins a boto3 older than these tests need). Offline
(`--skip-download`: no Prisma Cloud account, no guideline links).

- Every check checkov runs on the template passes or is suppressed on its resource with a reason,
  as a `# checkov:skip=CKV_AWS_…:reason` comment in the resource's lines (infra/deploy strips
  comment lines, so the reasons cost nothing of the template's size).
- Every suppression is needed: the same template without them fails exactly the suppressed checks
  (a fixed finding leaves no skip behind), and every skip comment is inside a resource (checkov
  ignores one that is not, silently).
- What the stack fixed stays fixed, not suppressed (FIXED).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from support import REPO
from support.cfn_template import TEMPLATE

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
SKIP_COMMENT = re.compile(r"^\s*#\s*checkov:skip=(CKV2?_[A-Z0-9_]+):(.*)$")

# (check, resource): findings the stack fixes rather than suppresses, with what fixes each.
FIXED: dict[tuple[str, str], str] = {
    ("CKV_AWS_115", "VideoFunction"): "a reserved concurrency",
    ("CKV_AWS_115", "TriggerFunction"): "a reserved concurrency",
    ("CKV_AWS_115", "CompleteFunction"): "a reserved concurrency",
    ("CKV_AWS_116", "CompleteFunction"): "a dead-letter queue for events that failed Lambda's retries",
    ("CKV_AWS_95", "VideoApiStage"): "the API's access log",
    ("CKV_AWS_86", "Distribution"): "standard logs to the log bucket",
    ("CKV_AWS_21", "MainBucket"): "versions: a deleted video recoverable for 30 days",
    ("CKV_AWS_68", "Distribution"): "a web ACL with a rate-based rule when WebFirewall is on",
}


def run_checkov(template: Path) -> dict[str, list[dict]]:
    """checkov's results for TEMPLATE: passed_checks, failed_checks, skipped_checks, parsing_errors."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV.relative_to(REPO)} is missing: scripts/install-deps test makes .venv-checkov/ "
                    "from Tests/Infra/requirements.txt")
    result = subprocess.run([str(CHECKOV), "--file", str(template), "--framework", "cloudformation",
                             "--output", "json", "--skip-download"],
                            capture_output=True, text=True, timeout=300, check=False, cwd=template.parent)
    assert result.returncode in (0, 1), f"checkov exited {result.returncode}:\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    assert isinstance(report, dict) and report.get("check_type") == "cloudformation", result.stdout[:2000]
    return report["results"]


def finding(check: dict) -> tuple[str, str]:
    """(check id, logical id) of a result; its resource is `Type.LogicalId`."""
    return check["check_id"], check["resource"].rsplit(".", 1)[-1]


def findings(checks: list[dict]) -> str:
    return "\n".join(f"  {c['check_id']} {c['resource']}: {c['check_name']}" for c in checks)


@pytest.fixture(scope="module")
def results() -> dict[str, list[dict]]:
    return run_checkov(TEMPLATE)


@pytest.fixture(scope="module")
def unsuppressed(tmp_path_factory) -> dict[str, list[dict]]:
    """checkov's results for the template without its skip comments."""
    copy = tmp_path_factory.mktemp("checkov") / "template.yaml"
    lines = TEMPLATE.read_text().splitlines(keepends=True)
    copy.write_text("".join(line for line in lines if not SKIP_COMMENT.match(line)))
    return run_checkov(copy)


def test_checkov_reads_the_template_and_runs_its_checks(results):
    assert results["parsing_errors"] == []
    assert len(results["passed_checks"]) > 50, "checkov ran few checks: did it read the SAM template?"


def test_every_finding_is_fixed_or_suppressed_with_a_reason(results):
    assert results["failed_checks"] == [], (
        "checkov finds these; fix each, or suppress it on its resource with the reason "
        "(`# checkov:skip=ID:reason` under the resource's Type line):\n" + findings(results["failed_checks"]))
    for check in results["skipped_checks"]:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason.split()) >= 4 and reason != "No comment provided", (
            f"{check['check_id']} on {check['resource']} is suppressed without a reason a reader can weigh: {reason!r}")


def test_every_suppression_is_needed_and_on_a_resource(results, unsuppressed):
    skipped = sorted(finding(c) for c in results["skipped_checks"])
    assert sorted(finding(c) for c in unsuppressed["failed_checks"]) == skipped, (
        "without the skip comments, checkov should fail exactly the suppressed checks")
    comments = [m.group(1) for m in map(SKIP_COMMENT.match, TEMPLATE.read_text().splitlines()) if m]
    assert sorted(comments) == sorted(check for check, _ in skipped), (
        "a skip comment outside a resource's lines is ignored by checkov")


def test_what_the_stack_fixed_stays_fixed(results):
    passed = {finding(c) for c in results["passed_checks"]}
    missing = {f"{check} {resource}: {what}" for (check, resource), what in FIXED.items() if (check, resource) not in passed}
    assert not missing, "no longer passing:\n" + "\n".join(sorted(missing))
