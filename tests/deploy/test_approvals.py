"""A pin reaches production only with a promote verdict recorded in git; written as the
attacks: a pin put in model.env by hand, a verdict that is not `promote`."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from angler.deploy.approvals import NotApproved, read_approvals, record_approval, unapproved_pins
from angler.deploy.serving import Pin

ANGLER = str(Path(sys.executable).parent / "angler")
DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


def overlays(tmp_path: Path, version: int, digest: str) -> Path:
    for env in ("staging", "production"):
        folder = tmp_path / "overlays" / env
        folder.mkdir(parents=True)
        (folder / "model.env").write_text(
            f"ANGLER_MODEL_VERSION={version}\nANGLER_MODEL_DIGEST={digest}\n"
        )
    return tmp_path / "overlays"


def verdict(decision: str) -> dict:
    return {
        "pull_request": {"base_sha": "abc123"},
        "verdict": {"decision": decision, "reasons": ["TPR at 1% FPR is better"]},
    }


def test_a_promoted_pin_is_approved(tmp_path):
    path = tmp_path / "approvals.json"
    record_approval(path, Pin(3, DIGEST), verdict("promote"))
    assert read_approvals(path)["3"]["digest"] == DIGEST
    assert unapproved_pins(overlays(tmp_path, 3, DIGEST), read_approvals(path)) == []


@pytest.mark.parametrize("decision", ["hold", "reject"])
def test_only_a_promote_verdict_is_recorded(tmp_path, decision):
    with pytest.raises(NotApproved, match=f"'{decision}', not 'promote'"):
        record_approval(tmp_path / "approvals.json", Pin(3, DIGEST), verdict(decision))
    assert not (tmp_path / "approvals.json").exists()


def test_a_pin_written_by_hand_is_refused(tmp_path):
    path = tmp_path / "approvals.json"
    record_approval(path, Pin(3, DIGEST), verdict("promote"))
    hand_written = overlays(tmp_path, 4, OTHER)  # the registry's new champion, say
    problems = unapproved_pins(hand_written, read_approvals(path))
    assert len(problems) == 2 and all("version 4" in p for p in problems)
    result = subprocess.run(
        [ANGLER, "check-pins", "--overlays", str(hand_written), "--approvals", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "no promote verdict" in result.stderr and "Traceback" not in result.stderr


def test_the_same_version_with_another_digest_is_refused(tmp_path):
    path = tmp_path / "approvals.json"
    record_approval(path, Pin(3, DIGEST), verdict("promote"))
    assert unapproved_pins(overlays(tmp_path, 3, OTHER), read_approvals(path))


def test_a_broken_approvals_file_is_a_clear_error(tmp_path):
    path = tmp_path / "approvals.json"
    path.write_text("[1, 2]")
    with pytest.raises(NotApproved, match="must hold an object"):
        read_approvals(path)
    path.write_text("{oops")
    with pytest.raises(NotApproved, match="not valid JSON"):
        read_approvals(path)


def test_promote_refuses_a_hold_verdict_before_publishing(tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps(verdict("hold")))
    (tmp_path / "overlays" / "staging").mkdir(parents=True)
    (tmp_path / "overlays" / "staging" / "kustomization.yaml").write_text("resources: []\n")
    result = subprocess.run(
        [
            ANGLER,
            "promote",
            "--env",
            "staging",
            "--model",
            str(tmp_path / "no-model"),
            "--store",
            str(tmp_path / "store"),
            "--overlays",
            str(tmp_path / "overlays"),
            "--verdict",
            str(report),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "holds no promote verdict" in result.stderr
    assert not (tmp_path / "store").exists()


def test_the_committed_pins_are_approved():
    from helpers.paths import REPO_ROOT

    approvals = read_approvals(REPO_ROOT / "k8s" / "approvals.json")
    assert unapproved_pins(REPO_ROOT / "k8s" / "overlays", approvals) == []
