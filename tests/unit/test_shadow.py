"""The shadow verdict on a served-traffic window whose every number is worked out by hand:
100 URLs in the window (the two oldest rows fall outside it, two rows are unusable),
champion threshold 0.5, candidate threshold 0.6."""

import math

import numpy as np
import pandas as pd
import pytest

from angler.params import ShadowParams
from angler.review.shadow import compare, failures, read_window, site_and_kind

# site: (URLs, served score, candidate score)
SITES = {
    "a.com": (4, 0.55, 0.55),  # flagged when served, cleared by the candidate's threshold
    "shop.blogspot.com": (3, 0.30, 0.70),  # newly flagged, on a shared platform
    "c.org": (2, 0.20, 0.65),  # newly flagged, and the allow list vouches for it
    "d.net": (91, 0.10, 0.10),  # unchanged
}


@pytest.fixture
def window(tmp_path):
    rows = [
        (f"https://{site}/page{i}?token=SECRET{i}", served, candidate)
        for site, (count, served, candidate) in SITES.items()
        for i in range(count)
    ]
    start = pd.Timestamp("2026-12-01", tz="UTC")
    frame = pd.DataFrame(
        {
            "url": [url for url, _, _ in rows],
            "score": [served for _, served, _ in rows],
            "time": [start + pd.Timedelta(hours=1 + i) for i in range(len(rows))],
        }
    )
    old = pd.DataFrame(
        {"url": ["https://old.example/"] * 2, "score": [0.9] * 2, "time": [start] * 2}
    )
    bad = pd.DataFrame({"url": ["", "https://e.com/"], "score": [0.5, 1.5], "time": [start] * 2})
    pd.concat([old, bad]).to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "b.parquet", index=False)
    return tmp_path, dict(zip((url for url, _, _ in rows), (c for _, _, c in rows), strict=True))


def test_the_window_is_the_newest_usable_rows(window):
    folder, _ = window
    rows, read = read_window(folder, window_urls=100)
    assert len(rows) == 100 and "old.example" not in " ".join(rows["url"])
    assert read == {
        "files": 2,
        "rows": 104,
        "unusable": 2,
        "period": ["2026-12-01 01:00:00+00:00", "2026-12-05 04:00:00+00:00"],
    }


def test_counts_sites_interval_and_rules_are_the_hand_worked_ones(window):
    folder, candidate = window
    rows, _ = read_window(folder, window_urls=100)
    scores = np.array([candidate[url] for url in rows["url"]])
    summary = compare(rows, scores, 0.5, 0.6, allow_list={"c.org"}, confidence=0.95)
    assert summary["flagged"] == {"served": 4, "candidate": 5}
    assert summary["newly_flagged"] == {
        "urls": 5,
        "sites": 2,
        "allow_listed_sites": 1,
        "top": [
            {"site": "shop.blogspot.com", "urls": 3, "allow_listed": False},
            {"site": "c.org", "urls": 2, "allow_listed": True},
        ],
    }
    assert summary["newly_cleared"] == {
        "urls": 4,
        "sites": 1,
        "top": [{"site": "a.com", "urls": 4, "allow_listed": False}],
    }
    rate = summary["flag_rate"]
    # Paired difference of proportions: (5 - 4) / 100; its standard error
    # sqrt(5 + 4 - 100 * 0.01**2) / 100; 95%: 1.959964 of them either side.
    half = 1.959964 * math.sqrt(9 - 0.01) / 100
    assert rate["change"] == pytest.approx(0.01)
    assert (rate["low"], rate["high"]) == pytest.approx((0.01 - half, 0.01 + half), abs=1e-6)
    assert summary["agreement"] == pytest.approx(0.91)
    assert summary["by_kind"] == [
        {"kind": ".com", "urls": 4, "served": 1.0, "candidate": 0.0},
        {"kind": "platform blogspot.com", "urls": 3, "served": 0.0, "candidate": 1.0},
        {"kind": ".org", "urls": 2, "served": 0.0, "candidate": 1.0},
    ]
    rules = ShadowParams(1000, max_flag_rate_increase=0.005, max_allow_listed_newly_flagged=0)
    reasons = failures(summary, rules)
    assert len(reasons) == 2
    assert "+1.00% of URLs more" in reasons[0] and "shadow.max_flag_rate_increase" in reasons[0]
    assert "newly flag 1 sites of the allow list" in reasons[1]
    assert failures(summary, ShadowParams(1000, 0.01, 1)) == []  # limits are inclusive


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://shop.blogspot.com/x", ("shop.blogspot.com", "platform blogspot.com")),
        ("http://www.bbc.co.uk/news", ("bbc.co.uk", ".co.uk")),
        ("http://10.0.0.1/login", ("10.0.0.1", "IP address")),
        ("javascript:alert(1)", ("", "not a parseable URL")),
    ],
)
def test_a_site_is_its_registered_domain_and_its_kind_the_platform_or_suffix(url, expected):
    assert site_and_kind(url) == expected
