"""The wall times of a train run, from MLflow: the train report holds none (they differ from
run to run, and the report is a DVC output that must not)."""

from __future__ import annotations

import mlflow

from angler.model import tracking


def train_timings(tracking_uri: str, train_report: dict) -> dict:
    """epoch_seconds, train_seconds and train_urls_per_second of the run that trained the
    model the report names (its `model_sha256`)."""
    mlflow.set_tracking_uri(tracking_uri)
    run_id = tracking.find_run(train_report["model_sha256"])
    if run_id is None:
        raise SystemExit(f"no run in {tracking_uri} trained model {train_report['model_sha256']}")
    client = mlflow.MlflowClient(tracking_uri)
    epochs = client.get_metric_history(run_id, "epoch_seconds")
    metrics = client.get_run(run_id).data.metrics
    return {
        "epoch_seconds": [m.value for m in sorted(epochs, key=lambda m: m.step)],
        "train_seconds": metrics["train_seconds"],
        "train_urls_per_second": int(metrics["train_urls_per_second"]),
    }
