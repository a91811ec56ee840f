"""Evaluate: metrics that do not flatter the model, per slice and per source feed.

Phishing is the majority class in the feeds but rare in real traffic, so next to ROC and PR
AUC the headline numbers are the true-positive rate at a fixed low false-positive rate, and
the rates at the operating threshold: chosen on the validation split for `evaluate.target_fpr`,
never on test, and reported per source with the worst benign source first.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from angler.data.urls import UrlError, parse_url
from angler.errors import AnglerError
from angler.params import EvaluateParams

FPR_TARGETS = {"1pct": 0.01, "0_1pct": 0.001}
PLOTTED_SLICES = ("test", "temporal")


def evaluation_slices(
    test: pd.DataFrame, temporal: pd.DataFrame, source_slices: dict[str, tuple[str, ...]]
) -> dict[str, pd.DataFrame]:
    """The domain-disjoint test split; the temporal slice: the domains first seen in each
    dated source's newest months, both classes (where no benign source is dated, its
    phishing is scored against test's benign URLs instead); and each of
    `evaluate.source_slices`: the test URLs of those sources alone."""
    if not temporal["label"].eq(1).any():
        temporal = temporal.iloc[0:0]
    elif not temporal["label"].eq(0).any():
        temporal = pd.concat([temporal, test[test["label"] == 0]])
    slices = {"test": test, "temporal": temporal}
    for name, sources in source_slices.items():
        slices[name] = test[test["source"].isin(sources)]
    return slices


def tpr_at_fpr(labels: np.ndarray, scores: np.ndarray, max_fpr: float) -> tuple[float, float]:
    """Highest TPR whose FPR is at most `max_fpr`, and the score threshold that gives it."""
    fpr, tpr, thresholds = roc_curve(labels, scores)
    allowed = np.flatnonzero(fpr <= max_fpr)
    best = allowed[np.argmax(tpr[allowed])]
    return float(tpr[best]), float(min(thresholds[best], 1.0))


def operating_threshold(
    labels: np.ndarray, scores: np.ndarray, target_fpr: float, weights: np.ndarray | None = None
) -> float:
    """The lowest threshold at which at most `target_fpr` of these benign URLs (of their
    total weight, if weighted) score at or above it (`score >= threshold` means phishing):
    the most phishing caught for that FPR. It is a float32 value, like the model's scores,
    so that a float32 comparison (numpy's, TF Serving's) does not round it back onto the
    tied score below it."""
    benign = labels == 0
    weight = np.ones(int(benign.sum())) if weights is None else np.asarray(weights)[benign]
    benign_scores = np.asarray(scores, dtype=np.float32)[benign]
    order = np.argsort(-benign_scores, kind="stable")
    ranked = benign_scores[order]
    flagged_weight = np.cumsum(weight[order])  # of the top 1, 2, ... benign URLs
    # the benign URLs that may be flagged; the tolerance keeps 0.01 * 100 from being 0.99..
    allowed = int(np.searchsorted(flagged_weight, target_fpr * weight.sum() * (1 + 1e-9), "right"))
    if allowed >= len(ranked):
        return 0.0
    return float(np.nextafter(ranked[allowed], np.float32(np.inf)))


def domain_weights(urls: pd.Series) -> np.ndarray:
    """1 / (URLs of its registered domain) for each URL: every domain weighs the same."""
    domains = urls.map(_registered_domain)
    return 1.0 / domains.map(domains.value_counts()).to_numpy(dtype=float)


def _registered_domain(url: str) -> str:
    try:
        return parse_url(url).registered_domain
    except UrlError:
        return url


def operating_point(validation: pd.DataFrame, params: EvaluateParams) -> dict[str, float | int]:
    """The operating threshold, chosen on the scored validation split for
    `evaluate.target_fpr` counted per `evaluate.fpr_unit`, and its rates there."""
    labels = validation["label"].to_numpy(dtype=int)
    scores = validation["score"].to_numpy()
    if labels.min(initial=1) == 1 or labels.max(initial=0) == 0:
        raise AnglerError("the validation split needs both classes to choose a threshold")
    weights = domain_weights(validation["url"]) if params.fpr_unit == "domain" else None
    threshold = operating_threshold(labels, scores, params.target_fpr, weights)
    flagged = scores >= threshold
    result = {
        "threshold": threshold,
        "target_fpr": params.target_fpr,
        "fpr_unit": params.fpr_unit,
        "validation_fpr": float(flagged[labels == 0].mean()),
        "validation_tpr": float(flagged[labels == 1].mean()),
        "validation_urls": int(len(labels)),
    }
    if weights is not None:
        benign = labels == 0
        result["validation_domain_fpr"] = float(
            weights[benign][flagged[benign]].sum() / weights[benign].sum()
        )
    return result


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
    """Per feed at the operating threshold: the share of a benign list wrongly flagged
    (`fpr_at_operating`) or of a phishing feed caught (`tpr_at_operating`), and the ROC AUC
    of its URLs against the other class."""
    benign = frame[frame["label"] == 0]["score"].to_numpy()
    phishing = frame[frame["label"] == 1]["score"].to_numpy()
    result = {}
    for source, rows in frame.groupby("source"):
        label = int(rows["label"].iloc[0])
        flagged = float((rows["score"] >= threshold).mean())
        others = benign if label == 1 else phishing
        entry = {"n": len(rows), "label": label}
        entry["tpr_at_operating" if label == 1 else "fpr_at_operating"] = flagged
        if len(others):
            both = np.concatenate([rows["score"].to_numpy(), others])
            truth = np.concatenate([np.full(len(rows), label), np.full(len(others), 1 - label)])
            entry["roc_auc"] = float(roc_auc_score(truth, both))
        result[str(source)] = entry
    return result


def operating_metrics(frame: pd.DataFrame, threshold: float) -> dict:
    """The slice's rates at the operating threshold, per source, and its worst sources:
    the benign list flagged most and the phishing feed caught least."""
    labels = frame["label"].to_numpy(dtype=int)
    flagged = frame["score"].to_numpy() >= threshold
    by_source = source_metrics(frame, threshold)
    benign = {name: e["fpr_at_operating"] for name, e in by_source.items() if e["label"] == 0}
    phishing = {name: e["tpr_at_operating"] for name, e in by_source.items() if e["label"] == 1}
    result: dict = {
        "fpr_at_operating": float(flagged[labels == 0].mean()) if benign else None,
        "tpr_at_operating": float(flagged[labels == 1].mean()) if phishing else None,
    }
    if benign:
        worst = max(sorted(benign), key=benign.__getitem__)
        result |= {"worst_benign_source": worst, "worst_benign_fpr": benign[worst]}
    if phishing:
        worst = min(sorted(phishing), key=phishing.__getitem__)
        result |= {"worst_phishing_source": worst, "worst_phishing_tpr": phishing[worst]}
    return {k: v for k, v in result.items() if v is not None} | {"by_source": by_source}


def evaluate_slices(scored: dict[str, pd.DataFrame], operating: dict) -> dict[str, dict]:
    """metrics/evaluate.json: the operating point, then one entry per slice with its
    metrics, its rates at the operating threshold and its per-source breakdown."""
    result: dict[str, dict] = {"operating_point": operating}
    for name, frame in scored.items():
        labels = frame["label"].to_numpy(dtype=int)
        metrics = slice_metrics(labels, frame["score"].to_numpy())
        if len(frame):
            metrics |= operating_metrics(frame, operating["threshold"])
        result[name] = metrics
    return result


def write_plots(
    scored: dict[str, pd.DataFrame], metrics: dict, out: Path, params: EvaluateParams
) -> None:
    """DVC plot data of the test and temporal slices (dvc.yaml names their files): ROC and
    PR curves, confusion rows, score histogram. A slice without both classes gets empty
    files, so the set of files is always the same."""
    out.mkdir(parents=True, exist_ok=True)
    for name in PLOTTED_SLICES:
        frame = scored[name]
        if "roc_auc" not in metrics[name]:
            frame = frame.iloc[0:0]
        labels, scores = frame["label"].to_numpy(dtype=int), frame["score"].to_numpy()
        _write_json(out / f"roc_{name}.json", roc_points(labels, scores, params.curve_points))
        _write_json(out / f"pr_{name}.json", pr_points(labels, scores, params.curve_points))
        _write_json(out / f"scores_{name}.json", histogram(labels, scores, params.histogram_bins))
        threshold = metrics["operating_point"]["threshold"]
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
