"""Evaluate: metrics that do not flatter the model, per slice and per source feed.

Phishing is the majority class in the feeds but rare in real traffic, so next to ROC and PR
AUC the headline numbers are the true-positive rate at a fixed low false-positive rate.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from angler.params import EvaluateParams

FPR_TARGETS = {"1pct": 0.01, "0_1pct": 0.001}


def evaluation_slices(test: pd.DataFrame, temporal: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The domain-disjoint test split, and the temporal slice: the newest months' new
    domains scored against test's benign URLs (dated feeds are mostly phishing only)."""
    if not temporal["label"].eq(1).any():
        return {"test": test, "temporal": temporal.iloc[0:0]}
    return {"test": test, "temporal": pd.concat([temporal, test[test["label"] == 0]])}


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, max_fpr: float) -> tuple[float, float]:
    """Highest TPR whose FPR is at most `max_fpr`, and the score threshold that gives it."""
    fpr, tpr, thresholds = roc_curve(labels, scores)
    allowed = np.flatnonzero(fpr <= max_fpr)
    best = allowed[np.argmax(tpr[allowed])]
    return float(tpr[best]), float(min(thresholds[best], 1.0))


def slice_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float | int]:
    metrics: dict[str, float | int] = {
        "n": int(len(labels)),
        "phishing": int(labels.sum()),
        "benign": int(len(labels) - labels.sum()),
    }
    if metrics["phishing"] == 0 or metrics["benign"] == 0:
        return metrics
    metrics["roc_auc"] = float(roc_auc_score(labels, scores))
    metrics["pr_auc"] = float(average_precision_score(labels, scores))
    for name, target in FPR_TARGETS.items():
        metrics[f"tpr_at_fpr_{name}"], metrics[f"threshold_at_fpr_{name}"] = tpr_at_fpr(
            labels, scores, target
        )
    metrics["accuracy"] = float(((scores >= 0.5) == labels).mean())
    return metrics


def source_metrics(frame: pd.DataFrame, threshold: float) -> dict[str, dict]:
    """Per feed: its share caught (phishing feeds) or wrongly flagged (benign lists) at the
    slice's 1%-FPR threshold, and the ROC AUC of its URLs against the other class."""
    benign = frame[frame["label"] == 0]["score"].to_numpy()
    phishing = frame[frame["label"] == 1]["score"].to_numpy()
    result = {}
    for source, rows in frame.groupby("source"):
        label = int(rows["label"].iloc[0])
        flagged = float((rows["score"] >= threshold).mean())
        others = benign if label == 1 else phishing
        entry = {"n": len(rows), "label": label}
        entry["tpr_at_threshold" if label == 1 else "fpr_at_threshold"] = flagged
        if len(others):
            both = np.concatenate([rows["score"].to_numpy(), others])
            truth = np.concatenate([np.full(len(rows), label), np.full(len(others), 1 - label)])
            entry["roc_auc"] = float(roc_auc_score(truth, both))
        result[str(source)] = entry
    return result


def evaluate_slices(scored: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """metrics/evaluate.json: one entry per slice, with its per-source breakdown."""
    result = {}
    for name, frame in scored.items():
        labels = frame["label"].to_numpy(dtype=int)
        metrics = slice_metrics(labels, frame["score"].to_numpy())
        if "threshold_at_fpr_1pct" in metrics:
            metrics["by_source"] = source_metrics(frame, metrics["threshold_at_fpr_1pct"])
        result[name] = metrics
    return result


def write_plots(
    scored: dict[str, pd.DataFrame], metrics: dict, out: Path, params: EvaluateParams
) -> None:
    """DVC plot data per slice: ROC and PR curves, confusion rows, score histogram.
    A slice without both classes gets empty files, so the set of files is always the same."""
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in scored.items():
        if "roc_auc" not in metrics[name]:
            frame = frame.iloc[0:0]
        labels, scores = frame["label"].to_numpy(dtype=int), frame["score"].to_numpy()
        _write_json(out / f"roc_{name}.json", roc_points(labels, scores, params.curve_points))
        _write_json(out / f"pr_{name}.json", pr_points(labels, scores, params.curve_points))
        _write_json(out / f"scores_{name}.json", histogram(labels, scores, params.histogram_bins))
        threshold = metrics[name].get("threshold_at_fpr_1pct", 0.5)
        pd.DataFrame(
            {
                "actual": np.where(labels == 1, "phishing", "benign"),
                "predicted": np.where(scores >= threshold, "phishing", "benign"),
            }
        ).to_csv(out / f"confusion_{name}.csv", index=False)


def roc_points(labels: np.ndarray, scores: np.ndarray, points: int) -> list[dict]:
    """TPR on a log-spaced FPR grid, so the low-FPR end that matters stays visible."""
    if not len(labels):
        return []
    fpr, tpr, _ = roc_curve(labels, scores)
    grid = np.unique(np.concatenate([[0.0], np.logspace(-4, 0, points - 1)]))
    return [
        {"fpr": float(f), "tpr": float(t)}
        for f, t in zip(grid, np.interp(grid, fpr, tpr), strict=True)
    ]


def pr_points(labels: np.ndarray, scores: np.ndarray, points: int) -> list[dict]:
    if not len(labels):
        return []
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(labels[order])
    precision = hits / np.arange(1, len(labels) + 1)
    recall = hits / max(labels.sum(), 1)
    keep = np.unique(np.linspace(0, len(labels) - 1, points).astype(int))
    return [{"recall": float(recall[i]), "precision": float(precision[i])} for i in keep]


def histogram(labels: np.ndarray, scores: np.ndarray, bins: int) -> list[dict]:
    edges = np.linspace(0, 1, bins + 1)
    phishing, _ = np.histogram(scores[labels == 1], edges)
    benign, _ = np.histogram(scores[labels == 0], edges)
    centers = (edges[:-1] + edges[1:]) / 2
    return [
        {"score": round(float(c), 4), "phishing": int(p), "benign": int(b)}
        for c, p, b in zip(centers, phishing, benign, strict=True)
    ]


def _write_json(path: Path, rows: list[dict]) -> None:
    path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
