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


def served_traffic_sample() -> dict:
    """A shadow run's section: a week of 1,000 served URLs (angler/review/shadow.py)."""
    site = {"site": "shop.blogspot.com", "urls": 3, "allow_listed": False}
    return {
        "status": "compared",
        "files": 7,
        "rows": 1000,
        "unusable": 0,
        "period": ["2026-11-29 00:00:00+00:00", "2026-12-06 00:00:00+00:00"],
        "urls": 1000,
        "thresholds": {"served": 0.5, "candidate": 0.6},
        "flagged": {"served": 40, "candidate": 47},
        "flag_rate": {
            "served": 0.04,
            "candidate": 0.047,
            "change": 0.007,
            "low": 0.001,
            "high": 0.013,
            "confidence": 0.95,
        },
        "agreement": 0.989,
        "newly_flagged": {
            "urls": 9,
            "sites": 7,
            "allow_listed_sites": 2,
            "top": [site, {"site": "bank.example", "urls": 1, "allow_listed": True}],
        },
        "newly_cleared": {
            "urls": 2,
            "sites": 1,
            "top": [{"site": "a.com", "urls": 2, "allow_listed": False}],
        },
        "by_kind": [{"kind": "platform blogspot.com", "urls": 30, "served": 0.0, "candidate": 0.1}],
    }
