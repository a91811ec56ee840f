"""Champion/challenger: should the candidate model replace the one on main?

Both models score the same test URLs, so their difference is measured on paired data: a
stratified bootstrap resamples the URLs (within each class and source, keeping their counts)
and recomputes each metric for both models on every resample: ROC AUC, TPR at 1% FPR and the
false-positive rate of the worst benign source at each model's own operating threshold (the
one production decides with). The verdict reads the confidence intervals of the differences:

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
from angler.review.report_schema import COMPARED

TPR_AT_FPR = 0.01
LOWER_IS_BETTER = {"worst_benign_fpr"}


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


def worst_benign_fpr(
    labels: np.ndarray, sources: np.ndarray, flagged: np.ndarray, weights=None
) -> float:
    """The highest share of any benign source's URLs flagged (weighted by `weights`)."""
    weights = np.ones(len(labels)) if weights is None else weights
    worst = 0.0
    for source in np.unique(sources[labels == 0]):
        members = (labels == 0) & (sources == source)
        total = weights[members].sum()
        if total:
            worst = max(worst, float((weights[members] * flagged[members]).sum() / total))
    return worst


@dataclass(frozen=True)
class Scores:
    """One model's scores on the shared test URLs, and its operating threshold (None for a
    model exported before it had one)."""

    scores: np.ndarray
    threshold: float | None = None


def _metrics(labels, sources, model: Scores, weights=None) -> dict[str, float]:
    metrics = curve_metrics(labels, model.scores, weights)
    if model.threshold is not None:
        flagged = model.scores >= model.threshold
        metrics["worst_benign_fpr"] = worst_benign_fpr(labels, sources, flagged, weights)
    return metrics


def paired_bootstrap(
    labels: np.ndarray,
    sources: np.ndarray,
    candidate: Scores,
    champion: Scores,
    samples: int,
    confidence: float,
    seed: int,
) -> dict[str, Comparison]:
    """Confidence intervals of candidate - champion for each metric both models have."""
    rng = np.random.default_rng(seed)
    strata = [
        np.flatnonzero((labels == label) & (sources == source))
        for label, source in sorted(set(zip(labels.tolist(), sources.tolist(), strict=True)))
    ]
    full_candidate = _metrics(labels, sources, candidate)
    full_champion = _metrics(labels, sources, champion)
    names = [name for name in COMPARED if name in full_candidate and name in full_champion]
    deltas = {name: np.empty(samples) for name in names}
    for i in range(samples):
        # A resample as integer weights on the original URLs (how often each was drawn).
        drawn = np.concatenate([rng.choice(members, size=len(members)) for members in strata])
        weights = np.bincount(drawn, minlength=len(labels))
        ours = _metrics(labels, sources, candidate, weights)
        theirs = _metrics(labels, sources, champion, weights)
        for name in names:
            deltas[name][i] = ours[name] - theirs[name]
    tail = (1 - confidence) / 2 * 100
    return {
        name: Comparison(
            candidate=full_candidate[name],
            champion=full_champion[name],
            delta=full_candidate[name] - full_champion[name],
            low=float(np.percentile(deltas[name], tail)),
            high=float(np.percentile(deltas[name], 100 - tail)),
        )
        for name in names
    }


def floor_failures(metrics: dict, params: PromoteParams) -> list[str]:
    """The floors every candidate must clear on the test slice, the first model included."""
    floors = {"roc_auc": params.min_roc_auc, "tpr_at_fpr_1pct": params.min_tpr_at_fpr_1pct}
    failures = [
        f"{COMPARED[name]} {metrics[name]:.4f} is under the floor {floor:g} (promote.min_{name})"
        for name, floor in floors.items()
        if metrics[name] < floor
    ]
    worst = metrics.get("worst_benign_fpr")
    if worst is not None and worst > params.max_worst_benign_fpr:
        failures.append(
            f"benign source {metrics['worst_benign_source']} is flagged {worst:.2%} of the time "
            f"at the operating threshold, over {params.max_worst_benign_fpr:.2%} "
            "(promote.max_worst_benign_fpr)"
        )
    return failures


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
    margins = {
        "roc_auc": params.max_roc_auc_loss,
        "tpr_at_fpr_1pct": params.max_tpr_loss,
        "worst_benign_fpr": params.max_benign_fpr_increase,
    }
    level = f"{params.confidence:.0%}"
    # The interval of the gain: the difference, sign-flipped where lower is better.
    gains = {
        name: (-c.high, -c.low) if name in LOWER_IS_BETTER else (c.low, c.high)
        for name, c in comparisons.items()
    }
    worse = [
        f"{COMPARED[name]} is worse than the champion by more than {margins[name]:g} "
        f"({level} interval of the difference {c.low:+.4f} to {c.high:+.4f})"
        for name, c in comparisons.items()
        if gains[name][1] < -margins[name]
    ]
    if worse:
        return Verdict("reject", worse, comparisons)
    inferior = [
        f"{COMPARED[name]} may be worse than the champion by more than {margins[name]:g} "
        f"(interval {c.low:+.4f} to {c.high:+.4f})"
        for name, c in comparisons.items()
        if gains[name][0] < -margins[name]
    ]
    better = [
        f"{COMPARED[name]} is better than the champion ({level} interval "
        f"{c.low:+.4f} to {c.high:+.4f})"
        for name, c in comparisons.items()
        if gains[name][0] > 0
    ]
    if better and not inferior:
        return Verdict("promote", better, comparisons)
    if not better:
        inferior.append(f"no metric is better than the champion with {level} confidence")
    return Verdict("hold", inferior, comparisons)
