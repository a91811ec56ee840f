"""The champion/challenger verdict on synthetic scores with known differences."""

import numpy as np
import pytest

from angler.params import PromoteParams
from angler.review.verdict import curve_metrics, decide, paired_bootstrap

PROMOTE = PromoteParams(
    bootstrap_samples=300,
    confidence=0.95,
    max_roc_auc_loss=0.002,
    max_tpr_loss=0.01,
    min_roc_auc=0.9,
    min_tpr_at_fpr_1pct=0.2,
)


def scored(noise: float, seed: int, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 3 == 0).astype(int)
    return labels, labels + rng.normal(0, noise, n)


def compare(candidate_noise: float, champion_noise: float):
    labels, candidate = scored(candidate_noise, 1)
    _, champion = scored(champion_noise, 2)
    comparisons = paired_bootstrap(labels, candidate, champion, 300, 0.95, seed=0)
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
    comparisons = paired_bootstrap(labels, scores, scores.copy(), 300, 0.95, seed=0)
    verdict = decide(curve_metrics(labels, scores), comparisons, PROMOTE)
    assert verdict.decision == "hold"
    assert all(c.delta == c.low == c.high == 0 for c in comparisons.values())


def test_interval_holds_the_full_sample_difference_and_is_seeded():
    labels, candidate = scored(0.4, 1)
    _, champion = scored(0.45, 2)
    first = paired_bootstrap(labels, candidate, champion, 300, 0.9, seed=3)
    assert first == paired_bootstrap(labels, candidate, champion, 300, 0.9, seed=3)
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
