"""The registry follows git: `angler champion` moves the alias to what production pins, and
`angler reconcile` reports an alias moved by hand, and publishes nothing."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from angler.deploy.registry import AliasCheck, RegistryVersion, drift_report
from angler.deploy.serving import MODEL_ENV

from helpers.paths import REPO_ROOT

ANGLER = str(Path(sys.executable).with_name("angler"))


def angler(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ANGLER, *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def promoted(demo_run, tmp_path) -> tuple[Path, Path, dict]:
    """A repository whose production overlay pins the demo run's exported model."""
    shutil.copytree(REPO_ROOT / "k8s", tmp_path / "k8s")
    model = demo_run / "models" / "angler"
    result = angler(
        tmp_path,
        "promote",
        "--env",
        "production",
        "--local-only",
        "--model",
        str(model),
        "--store",
        str(tmp_path / "store"),
    )
    assert result.returncode == 0, result.stderr
    return tmp_path, tmp_path / "store", json.loads((model / "model.json").read_text())


def files(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.slow
def test_champion_follows_the_pin_and_reconcile_agrees(promoted):
    repo, _, description = promoted
    result = angler(repo, "champion", "--env", "production")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"-> {description['version']} (production)")
    assert angler(repo, "reconcile").stdout.startswith("in sync")


@pytest.mark.slow
def test_an_alias_moved_by_hand_is_reported_and_nothing_is_published(promoted):
    """The attack: whoever holds the MLflow token moves `champion` to a version of their
    choosing. Reconcile reports it; the store and the overlays stay as they were."""
    repo, store, description = promoted
    assert angler(repo, "champion").returncode == 0
    before = files(repo / "k8s"), files(store)
    tracking = os.environ["MLFLOW_TRACKING_URI"]  # this worker's copy, which `angler` reads
    mlflow.set_tracking_uri(tracking)  # not whatever server an earlier test pointed MLflow at
    client = mlflow.MlflowClient(tracking)
    run_id = client.get_model_version("angler", str(description["version"])).run_id
    moved = mlflow.register_model(f"runs:/{run_id}/model", "angler").version
    client.set_registered_model_alias("angler", "champion", moved)

    report = repo / "drift.md"
    drift = angler(repo, "reconcile", "--report", str(report))
    assert drift.returncode == 1, drift.stderr
    assert f"git pins version {description['version']}" in drift.stdout
    assert f"champion is {moved}" in drift.stdout
    text = report.read_text()
    assert text.startswith(
        f"# Registry drift: champion is version {moved}, production pins {description['version']}"
    )
    assert run_id in text
    assert "angler champion --env production" in text
    assert angler(repo, "reconcile", "--write").returncode == 2  # no such option any more
    assert (files(repo / "k8s"), files(store)) == before

    assert angler(repo, "champion").returncode == 0  # the alias goes back to what git pins
    assert angler(repo, "reconcile").returncode == 0


def test_the_report_quotes_registry_text_safely():
    champion = RegistryVersion(7, "run", "s3://x`y|z\n## heading", "2025-01-01T00:00:00+00:00", "")
    text = drift_report(AliasCheck("production", Path("model.env"), 5, champion))
    assert "`s3://x'y/z ## heading`" in text
    assert "\n## heading" not in text
    unset = drift_report(AliasCheck("staging", Path("model.env"), 5, None))
    assert unset.startswith("# Registry drift: champion is not set, staging pins 5")
    assert "open a pull request" not in unset


@pytest.mark.slow
def test_champion_refuses_a_registry_version_that_is_not_the_pinned_model(promoted):
    repo, _, description = promoted
    overlay = repo / "k8s" / "overlays" / "production" / MODEL_ENV
    overlay.write_text(overlay.read_text().replace(description["digest"], "sha256:" + "0" * 64))
    result = angler(repo, "champion")
    assert result.returncode == 2
    assert "is not the registry the model was promoted from" in result.stderr
