"""The in-graph url_key (what serving computes from raw URLs) equals the Python one that
ingest computes: training and serving see the same text."""

import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from angler.data.urls import UrlError, parse_url
from angler.model.network import canonical_url_text, model_text

from helpers.paths import FIXTURE_CORPUS

RAW_VARIANTS = [
    "HTTPS://WWW.PayPal.COM:443/Login/",
    "http://www.example.com",
    "http://WWW2.Shop.Example.com/a/b/",
    "example.com/a/",
    "  https://x.com/?a=1  ",
    "https://x.com/a/?q=1/#frag",
    "http://user@www.x.com/p",
    "http://example.com:8080/x/",
    "http://181.214.58.104/login.php",
    "http://[2001:db8::1]:8080/bank/",
    "http://example.com\\login",
    "http://example.com/a b",
    "https://xn--pple-43d.com/id",
]


def in_graph(urls: list[str]) -> list[str]:
    return [t.decode() for t in canonical_url_text(tf.constant(urls)).numpy()]


@pytest.mark.parametrize("raw", RAW_VARIANTS)
def test_raw_variants_match_the_python_url_key(raw):
    assert in_graph([raw]) == [parse_url(raw).url_key]


def test_normalised_fixture_urls_match():
    lines = (FIXTURE_CORPUS / "benign" / "popular-sites.txt").read_text().splitlines()
    parsed = []
    for line in lines:
        try:
            parsed.append(parse_url(line))
        except UrlError:
            continue
    assert in_graph([p.url for p in parsed]) == [p.url_key for p in parsed]


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(
        r"https?://(www\.)?[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\.(com|co\.uk|xyz)(/[a-zA-Z0-9._/-]{0,30})?"
        r"(\?[a-z0-9=&]{0,10})?(#[a-z]{0,3})?",
        fullmatch=True,
    )
)
def test_generated_urls_match(raw):
    assert in_graph([raw]) == [parse_url(raw).url_key]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=120))
def test_model_text_is_never_longer_than_the_cut(raw, cut):
    """Spaces grow to %20 in url_key, so the cut applies again after canonicalising."""
    text = model_text(tf.constant([raw]), cut).numpy()[0]
    assert len(text) <= cut
    short = canonical_url_text(tf.constant([raw])).numpy()[0]
    if len(raw) <= cut and len(short) <= cut:
        assert text == short  # nothing is cut from a URL that fits
