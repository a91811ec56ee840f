"""The champion/challenger verdict on synthetic scores with known differences."""

import numpy as np
import pytest

from angler.params import PromoteParams
from angler.review.verdict import Scores, curve_metrics, decide, paired_bootstrap, worst_benign_fpr

PROMOTE = PromoteParams(
    bootstrap_samples=300,
    confidence=0.95,
    max_roc_auc_loss=0.002,
    max_tpr_loss=0.01,
    max_benign_fpr_increase=0.005,
    min_roc_auc=0.9,
    min_tpr_at_fpr_1pct=0.2,
    max_worst_benign_fpr=0.02,
)
NO_SOURCES = np.zeros(4000, dtype=int)


def scored(noise: float, seed: int, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 3 == 0).astype(int)
    return labels, labels + rng.normal(0, noise, n)


def compare(candidate_noise: float, champion_noise: float):
    labels, candidate = scored(candidate_noise, 1)
    _, champion = scored(champion_noise, 2)
    comparisons = paired_bootstrap(
        labels, NO_SOURCES, Scores(candidate), Scores(champion), 300, 0.95, seed=0
    )
    return decide(curve_metrics(labels, candidate), comparisons, PROMOTE)


def test_clearly_better_candidate_is_promoted():
    verdict = compare(candidate_noise=0.35, champion_noise=0.5)
    assert verdict.decision == "promote"
    assert all(c.low > 0 for c in verdict.comparisons.values())


def test_clearly_worse_candidate_is_rejected():
    verdict = compare(candidate_noise=0.5, champion_noise=0.35)
    assert verdict.decision == "reject"
    assert all(c.high < 0 for c in verdict.comparisons.values())
    assert "worse than the champion" in verdict.reasons[0]


def test_the_same_model_again_is_held_not_promoted():
    labels, scores = scored(0.4, 1)
    comparisons = paired_bootstrap(
        labels, NO_SOURCES, Scores(scores, 0.5), Scores(scores.copy(), 0.5), 300, 0.95, seed=0
    )
    verdict = decide(curve_metrics(labels, scores), comparisons, PROMOTE)
    assert verdict.decision == "hold"
    assert all(c.delta == c.low == c.high == 0 for c in comparisons.values())


def test_interval_holds_the_full_sample_difference_and_is_seeded():
    labels, candidate = scored(0.4, 1)
    _, champion = scored(0.45, 2)
    models = Scores(candidate, 0.6), Scores(champion, 0.6)
    first = paired_bootstrap(labels, NO_SOURCES, *models, 300, 0.9, seed=3)
    assert first == paired_bootstrap(labels, NO_SOURCES, *models, 300, 0.9, seed=3)
    assert set(first) == {"roc_auc", "tpr_at_fpr_1pct", "worst_benign_fpr"}
    for comparison in first.values():
        assert comparison.low <= comparison.delta <= comparison.high
        assert comparison.delta == pytest.approx(comparison.candidate - comparison.champion)


def test_first_model_must_clear_the_floors():
    labels, good = scored(0.3, 1)
    assert decide(curve_metrics(labels, good), None, PROMOTE).decision == "promote"
    labels, poor = scored(1.5, 1)
    verdict = decide(curve_metrics(labels, poor), None, PROMOTE)
    assert verdict.decision == "reject"
    assert any("promote.min_roc_auc" in reason for reason in verdict.reasons)


def two_benign_sources(crawl_flagged: float, seed: int, n: int = 3000):
    """Phishing scores ~0.9, one benign list never flagged, one benign crawl of which the
    share `crawl_flagged` scores above the 0.5 threshold."""
    rng = np.random.default_rng(seed)
    labels = np.r_[np.ones(n), np.zeros(n), np.zeros(n)].astype(int)
    sources = np.array(["feed"] * n + ["lists"] * n + ["crawl"] * n)
    crawl = np.where(rng.random(n) < crawl_flagged, 0.7, 0.2)
    scores = np.r_[rng.uniform(0.8, 1.0, n), rng.uniform(0.0, 0.3, n), crawl]
    return labels, sources, scores


def test_worst_benign_fpr_is_the_most_flagged_source():
    labels = np.array([1, 0, 0, 0, 0, 0])
    sources = np.array(["f", "a", "a", "b", "b", "b"])
    flagged = np.array([True, True, False, True, True, False])
    assert worst_benign_fpr(labels, sources, flagged) == pytest.approx(2 / 3)
    weights = np.array([1, 1, 1, 0, 0, 1])  # b's flagged URLs not drawn
    assert worst_benign_fpr(labels, sources, flagged, weights) == 0.5


def test_a_candidate_that_flags_one_benign_source_more_is_rejected():
    labels, sources, champion = two_benign_sources(0.005, seed=1)
    _, _, candidate = two_benign_sources(0.04, seed=2)
    comparisons = paired_bootstrap(
        labels, sources, Scores(candidate, 0.5), Scores(champion, 0.5), 300, 0.95, seed=0
    )
    worst = comparisons["worst_benign_fpr"]
    assert worst.low > 0.005  # the crawl is flagged clearly more often
    # ROC AUC and TPR alone would not stop it: every phishing URL outscores the crawl
    assert comparisons["tpr_at_fpr_1pct"].delta > -0.01
    metrics = curve_metrics(labels, candidate) | {"worst_benign_fpr": 0.0}
    verdict = decide(metrics, comparisons, PROMOTE)
    assert verdict.decision == "reject"
    assert any("worst benign source" in reason for reason in verdict.reasons)


def test_the_floor_on_the_worst_benign_source_rejects_a_first_model():
    labels, _, scores = two_benign_sources(0.04, seed=1)
    metrics = curve_metrics(labels, scores) | {
        "worst_benign_fpr": 0.04,
        "worst_benign_source": "crawl",
    }
    verdict = decide(metrics, None, PROMOTE)
    assert verdict.decision == "reject"
    assert "benign source crawl is flagged 4.00%" in verdict.reasons[0]
    assert "promote.max_worst_benign_fpr" in verdict.reasons[0]


def test_a_champion_without_a_threshold_is_compared_on_the_curves_only():
    labels, sources, scores = two_benign_sources(0.01, seed=1)
    comparisons = paired_bootstrap(
        labels, sources, Scores(scores, 0.5), Scores(scores.copy()), 200, 0.95, seed=0
    )
    assert set(comparisons) == {"roc_auc", "tpr_at_fpr_1pct"}
