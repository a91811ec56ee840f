"""The model stages, promote, champion and reconcile against a real `mlflow server` (SQL
backend, artifacts proxied by the server): everything goes through HTTP, nothing to a
local store."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from helpers.engines import free_port, mlflow_server_command, running
from helpers.paths import REPO_ROOT, SMALL_DEMO, write_params

pytestmark = [pytest.mark.engines, pytest.mark.slow]

ANGLER = str(Path(sys.executable).with_name("angler"))


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory) -> Iterator[dict]:
    """`mlflow server` on a free port: its URL and the folder its artifacts land in."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    command = mlflow_server_command(root, port)
    url = f"http://127.0.0.1:{port}"
    quiet = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}  # no job runner beside it
    with running(command, f"{url}/health", env=quiet, cwd=root, timeout=180):
        yield {"url": url, "artifacts": root / "artifacts"}


def angler(
    project: Path, server: dict, *args: str, register: str = "1"
) -> subprocess.CompletedProcess:
    """`angler ARGS` against the server, registering as the trusted promotion job does."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": server["url"], "ANGLER_REGISTER": register}
    return subprocess.run(
        [ANGLER, *args], cwd=project, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def served_project(demo_run, mlflow_server, tmp_path_factory) -> Path:
    """train -> evaluate -> export of the demo run's shards, logged to the server."""
    project = tmp_path_factory.mktemp("served-project")
    shutil.copytree(demo_run / "data" / "shards", project / "data" / "shards")
    (project / "reports").mkdir()
    shutil.copy(demo_run / "reports" / "validate.json", project / "reports")
    shutil.copytree(REPO_ROOT / "k8s", project / "k8s")
    # One epoch and few hash buckets: a model of 1 MB, not 130, to upload through HTTP.
    small = {"train.epochs": 1, "model.ngram_buckets": 4096}
    write_params(project / "params.yaml", **{**SMALL_DEMO, **small})
    pipeline = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    for stage in ("train", "evaluate", "export"):
        done = angler(project, mlflow_server, *pipeline[stage]["cmd"].split()[1:])  # dvc.yaml's
        assert done.returncode == 0, done.stderr[-4000:]
    return project


def files(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_the_model_stages_log_and_register_through_the_server(served_project, mlflow_server):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server["url"], registry_uri=mlflow_server["url"])
    description = json.loads((served_project / "models" / "angler" / "model.json").read_text())
    run = client.get_run(client.get_model_version("angler", str(description["version"])).run_id)
    assert run.info.status == "FINISHED"
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")  # proxied by the server
    assert {"train_urls", "network_val_auc", "test.roc_auc"} <= set(run.data.metrics)
    logged = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"model.json", "plots", "data_checks", "tf_serving"} <= logged
    version = client.get_model_version("angler", str(description["version"]))
    assert version.run_id == run.info.run_id
    assert list(mlflow_server["artifacts"].rglob("saved_model.pb"))  # on the server's side
    assert not (served_project / "mlruns").exists()
    assert not (served_project / "mlflow.db").exists()


def test_without_angler_register_export_leaves_the_servers_registry_alone(
    served_project, mlflow_server
):
    """A researcher's `dvc repro` pointed at the team's server: the run is logged, no
    version is registered, the store's folder is 0, and `angler promote` refuses it."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_server["url"], registry_uri=mlflow_server["url"])
    before = len(client.search_model_versions("name = 'angler'"))
    export = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]["export"]["cmd"]
    out = ["--out", "models/unregistered", "--report", "reports/unregistered.json"]
    done = angler(served_project, mlflow_server, *export.split()[1:], *out, register="")
    assert done.returncode == 0, done.stderr[-4000:]
    assert "not registered in the tracking server (ANGLER_REGISTER=1 registers)" in done.stderr
    assert len(client.search_model_versions("name = 'angler'")) == before
    description = json.loads((served_project / "models/unregistered/model.json").read_text())
    assert (description["version"], description["model_uri"]) == (0, None)
    assert (served_project / "models" / "unregistered" / "0" / "saved_model.pb").is_file()
    promote = ["promote", "--env", "staging", "--local-only", "--model", "models/unregistered"]
    refused = angler(served_project, mlflow_server, *promote, "--store", "unregistered-store")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "the model is not registered (version 0); export it again with " in refused.stderr
    assert not (served_project / "unregistered-store").exists()


def test_promote_champion_and_reconcile_against_the_server(served_project, mlflow_server):
    from mlflow import MlflowClient

    project, store = served_project, served_project / "store"
    description = json.loads((project / "models" / "angler" / "model.json").read_text())
    promoted = angler(
        project, mlflow_server, "promote", "--env", "staging", "--local-only", "--store", str(store)
    )
    assert promoted.returncode == 0, promoted.stderr
    champion = angler(project, mlflow_server, "champion", "--env", "staging")
    assert champion.returncode == 0, champion.stderr
    assert champion.stdout.strip().endswith(f"-> {description['version']} (staging)")
    in_sync = angler(project, mlflow_server, "reconcile", "--env", "staging")
    assert in_sync.returncode == 0, in_sync.stderr
    assert in_sync.stdout.startswith("in sync")

    # The alias moved by hand, to a copy of the version registered under a new number.
    client = MlflowClient(tracking_uri=mlflow_server["url"], registry_uri=mlflow_server["url"])
    first = client.get_model_version("angler", str(description["version"]))
    moved = client.create_model_version("angler", f"models:/angler/{first.version}").version
    client.set_registered_model_alias("angler", "champion", moved)
    before = files(project / "k8s"), files(store)
    report = project / "drift.md"
    drift = angler(project, mlflow_server, "reconcile", "--env", "staging", "--report", str(report))
    assert drift.returncode == 1, drift.stderr
    assert f"champion is version {moved}, staging pins {description['version']}" in (
        report.read_text()
    )
    assert first.run_id in report.read_text()
    assert (files(project / "k8s"), files(store)) == before
