"""`angler export`: Keras model -> TF Serving SavedModel, logged and registered in MLflow."""

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from angler.options import (
    KerasModelOption,
    ParamsOption,
    ReportOption,
    ShardsOption,
    TrainReportOption,
)

log = logging.getLogger(__name__)


def main(
    model: KerasModelOption,
    shards: ShardsOption,
    train_report: TrainReportOption,
    metrics: Annotated[Path, typer.Option(help="The evaluate stage's metrics.")],
    out: Annotated[Path, typer.Option(help="Model store: numbered version folders go here.")],
    report: ReportOption,
    params_path: ParamsOption = Path("params.yaml"),
) -> None:
    """Export the SavedModel TF Serving loads and register it in MLflow as `angler`.

    The version folder's number is the MLflow registry version; model.json beside it holds
    the folder's SHA-256, the params, the data version and the metrics. A SQLite store gets
    every model; a tracking server only with ANGLER_REGISTER=1, else the folder is 0.
    """
    from angler.deploy.model_store import directory_digest, publish_atomically
    from angler.model import tracking
    from angler.model.export import (
        SCRATCH_PREFIX,
        describe_version,
        load_serving_module,
        register_serving_model,
        save_serving_model,
    )
    from angler.model.training import read_shards
    from angler.params import load_params
    from angler.reports import write_report

    params = load_params(params_path)
    register = tracking.registers(tracking.tracking_uri())
    evaluation = json.loads(metrics.read_text(encoding="utf-8"))
    module = load_serving_module(model, evaluation["operating_point"]["threshold"])
    warmup = read_shards(shards, "validation", params.export.warmup_requests)["url"].tolist()
    # The one temporary copy sits beside the store and goes on any exit; one left by a
    # killed export (SIGKILL runs no cleanup) goes at the next export's start.
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in out.parent.glob(f"{SCRATCH_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)
    with (
        tracking.resume_run(train_report) as run,
        tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX, dir=out.parent) as scratch,
    ):
        mlflow_model = Path(scratch) / "model"
        saved = save_serving_model(module, mlflow_model, warmup)
        version = register_serving_model(mlflow_model, run.info.run_id, register)
        target = publish_atomically(saved, out, version)
        description = describe_version(version, directory_digest(target), params, evaluation)
        (out / "model.json").write_text(json.dumps(description, indent=2) + "\n")
        tracking.log_export(target, description)
    write_report(report, "export", {k: description[k] for k in ("version", "digest", "model_uri")})
    if not register:
        log.info(
            "exported %s as version 0, not registered in the tracking server (%s=1 registers)",
            description["digest"],
            tracking.REGISTER,
        )
        return
    log.info("exported %s version %d (%s)", description["name"], version, description["digest"])
