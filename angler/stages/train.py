"""`angler train`: featurize shards -> a trained Keras model, logged to a new MLflow run."""

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from angler.errors import AnglerError
from angler.options import ParamsOption, ReportOption, ShardsOption

log = logging.getLogger(__name__)


def main(
    shards: ShardsOption,
    gate: Annotated[Path, typer.Option(help="The validate stage's report (must have passed).")],
    model: Annotated[Path, typer.Option(help="Where to save the Keras model (.keras).")],
    report: ReportOption,
    params_path: ParamsOption = Path("params.yaml"),
) -> None:
    """Train the URL model on the train split; early stopping on validation AUC.

    Starts the pipeline run's MLflow run: params, per-epoch metrics, the data-check
    summary, the git commit and the DVC data hashes.
    """
    from angler.model import tracking
    from angler.model.training import read_shards, save_model, train_served_model
    from angler.params import load_params
    from angler.reports import write_report

    params = load_params(params_path)
    checks = json.loads(gate.read_text(encoding="utf-8"))
    if not checks.get("success"):
        raise AnglerError(f"the data checks in {gate} failed; fix the data before training")
    train = read_shards(shards, "train", params.train.max_train_rows)
    validation = read_shards(shards, "validation")
    if train["label"].nunique() < 2 or validation["label"].nunique() < 2:
        raise AnglerError("train and validation splits each need phishing and benign URLs")
    log.info("training on %d URLs, validating on %d", len(train), len(validation))

    with tracking.start_run() as run:
        tracking.log_training_inputs(params, gate, len(train))
        trained, result, timings = train_served_model(
            params.model,
            params.train,
            params.base.seed,
            train,
            validation,
            on_epoch_end=tracking.log_epoch,
        )
        tracking.log_validation(result)
        tracking.log_timings(timings)
        model.parent.mkdir(parents=True, exist_ok=True)
        save_model(trained, model)
        digest = tracking.tag_model(model)
        # The same data and params give the same report: the run is found by the model's
        # digest, and its id and wall times stay in MLflow.
        write_report(report, "train", {"model_sha256": digest, **result})
        log.info("MLflow run %s", run.info.run_id)
