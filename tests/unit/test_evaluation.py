"""The operating threshold and the per-source rates at it, on scores small enough to check
by hand."""

import numpy as np
import pandas as pd
import pytest

from angler.errors import AnglerError
from angler.model.evaluation import (
    domain_weights,
    evaluation_slices,
    operating_metrics,
    operating_point,
    operating_threshold,
)
from angler.params import EvaluateParams


def evaluate_params(target_fpr: float, fpr_unit: str = "url") -> EvaluateParams:
    return EvaluateParams(
        target_fpr, fpr_unit, histogram_bins=20, curve_points=50, source_slices={}
    )


def scored(rows: list[tuple[str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["source", "label", "score"])


def next_float32(value: float) -> float:
    return float(np.nextafter(np.float32(value), np.float32(1)))


def test_threshold_flags_at_most_the_target_share_of_benign_urls():
    labels = np.array([0] * 10 + [1] * 3)
    scores = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.85, 0.95, 0.99])
    # 20% of 10 benign URLs: 0.8 and 0.9 may be flagged, so the threshold is just above 0.7
    threshold = operating_threshold(labels, scores, 0.2)
    assert 0.7 < threshold <= 0.8 and threshold == next_float32(0.7)
    assert (scores[labels == 0] >= threshold).sum() == 2
    assert (scores.astype(np.float32)[labels == 0] >= threshold).sum() == 2
    # under 1 of 10: none may be flagged
    assert operating_threshold(labels, scores, 0.05) == next_float32(0.9)


def test_ties_at_the_threshold_are_not_flagged_past_the_target():
    labels = np.array([0, 0, 0, 0, 1])
    scores = np.array([0.5, 0.5, 0.5, 0.1, 0.9])
    threshold = operating_threshold(labels, scores, 0.5)  # 2 of 4 allowed, 3 tie at 0.5
    assert (scores[labels == 0] >= threshold).sum() == 0
    assert (np.float32(scores)[labels == 0] >= np.float32(threshold)).sum() == 0  # as served
    assert scores[4] >= threshold


def test_threshold_on_a_large_synthetic_set_gives_the_target_fpr():
    rng = np.random.default_rng(0)
    benign, phishing = rng.beta(2, 8, 20_000), rng.beta(8, 2, 5_000)
    validation = pd.DataFrame(
        {
            "url": [f"http://site{i}.example/" for i in range(len(benign) + len(phishing))],
            "label": np.r_[np.zeros(len(benign)), np.ones(len(phishing))].astype(int),
            "score": np.r_[benign, phishing],
        }
    )
    point = operating_point(validation, evaluate_params(0.01))
    assert point["validation_fpr"] == pytest.approx(0.01, abs=1 / len(benign))
    assert point["validation_fpr"] <= 0.01
    fresh = rng.beta(2, 8, 20_000)  # unseen benign URLs of the same kind
    assert (fresh >= point["threshold"]).mean() == pytest.approx(0.01, abs=0.003)


def test_per_domain_one_big_site_counts_as_one_domain():
    # 10 benign domains: big-site.com has 11 URLs that all score high, 9 others one URL each
    urls = [f"http://big-site.com/page/{i}" for i in range(11)]
    urls += [f"https://www.small{i}.co.uk/about" for i in range(9)] + ["http://phish.top/"]
    scores = [0.9] * 11 + [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85] + [0.95]
    validation = pd.DataFrame({"url": urls, "label": [0] * 20 + [1], "score": scores})
    weights = domain_weights(validation["url"])
    assert weights[:11] == pytest.approx([1 / 11] * 11) and weights[11:] == pytest.approx(1.0)
    per_url = operating_point(validation, evaluate_params(0.1))
    assert per_url["threshold"] == next_float32(0.9)  # 2 of 20 URLs may be flagged: none tie
    per_domain = operating_point(validation, evaluate_params(0.1, "domain"))
    # one domain of ten may be flagged: big-site.com (weight 1), then 0.85 would be the second
    assert per_domain["threshold"] == next_float32(0.85)
    assert per_domain["validation_fpr"] == pytest.approx(11 / 20)
    assert per_domain["validation_domain_fpr"] == pytest.approx(0.1)
    assert per_domain["fpr_unit"] == "domain"


def test_a_validation_split_without_both_classes_is_an_error():
    with pytest.raises(AnglerError, match="both classes"):
        operating_point(
            pd.DataFrame({"url": ["a.com", "b.com"], "label": [0, 0], "score": [0.1, 0.2]}),
            evaluate_params(0.01),
        )


def test_rates_per_source_and_the_worst_sources():
    frame = scored(
        [
            ("crawl", 0, 0.9),  # crawl: 2 of 4 flagged at 0.5
            ("crawl", 0, 0.6),
            ("crawl", 0, 0.2),
            ("crawl", 0, 0.1),
            ("lists", 0, 0.7),  # lists: 1 of 5
            ("lists", 0, 0.1),
            ("lists", 0, 0.1),
            ("lists", 0, 0.1),
            ("lists", 0, 0.1),
            ("feed-a", 1, 0.9),  # feed-a: 2 of 2 caught
            ("feed-a", 1, 0.8),
            ("feed-b", 1, 0.4),  # feed-b: 1 of 3
            ("feed-b", 1, 0.3),
            ("feed-b", 1, 0.95),
        ]
    )
    result = operating_metrics(frame, 0.5)
    assert result["by_source"]["crawl"]["fpr_at_operating"] == 0.5
    assert result["by_source"]["lists"]["fpr_at_operating"] == 0.2
    assert result["by_source"]["feed-b"]["tpr_at_operating"] == pytest.approx(1 / 3)
    assert (result["worst_benign_source"], result["worst_benign_fpr"]) == ("crawl", 0.5)
    assert result["worst_phishing_source"] == "feed-b"
    assert result["fpr_at_operating"] == pytest.approx(3 / 9)  # pooled over both lists
    assert result["tpr_at_operating"] == pytest.approx(3 / 5)
    # crawl's 4 URLs against the 5 phishing ones: phishing scores higher in 1 + 0.5 (a tie
    # at 0.9), 3, 5 and 5 of the pairs
    assert result["by_source"]["crawl"]["roc_auc"] == pytest.approx(14.5 / 20)


def test_source_slices_hold_only_their_sources_test_urls():
    test = scored([("crawl", 0, 0.1), ("lists", 0, 0.2), ("feed", 1, 0.9), ("other", 1, 0.8)])
    temporal = scored([("feed", 1, 0.7)])
    slices = evaluation_slices(test, temporal, {"one dataset": ("crawl", "feed")})
    assert list(slices) == ["test", "temporal", "one dataset"]
    assert slices["one dataset"]["source"].tolist() == ["crawl", "feed"]
    assert sorted(slices["temporal"]["score"]) == [0.1, 0.2, 0.7]  # test's benign URLs joined


def test_a_temporal_slice_with_both_classes_is_scored_alone():
    test = scored([("crawl", 0, 0.1), ("feed", 1, 0.9)])
    temporal = scored([("traffic", 0, 0.4), ("feed", 1, 0.7)])
    slices = evaluation_slices(test, temporal, {})
    assert sorted(slices["temporal"]["score"]) == [0.4, 0.7]


def test_a_temporal_slice_without_phishing_is_empty():
    test = scored([("crawl", 0, 0.1), ("feed", 1, 0.9)])
    slices = evaluation_slices(test, scored([("crawl", 0, 0.3)]), {})
    assert slices["temporal"].empty and list(slices) == ["test", "temporal"]
