"""Run the data stages in-process, with the same paths as dvc.yaml under one folder."""

from __future__ import annotations

from pathlib import Path

from angler.stages import featurize, ingest, label, split, validate


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
