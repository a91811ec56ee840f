"""The registry follows git: `angler champion` moves the alias to what production pins, and
`angler reconcile` finds an alias moved by hand and writes the promotion that would agree."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from angler.deploy.model_store import directory_digest
from angler.deploy.serving import MODEL_ENV, read_promotion

from helpers.paths import REPO_ROOT

pytestmark = pytest.mark.slow

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
        "--model",
        str(model),
        "--store",
        str(tmp_path / "store"),
    )
    assert result.returncode == 0, result.stderr
    return tmp_path, tmp_path / "store", json.loads((model / "model.json").read_text())


def test_champion_follows_the_pin_and_reconcile_agrees(promoted):
    repo, _, description = promoted
    result = angler(repo, "champion", "--env", "production")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(f"-> {description['version']} (production)")
    assert angler(repo, "reconcile").stdout.startswith("in sync")


def test_an_alias_moved_by_hand_is_drift_and_reconcile_writes_the_promotion(promoted):
    repo, store, description = promoted
    assert angler(repo, "champion").returncode == 0
    # Someone registers the model again and moves the alias in the MLflow UI.
    moved = mlflow.register_model(f"runs:/{description['mlflow_run_id']}/model", "angler").version
    mlflow.MlflowClient().set_registered_model_alias("angler", "champion", moved)

    drift = angler(repo, "reconcile")
    assert drift.returncode == 1
    assert f"git pins version {description['version']}" in drift.stdout
    assert f"champion is {moved}" in drift.stdout

    written = angler(repo, "reconcile", "--write", "--store", str(store))
    assert written.returncode == 1, written.stderr
    pin = read_promotion(repo / "k8s" / "overlays" / "production" / MODEL_ENV).stable
    assert pin.version == int(moved)
    assert directory_digest(store / str(moved)) == pin.digest == description["digest"]
    assert angler(repo, "reconcile").returncode == 0


def test_champion_refuses_a_registry_version_that_is_not_the_pinned_model(promoted):
    repo, _, description = promoted
    overlay = repo / "k8s" / "overlays" / "production" / MODEL_ENV
    overlay.write_text(overlay.read_text().replace(description["digest"], "sha256:" + "0" * 64))
    result = angler(repo, "champion")
    assert result.returncode == 2
    assert "is not the registry the model was promoted from" in result.stderr
