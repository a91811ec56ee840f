"""Run the pipeline stages in-process, with the same paths as dvc.yaml under one folder."""

from __future__ import annotations

from pathlib import Path

from angler.stages import evaluate, export, featurize, ingest, label, split, train, validate


def run_data_stages(root: Path, params: Path, through: str = "validate") -> Path:
    """ingest -> ... -> `through`, outputs under root/data and root/reports."""
    data, reports = root / "data", root / "reports"
    ingest.main(
        data / "ingested", data / "quarantine" / "ingest.csv", reports / "ingest.json", params
    )
    label.main(data / "ingested", data / "labelled", reports / "label.json")
    split.main(data / "labelled", data / "split", reports / "split.json", params)
    featurize.main(
        data / "split", data / "features", data / "shards", reports / "featurize.json", params
    )
    if through == "validate":
        validate.main(
            data / "labelled",
            data / "features",
            reports / "validate.json",
            reports / "data_docs",
            params,
        )
    return root


def run_model_stages(root: Path, params: Path) -> Path:
    """train -> evaluate -> export on the outputs of run_data_stages."""
    data, reports, models = root / "data", root / "reports", root / "models"
    keras_model = models / "keras" / "angler.keras"
    train.main(
        data / "shards", reports / "validate.json", keras_model, reports / "train.json", params
    )
    evaluate.main(
        keras_model,
        data / "shards",
        reports / "train.json",
        root / "metrics" / "evaluate.json",
        data / "scores",
        root / "plots",
        params,
    )
    export.main(
        keras_model,
        data / "shards",
        reports / "train.json",
        root / "metrics" / "evaluate.json",
        models / "angler",
        reports / "export.json",
        params,
    )
    return root
