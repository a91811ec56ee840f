"""The drift statistics against their definitions and against SciPy's KS test."""

import numpy as np
import pytest
from scipy import stats

from angler.monitor import drift

RNG = np.random.default_rng(7)


def test_psi_of_identical_distributions_is_zero():
    shares = np.array([0.2, 0.3, 0.5])
    assert drift.psi(shares, shares) == 0.0


def test_psi_grows_with_the_shift_and_stays_finite_for_empty_bins():
    reference = np.array([0.5, 0.5, 0.0])
    assert (
        0
        < drift.psi(reference, np.array([0.4, 0.6, 0.0]))
        < drift.psi(reference, np.array([0.1, 0.4, 0.5]))
    )
    assert np.isfinite(drift.psi(reference, np.array([0.0, 0.0, 1.0])))


@pytest.mark.parametrize("shift", [0.0, 0.3, 2.0])
def test_unweighted_ks_equals_scipy(shift):
    reference = RNG.normal(size=3000)
    traffic = RNG.normal(loc=shift, size=700)
    expected = stats.ks_2samp(reference, traffic).statistic
    assert drift.ks_statistic(reference, np.ones(3000), traffic) == pytest.approx(expected)


def test_ks_with_ties_equals_scipy():
    reference = RNG.integers(0, 4, size=1000).astype(float)
    traffic = RNG.integers(1, 6, size=400).astype(float)
    expected = stats.ks_2samp(reference, traffic).statistic
    assert drift.ks_statistic(reference, np.ones(1000), traffic) == pytest.approx(expected)


def test_weights_count_rows_as_repeats():
    reference = np.array([1.0, 2.0, 3.0])
    repeated = np.array([1.0, 1.0, 1.0, 2.0, 3.0])
    traffic = RNG.integers(1, 4, size=50).astype(float)
    assert drift.ks_statistic(reference, np.array([3.0, 1.0, 1.0]), traffic) == pytest.approx(
        drift.ks_statistic(repeated, np.ones(5), traffic)
    )
    assert drift.numeric_psi(reference, np.array([3.0, 1.0, 1.0]), traffic, 10) == pytest.approx(
        drift.numeric_psi(repeated, np.ones(5), traffic, 10)
    )


def test_discrete_features_get_one_bin_per_value():
    flags = np.array([0.0] * 90 + [1.0] * 10)
    edges = drift.bin_edges(flags, np.ones(100), bins=10)
    assert edges.tolist() == [0.5]
    assert drift.bin_shares(flags, np.ones(100), edges).tolist() == [0.9, 0.1]


def test_category_psi_puts_rare_and_new_categories_in_one_bin():
    reference = np.array(["com"] * 60 + ["net"] * 30 + ["org"] * 10)
    weights = np.ones(100)
    same_mix = np.array(["com"] * 6 + ["net"] * 3 + ["org"])
    assert drift.category_psi(reference, weights, same_mix, top=2) == pytest.approx(0)
    new_tlds = np.array(["com"] * 6 + ["xyz"] * 4)
    assert drift.category_psi(reference, weights, new_tlds, top=2) > 0.25
