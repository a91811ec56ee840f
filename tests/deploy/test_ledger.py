"""A pin is served only when the ledger in the model store backs it: a promote job approved
its version and digest and pinned it in that environment. Written as the attacks: a pin put
in an overlay by hand, production re-pinned by a commit that touches only the overlays, a
verdict that is not `promote`, a record rewritten."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from angler.deploy.ledger import (
    LedgerConflict,
    NotApproved,
    pin_problem,
    record_approval,
    record_pin,
    unbacked_pins,
)
from angler.deploy.serving import Pin, Promotion, write_promotion
from angler.errors import AnglerError

from helpers.paths import REPO_ROOT

ANGLER = str(Path(sys.executable).parent / "angler")
DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


def report(decision: str, reason: str = "TPR at 1% FPR is better") -> bytes:
    return json.dumps(
        {
            "pull_request": {"base_sha": "abc123"},
            "mlflow": {"run_id": "0123abcd"},
            "verdict": {"decision": decision, "reasons": [reason]},
        }
    ).encode()


def overlays(tmp_path: Path, **pins: Pin) -> Path:
    """An overlays folder with each environment's model.env pinning the given version."""
    for env, pin in pins.items():
        folder = tmp_path / "overlays" / env
        folder.mkdir(parents=True, exist_ok=True)
        write_promotion(folder / "model.env", Promotion(pin))
    return tmp_path / "overlays"


def check_pins(folder: Path, store: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ANGLER, "check-pins", "--overlays", str(folder), "--store", str(store)],
        capture_output=True,
        text=True,
    )


def promoted(store: Path, version: int, *envs: str, digest: str = DIGEST) -> Pin:
    """What the promote jobs record: the approval, then a pin per environment."""
    pin = Pin(version, digest)
    record_approval(str(store), pin, report("promote"))
    for env in envs:
        record_pin(str(store), env, pin)
    return pin


def test_a_promoted_pin_is_backed_where_it_was_pinned(tmp_path):
    store = tmp_path / "store"
    pin = promoted(store, 3, "staging")
    assert unbacked_pins(overlays(tmp_path, staging=pin), str(store)) == []
    record = json.loads((store / "ledger" / "approved" / "3.json").read_text())
    assert record["digest"] == DIGEST and record["mlflow_run_id"] == "0123abcd"
    assert len(record["report_sha256"]) == 64


@pytest.mark.parametrize("decision", ["hold", "reject"])
def test_only_a_promote_verdict_is_recorded(tmp_path, decision):
    with pytest.raises(NotApproved, match=f"'{decision}', not 'promote'"):
        record_approval(str(tmp_path / "store"), Pin(3, DIGEST), report(decision))
    with pytest.raises(NotApproved, match="has no promote verdict"):
        record_pin(str(tmp_path / "store"), "staging", Pin(3, DIGEST))
    assert not (tmp_path / "store").exists()


def test_a_pin_written_by_hand_is_refused_by_check_pins(tmp_path):
    store = tmp_path / "store"
    promoted(store, 3, "staging", "production")
    hand_written = overlays(tmp_path, staging=Pin(4, OTHER), production=Pin(4, OTHER))
    result = check_pins(hand_written, store)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(
        "version 4" in line and "no promote verdict" in line for line in lines
    )


def test_production_repinned_by_an_overlays_only_commit_is_refused(tmp_path):
    """The attack of issue 28: version 5 was approved and staged but never went to
    production (say staging found it unhealthy); a commit that edits only production's
    model.env, with any record it likes in git, does not move production."""
    store = tmp_path / "store"
    old = promoted(store, 4, "staging", "production")
    staged_only = promoted(store, 5, "staging", digest=OTHER)
    folder = overlays(tmp_path, staging=staged_only, production=staged_only)
    (tmp_path / "approvals.json").write_text(json.dumps({"5": {"digest": OTHER}}))
    result = check_pins(folder, store)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"{folder}/production/model.env: version 5 was never pinned in production by a "
        "promote job: production takes only what staging pinned (`angler promote --from-env "
        "staging`) or a version it ran before"
    )
    # The rollback: production back to the version it ran before.
    overlays(tmp_path, production=old)
    assert check_pins(folder, store).returncode == 0


def test_the_same_version_with_another_digest_is_refused(tmp_path):
    store = tmp_path / "store"
    promoted(store, 3, "staging")
    assert pin_problem(str(store), "staging", Pin(3, OTHER)) is not None
    with pytest.raises(LedgerConflict, match="records digest sha256:abab"):
        record_approval(str(store), Pin(3, OTHER), report("promote"))
    promoted(store, 3, "staging")  # the same again, as a retried job does: nothing changes


def test_a_broken_ledger_record_is_a_clear_error(tmp_path):
    store = tmp_path / "store"
    (store / "ledger" / "approved").mkdir(parents=True)
    (store / "ledger" / "approved" / "3.json").write_text("{oops")
    result = check_pins(overlays(tmp_path, staging=Pin(3, DIGEST)), store)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"angler check-pins: error: {store}/ledger/approved/3.json is not valid JSON: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    ]


def test_an_environment_name_cannot_leave_the_ledger(tmp_path):
    with pytest.raises(AnglerError, match="not a lower-case overlay name"):
        pin_problem(str(tmp_path), "../approved", Pin(3, DIGEST))


def test_promote_refuses_a_hold_verdict_before_publishing(tmp_path):
    verdict = tmp_path / "report.json"
    verdict.write_bytes(report("hold"))
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
            str(verdict),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "holds no promote verdict" in result.stderr
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize("content", [None, b"\xff\xfe not json"])
def test_promote_with_a_missing_or_broken_verdict_is_one_line(tmp_path, content):
    verdict = tmp_path / "report.json"
    if content is not None:
        verdict.write_bytes(content)
    shutil.copytree(REPO_ROOT / "k8s" / "overlays", tmp_path / "overlays")
    result = subprocess.run(
        [ANGLER, "promote", "--env", "staging", "--store", str(tmp_path / "store")]
        + ["--overlays", str(tmp_path / "overlays"), "--verdict", str(verdict)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and str(verdict) in result.stderr
    assert not (tmp_path / "store").exists()


@pytest.mark.parametrize(
    "description",
    [{"version": 3}, {"digest": DIGEST}, {"version": "3", "digest": DIGEST}, [1, 2]],
    ids=["no digest", "no version", "version as text", "not an object"],
)
def test_promote_of_a_broken_model_json_is_one_line(tmp_path, description):
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.json").write_text(json.dumps(description))
    shutil.copytree(REPO_ROOT / "k8s" / "overlays", tmp_path / "overlays")
    result = subprocess.run(
        [ANGLER, "promote", "--env", "staging", "--local-only", "--model", str(model)]
        + ["--store", str(tmp_path / "store"), "--overlays", str(tmp_path / "overlays")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    assert (
        result.stderr.strip().splitlines() == [result.stderr.strip()]
        and "model.json" in result.stderr
    )
    assert not (tmp_path / "store").exists()


def limit_file_size():
    """A disk that is full after 64 KB: writes past it fail with EFBIG (SIGXFSZ ignored)."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))


def test_promote_onto_a_full_disk_is_one_line_and_leaves_nothing(tmp_path):
    from angler.deploy.model_store import directory_digest

    version = tmp_path / "model" / "3"
    version.mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"graph" * 100_000)  # 500 KB: past the limit
    (tmp_path / "model" / "model.json").write_text(
        json.dumps({"version": 3, "digest": directory_digest(version)})
    )
    store = tmp_path / "store"
    shutil.copytree(REPO_ROOT / "k8s" / "overlays", tmp_path / "overlays")
    before = (tmp_path / "overlays" / "staging" / "model.env").read_text()
    result = subprocess.run(
        [ANGLER, "promote", "--env", "staging", "--local-only", "--model", str(tmp_path / "model")]
        + ["--store", str(store), "--overlays", str(tmp_path / "overlays")],
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("angler promote: error: ") and line.endswith("File too large"), line
    assert list(store.iterdir()) == []  # no staging copy, no lock, no marker
    assert (tmp_path / "overlays" / "staging" / "model.env").read_text() == before


def test_promote_without_a_verdict_refuses_unless_local_only(tmp_path):
    """Issue 29: a pin that check-pins then refused was written without a word."""
    shutil.copytree(REPO_ROOT / "k8s" / "overlays", tmp_path / "overlays")
    before = (tmp_path / "overlays" / "staging" / "model.env").read_text()
    result = subprocess.run(
        [ANGLER, "promote", "--env", "staging", "--store", str(tmp_path / "store")]
        + ["--overlays", str(tmp_path / "overlays")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "--local-only" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "overlays" / "staging" / "model.env").read_text() == before
    assert not (tmp_path / "store").exists()
