"""Distribution-shift statistics between a weighted reference sample and a traffic sample.

The reference is the training data reweighted to the class mix expected in traffic (the
corpus is mostly phishing, served traffic mostly benign), so every statistic here takes
per-row reference weights. Traffic rows weigh one each.
"""

from __future__ import annotations

import numpy as np

SHARE_FLOOR = 1e-4  # an empty bin would make the PSI infinite


def psi(reference_shares: np.ndarray, traffic_shares: np.ndarray) -> float:
    """Population stability index of two distributions over the same bins."""
    expected = np.clip(reference_shares, SHARE_FLOOR, None)
    actual = np.clip(traffic_shares, SHARE_FLOOR, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def bin_edges(values: np.ndarray, weights: np.ndarray, bins: int) -> np.ndarray:
    """Interior bin edges from the reference: one bin per value for a feature with at most
    `bins` distinct values (flags, small counts), else edges at weighted quantiles."""
    distinct = np.unique(values)
    if len(distinct) <= bins:
        return (distinct[:-1] + distinct[1:]) / 2
    levels = np.linspace(0, 1, bins + 1)[1:-1]
    return np.unique(np.quantile(values, levels, weights=weights, method="inverted_cdf"))


def bin_shares(values: np.ndarray, weights: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(
        np.searchsorted(edges, values, side="right"), weights=weights, minlength=len(edges) + 1
    )
    return counts / weights.sum()


def numeric_psi(
    reference: np.ndarray, weights: np.ndarray, traffic: np.ndarray, bins: int
) -> float:
    edges = bin_edges(reference, weights, bins)
    return psi(
        bin_shares(reference, weights, edges),
        bin_shares(traffic, np.ones(len(traffic)), edges),
    )


def ks_statistic(reference: np.ndarray, weights: np.ndarray, traffic: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance: the largest gap between the two empirical CDFs."""
    order = np.argsort(reference, kind="stable")
    sorted_reference = reference[order]
    reference_cdf = np.concatenate([[0.0], np.cumsum(weights[order]) / weights.sum()])
    sorted_traffic = np.sort(traffic)
    grid = np.union1d(sorted_reference, sorted_traffic)
    gap = reference_cdf[np.searchsorted(sorted_reference, grid, side="right")] - (
        np.searchsorted(sorted_traffic, grid, side="right") / len(traffic)
    )
    return float(np.max(np.abs(gap)))


def category_psi(
    reference: np.ndarray, weights: np.ndarray, traffic: np.ndarray, top: int
) -> float:
    """PSI over the reference's `top` heaviest categories, all others in one bin."""
    totals: dict[str, float] = {}
    for value, weight in zip(reference, weights, strict=True):
        totals[value] = totals.get(value, 0.0) + weight
    kept = sorted(totals, key=totals.get, reverse=True)[:top]
    index = {value: i for i, value in enumerate(kept)}
    other = len(kept)

    def shares(values: np.ndarray, row_weights: np.ndarray) -> np.ndarray:
        bins = np.fromiter((index.get(v, other) for v in values), dtype=np.int64, count=len(values))
        return np.bincount(bins, weights=row_weights, minlength=other + 1) / row_weights.sum()

    return psi(shares(reference, weights), shares(traffic, np.ones(len(traffic))))


def quantiles(values: np.ndarray, weights: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    return np.quantile(values, levels, weights=weights, method="inverted_cdf")
