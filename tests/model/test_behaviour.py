"""Behaviour of a model trained on demo data: minimum functionality, directional
expectations and invariances (Ribeiro et al., CheckList)."""

import numpy as np
import pytest

from helpers.behaviour import (
    BRAND_IN_SUBDOMAIN,
    ORDINARY_PAGES,
    model_scorer,
    operating_threshold,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def score(demo_run):
    return model_scorer(demo_run)


@pytest.fixture(scope="module")
def threshold(demo_run) -> float:
    return operating_threshold(demo_run)


# verdant-yoga.net is judged by the real-sample model only (tests/data/test_real_corpus.py):
# the demo's small sites are named from a few dozen words, and demo models flag it (main's
# of 2026-12-04: 0.41 against 0.32; this fixture's of 2026-12-05: 0.37 against 0.29).
@pytest.mark.parametrize("url", [url for url in ORDINARY_PAGES if "verdant-yoga" not in url])
def test_ordinary_pages_of_small_sites_are_not_flagged(score, threshold, url):
    assert score(url)[0] < threshold


@pytest.mark.parametrize("url", BRAND_IN_SUBDOMAIN)
def test_a_brand_in_the_subdomain_of_an_unrelated_domain_is_flagged(score, threshold, url):
    assert score(url)[0] >= threshold


@pytest.mark.parametrize(
    "url",
    [
        "https://paypal.com.secure-login.account-verify.xyz/signin",
        "https://appleid.apple.com.login-support.top/verify",
        "http://185.212.44.10/bank/login.php",
        "http://45.12.77.3/webscr/cmd=_login-submit",
    ],
)
def test_typical_phishing_is_flagged(score, url):
    assert score(url)[0] > 0.5


@pytest.mark.parametrize(
    "url", ["http://wikipedia.org/wiki/Phishing", "https://github.com/apache/spark"]
)
def test_popular_benign_pages_pass(score, url):
    assert score(url)[0] < 0.5


@pytest.mark.parametrize(
    ("plain", "suspicious"),
    [
        (
            "https://news-daily.com/sport/2016/05/final",
            "https://paypal-login.news-daily.com/sport/2016/05/final",
        ),
        ("http://bbc.co.uk/news/technology", "http://paypal-login.bbc.co.uk/news/technology"),
    ],
)
def test_brand_login_subdomain_raises_the_score(score, plain, suspicious):
    before, after = score(plain, suspicious)
    assert after > before


@pytest.mark.parametrize(
    "variants",
    [
        (
            "https://github.com/apache/spark",
            "HTTPS://GITHUB.COM/apache/spark",
            "https://GitHub.com/apache/spark",
            "http://www.github.com/apache/spark/",
        ),
        ("http://181.214.58.104/login.php", "HTTP://181.214.58.104/login.php"),
    ],
)
def test_scheme_host_case_and_www_do_not_change_the_score(score, variants):
    scores = score(*variants)
    assert np.all(scores == scores[0])
