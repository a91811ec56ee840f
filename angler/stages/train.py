"""`angler train`: featurize shards -> a trained Keras model, logged to a new MLflow run."""

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from angler.errors import AnglerError
from angler.stages.options import ParamsOption, ReportOption, ShardsOption

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
    import mlflow
    import yaml
    from sklearn.metrics import roc_auc_score

    from angler import tracking
    from angler.model import with_tfidf_logit
    from angler.params import load_params
    from angler.reports import write_report
    from angler.training import fit_tfidf_logit, predict, read_shards, train_model

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
        mlflow.log_params(tracking.mlflow_params(yaml.safe_load(params_path.read_text())))
        mlflow.log_metrics({"data_checks_passed": 1.0, "train_urls": len(train)})
        mlflow.log_artifact(str(gate), "data_checks")
        trained, history = train_model(
            params.model,
            params.train,
            params.base.seed,
            train,
            validation,
            on_epoch_end=lambda epoch, logs: mlflow.log_metrics(logs, step=epoch),
        )
        best = max(range(len(history["val_auc"])), key=history["val_auc"].__getitem__)
        tfidf = {}
        if params.model.tfidf_c:
            tfidf_layer = fit_tfidf_logit(train, params.model.ngram_buckets, params.model.tfidf_c)
            labels = validation["label"].to_numpy()
            tfidf["network_val_auc"] = roc_auc_score(labels, predict(trained, validation["url"]))
            trained = with_tfidf_logit(trained, tfidf_layer)
            tfidf["served_val_auc"] = roc_auc_score(labels, predict(trained, validation["url"]))
            log.info(
                "validation ROC AUC: network %.4f, averaged with TF-IDF %.4f",
                tfidf["network_val_auc"],
                tfidf["served_val_auc"],
            )
            mlflow.log_metrics(tfidf)
        model.parent.mkdir(parents=True, exist_ok=True)
        trained.save(model)
        result = {
            "mlflow_run_id": run.info.run_id,
            "train_urls": len(train),
            "validation_urls": len(validation),
            "epochs_run": len(history["loss"]),
            "best_epoch": best + 1,
            "best_val_auc": history["val_auc"][best],
            "train_seconds": round(sum(history["epoch_seconds"]), 1),
            "train_urls_per_second": round(
                len(train) * len(history["epoch_seconds"]) / sum(history["epoch_seconds"])
            ),
            "history": history,
            **tfidf,
        }
        write_report(report, "train", result)
