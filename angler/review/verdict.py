"""Champion/challenger: should the candidate model replace the one on main?

Both models score the same test URLs, so their difference is measured on paired data: a
stratified bootstrap resamples the URLs (phishing and benign separately, keeping the class
counts) and recomputes each metric for both models on every resample. The verdict reads the
confidence intervals of the differences:

- reject:  the data gate failed, the candidate is under a floor of `promote:`, or it is
           worse than the champion beyond the margin on some metric with confidence;
- promote: no worse than the champion within the margins, and better on some metric with
           confidence; the first model (no champion) must clear the floors;
- hold:    anything else. Equal models hold: retraining alone is not a reason to deploy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from sklearn.metrics import auc, roc_curve

from angler.params import PromoteParams

TPR_AT_FPR = 0.01
COMPARED = {"roc_auc": "ROC AUC", "tpr_at_fpr_1pct": "TPR at 1% FPR"}
DECISIONS = ("promote", "hold", "reject")


@dataclass(frozen=True)
class Comparison:
    candidate: float
    champion: float
    delta: float  # candidate - champion on the full test slice
    low: float  # confidence interval of the delta over the bootstrap resamples
    high: float


@dataclass
class Verdict:
    decision: str
    reasons: list[str]
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    caveats: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def curve_metrics(labels: np.ndarray, scores: np.ndarray, weights=None) -> dict[str, float]:
    """ROC AUC and the best TPR at FPR <= 1%, from one ROC curve."""
    fpr, tpr, _ = roc_curve(labels, scores, sample_weight=weights)
    return {
        "roc_auc": float(auc(fpr, tpr)),
        "tpr_at_fpr_1pct": float(tpr[fpr <= TPR_AT_FPR].max()),
    }


def paired_bootstrap(
    labels: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray,
    samples: int,
    confidence: float,
    seed: int,
) -> dict[str, Comparison]:
    """Confidence intervals of candidate - champion for each compared metric."""
    rng = np.random.default_rng(seed)
    classes = [np.flatnonzero(labels == value) for value in (0, 1)]
    deltas = {name: np.empty(samples) for name in COMPARED}
    for i in range(samples):
        # A resample as integer weights on the original URLs (how often each was drawn).
        drawn = np.concatenate([rng.choice(members, size=len(members)) for members in classes])
        weights = np.bincount(drawn, minlength=len(labels))
        ours = curve_metrics(labels, candidate, weights)
        theirs = curve_metrics(labels, champion, weights)
        for name in COMPARED:
            deltas[name][i] = ours[name] - theirs[name]
    full_candidate = curve_metrics(labels, candidate)
    full_champion = curve_metrics(labels, champion)
    tail = (1 - confidence) / 2 * 100
    return {
        name: Comparison(
            candidate=full_candidate[name],
            champion=full_champion[name],
            delta=full_candidate[name] - full_champion[name],
            low=float(np.percentile(deltas[name], tail)),
            high=float(np.percentile(deltas[name], 100 - tail)),
        )
        for name in COMPARED
    }


def floor_failures(metrics: dict[str, float], params: PromoteParams) -> list[str]:
    floors = {"roc_auc": params.min_roc_auc, "tpr_at_fpr_1pct": params.min_tpr_at_fpr_1pct}
    return [
        f"{COMPARED[name]} {metrics[name]:.4f} is under the floor {floor:g} (promote.min_{name})"
        for name, floor in floors.items()
        if metrics[name] < floor
    ]


def decide(
    candidate: dict[str, float],
    comparisons: dict[str, Comparison] | None,
    params: PromoteParams,
) -> Verdict:
    """The verdict for a candidate whose pipeline ran and passed the data gate.

    `candidate` holds its test-slice metrics; `comparisons` is None when main has no model.
    """
    failures = floor_failures(candidate, params)
    if failures:
        return Verdict("reject", failures, comparisons or {})
    if comparisons is None:
        return Verdict(
            "promote", ["first model: no champion on the base branch; it clears the floors"]
        )
    margins = {"roc_auc": params.max_roc_auc_loss, "tpr_at_fpr_1pct": params.max_tpr_loss}
    level = f"{params.confidence:.0%}"
    worse = [
        f"{COMPARED[name]} is worse than the champion by more than {margins[name]:g} "
        f"({level} interval of the difference {c.low:+.4f} to {c.high:+.4f})"
        for name, c in comparisons.items()
        if c.high < -margins[name]
    ]
    if worse:
        return Verdict("reject", worse, comparisons)
    inferior = [
        f"{COMPARED[name]} may be worse than the champion by more than {margins[name]:g} "
        f"(interval reaches {c.low:+.4f})"
        for name, c in comparisons.items()
        if c.low < -margins[name]
    ]
    better = [
        f"{COMPARED[name]} is better than the champion ({level} interval "
        f"{c.low:+.4f} to {c.high:+.4f})"
        for name, c in comparisons.items()
        if c.low > 0
    ]
    if better and not inferior:
        return Verdict("promote", better, comparisons)
    if not better:
        inferior.append(f"no metric is better than the champion with {level} confidence")
    return Verdict("hold", inferior, comparisons)
