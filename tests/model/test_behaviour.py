"""Behaviour of a model trained on demo data: minimum functionality, directional
expectations and invariances (Ribeiro et al., CheckList)."""

import json

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def score(demo_run):
    model = keras.saving.load_model(demo_run / "models" / "keras" / "angler.keras")

    def predict(*urls: str) -> np.ndarray:
        return model.predict(np.array(urls, dtype=object), verbose=0).reshape(-1)

    return predict


@pytest.fixture(scope="module")
def threshold(demo_run) -> float:
    """The operating threshold the evaluate stage chose on validation."""
    metrics = json.loads((demo_run / "metrics" / "evaluate.json").read_text())
    return metrics["operating_point"]["threshold"]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.hollowayplumbing.co.uk/about",
        "http://marisolbakery.com/contact",
        "https://kestrel-outdoor.de/products/trail-tent-2p",
        "https://www.verdant-yoga.net/services/classes/",
        "http://smithandpartners-law.com/blog/2021/03/new-office",
    ],
)
def test_ordinary_pages_of_small_sites_are_not_flagged(score, threshold, url):
    assert score(url)[0] < threshold


@pytest.mark.parametrize(
    "url",
    [
        "https://paypal.secure-account.kestrel-outdoor.de/signin",
        "http://appleid.apple.com.verify.marisolbakery.com/login",
    ],
)
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
