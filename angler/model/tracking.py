"""MLflow: one run per pipeline run, started by `train` and continued by `evaluate` and
`export`, which find its id in the train report.

The tracking URI is MLflow's own setting: `MLFLOW_TRACKING_URI` points at a server;
without it runs go to a SQLite store in the project (`sqlite:///mlflow.db`) with artifacts
under `mlruns/`.

Registering: `export` registers each model it exports in a SQLite store (your own registry,
which `angler promote` reads); in a shared tracking server only when `ANGLER_REGISTER=1`,
which the trusted promotion job sets, so exploration on a laptop pointed at the team's
server leaves its registry alone. Runs are named `<branch>@<commit>`.

An unreachable server fails within about a minute, not MLflow's eight: unless set, MLflow's
`MLFLOW_HTTP_REQUEST_MAX_RETRIES`, `_BACKOFF_FACTOR` and `_TIMEOUT` get the values of
BOUNDED_RETRIES. Each run is tagged with its host and process id; a run whose process died
(kill -9, a lost node) and still says RUNNING is marked KILLED by the next run on that host.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import socket
import subprocess
from pathlib import Path

import mlflow
import yaml

from angler.errors import AnglerError
from angler.params import Params
from angler.reports import flatten

log = logging.getLogger(__name__)

EXPERIMENT = "angler"
REGISTERED_MODEL = "angler"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_ARTIFACT_ROOT = "mlruns"
# 1 + 3 tries, 1-2-4 s apart, 15 s each at most: about a minute against a silent host.
BOUNDED_RETRIES = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}
HOST_TAG, PID_TAG = "angler.host", "angler.pid"
MODEL_TAG = "angler.model_sha256"  # the trained model file: how later stages find the run
REGISTER = "ANGLER_REGISTER"
BRANCH_VARIABLES = ("ANGLER_BRANCH", "GITHUB_HEAD_REF", "GITHUB_REF_NAME")  # first one set wins


def configure() -> str:
    """Point MLflow at the configured server or the local store; return the tracking URI."""
    for name, value in BOUNDED_RETRIES.items():
        os.environ.setdefault(name, value)
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        mlflow.create_experiment(EXPERIMENT, artifact_location=local_artifact_root(uri))
    mlflow.set_experiment(EXPERIMENT)
    return uri


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI  # CI sets it empty


def registers(uri: str) -> bool:
    """Whether `export` registers its model: `ANGLER_REGISTER` (1 or 0) says, else only
    into a SQLite store."""
    setting = os.environ.get(REGISTER, "").strip().lower()
    if setting in ("1", "true"):
        return True
    if setting in ("0", "false"):
        return False
    if setting:
        raise AnglerError(f"{REGISTER}={setting!r}: use 1 to register, 0 not to")
    return uri.startswith("sqlite:")


def run_name() -> str | None:
    """`<branch>@<short commit>`: the branch a retraining run will keep (`ANGLER_BRANCH`, set
    by the Airflow DAG) or the PR's head branch in GitHub Actions (both check out a detached
    commit), else the checked-out branch; None outside git."""
    commit = _git("rev-parse", "--short", "HEAD")
    if not commit:
        return None
    branch = next((os.environ[name] for name in BRANCH_VARIABLES if os.environ.get(name)), None)
    return f"{branch or _git('branch', '--show-current') or 'detached'}@{commit}"


def local_artifact_root(uri: str) -> str | None:
    """For a SQLite store, artifacts go to `mlruns/` beside the database file; a server
    chooses its own artifact store."""
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri.removeprefix("sqlite:///"))
    return (database.resolve().parent / DEFAULT_ARTIFACT_ROOT).as_uri()


def start_run() -> mlflow.ActiveRun:
    """A new run for this pipeline run, tagged with the code and data versions."""
    configure()
    end_abandoned_runs()
    run = mlflow.start_run(run_name=run_name())
    mlflow.set_tags(code_and_data_tags() | process_tags())
    return run


def process_tags() -> dict[str, str]:
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def end_abandoned_runs() -> list[str]:
    """Mark KILLED the RUNNING runs of this host whose process is gone; return their ids."""
    client = mlflow.MlflowClient()
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    running = client.search_runs(
        [experiment.experiment_id], filter_string="attributes.status = 'RUNNING'"
    )
    ended = []
    for run in running:
        tags = run.data.tags
        if tags.get(HOST_TAG) == socket.gethostname() and not _alive(tags.get(PID_TAG, "")):
            client.set_terminated(run.info.run_id, status="KILLED")
            ended.append(run.info.run_id)
    if ended:
        log.warning("marked %d run(s) KILLED whose process died: %s", len(ended), ", ".join(ended))
    return ended


def _alive(pid: str) -> bool:
    if not pid.isascii() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def resume_run(train_report: Path) -> mlflow.ActiveRun:
    """The pipeline run's MLflow run, found by the model digest the train report holds, or
    a new one when this store does not know it (outputs restored from the DVC cache on
    another machine)."""
    digest = json.loads(train_report.read_text(encoding="utf-8")).get("model_sha256")
    configure()
    run_id = find_run(digest) if digest else None
    if run_id:
        run = mlflow.start_run(run_id=run_id)
        mlflow.set_tags(process_tags())
        return run
    log.warning("no MLflow run in this store trained model %s; starting a new one", digest)
    run = mlflow.start_run(run_name=run_name())
    tags = {**code_and_data_tags(), **process_tags(), MODEL_TAG: digest or ""}
    mlflow.set_tags(tags | {"angler.resumed_from": "dvc cache"})
    return run


def find_run(model_sha256: str) -> str | None:
    """The newest run of the experiment that trained the model with this digest."""
    experiment = mlflow.get_experiment_by_name(EXPERIMENT)
    if experiment is None or not re.fullmatch(r"[0-9a-f]{64}", model_sha256):
        return None
    runs = mlflow.MlflowClient().search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`{MODEL_TAG}` = '{model_sha256}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0].info.run_id if runs else None


def tag_model(model: Path) -> str:
    """Tag the active run with the SHA-256 of the model file it wrote; return it."""
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    mlflow.set_tag(MODEL_TAG, digest)
    return digest


def log_timings(timings: dict) -> None:
    """Wall times: in MLflow, never in an output DVC tracks (they differ every run)."""
    for step, seconds in enumerate(timings["epoch_seconds"], 1):
        mlflow.log_metric("epoch_seconds", seconds, step=step)
    mlflow.log_metrics({k: v for k, v in timings.items() if k != "epoch_seconds"})


def log_training_inputs(params: Params, gate: Path, train_urls: int) -> None:
    """The typed params, the data-check report and the training set size."""
    mlflow.log_params(mlflow_params(dataclasses.asdict(params)))
    mlflow.log_metrics({"data_checks_passed": 1.0, "train_urls": train_urls})
    mlflow.log_artifact(str(gate), "data_checks")


def log_epoch(epoch: int, logs: dict) -> None:
    mlflow.log_metrics(logs, step=epoch)


def log_validation(train_result: dict) -> None:
    """The validation AUCs of the network and of the served average, when there is one."""
    mlflow.log_metrics(
        {k: train_result[k] for k in ("network_val_auc", "served_val_auc") if k in train_result}
    )


def log_export(version_folder: Path, description: dict) -> None:
    """The TF Serving folder and its model.json, beside the registered model."""
    mlflow.log_artifacts(str(version_folder), f"tf_serving/{description['version']}")
    mlflow.log_dict(description, "model.json")


def code_and_data_tags(lock: Path = Path("dvc.lock")) -> dict[str, str]:
    """The git commit and the DVC hashes of the data outputs the model came from."""
    tags = {}
    commit = _git("rev-parse", "HEAD")
    if commit:
        tags["mlflow.source.git.commit"] = commit
        tags["angler.git.dirty"] = str(bool(_git("status", "--porcelain")))
    return tags | data_tags(lock)


def data_tags(lock: Path = Path("dvc.lock")) -> dict[str, str]:
    """The DVC hashes of the data outputs in dvc.lock."""
    tags = {}
    if lock.exists():
        stages = yaml.safe_load(lock.read_text(encoding="utf-8")).get("stages", {})
        for stage in stages.values():
            for out in stage.get("outs", []):
                if out["path"].startswith("data/") and "md5" in out:
                    tags[f"dvc.{out['path']}"] = out["md5"]
    return tags


def mlflow_params(params: dict) -> dict[str, str]:
    """The params as MLflow params: `section.key` -> value, within MLflow's length limit."""
    return {name: str(value)[:6000] for name, value in flatten(params).items()}


def _git(*args: str) -> str:
    try:
        result = subprocess.run(["git", *args], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return result.stdout.strip()
