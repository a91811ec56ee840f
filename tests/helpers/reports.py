"""A small report.json as `angler report` writes it, for renderer and poster tests."""

from __future__ import annotations


def sample_report(**overrides) -> dict:
    base = {
        "pull_request": {
            "base": "abc",
            "base_name": "main",
            "head_name": "feature",
            "number": "7",
            "remote": False,
            "base_sha": "0123456789",
        },
        "data": {"corpus": "demo", "remote": False},
        "params": [{"name": "train.epochs", "old": 4, "new": 3}],
        "stages": [
            {"stage": "train", "state": "reran", "reasons": ["params changed: train.epochs"]}
        ],
        "gate": {"ran": True, "success": True, "checked": 41, "failed": []},
        "completed": True,
        "metrics": {
            "metrics/evaluate.json": {"test.roc_auc": {"old": 0.99, "new": 0.98, "diff": -0.01}}
        },
        "mlflow": {"run_id": "0f1e2d3c"},
        "verdict": {
            "decision": "hold",
            "reasons": ["no metric is better"],
            "comparisons": {},
            "caveats": [],
        },
    }
    return base | overrides
