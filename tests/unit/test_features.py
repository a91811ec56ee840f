import math

import pytest

from angler.data.features import lexical_features, shannon_entropy
from angler.data.schema import FEATURE_COLUMNS
from angler.data.urls import parse_url

TOKENS = ("login", "verify", "account")


def features_of(raw: str) -> dict:
    p = parse_url(raw)
    return lexical_features(p, TOKENS)


def test_phishing_shaped_url():
    f = features_of("https://www.paypal.com.login-verify.example.xyz/account/update?id=12&x=3")
    assert set(f) == set(FEATURE_COLUMNS)
    assert f["subdomain_depth"] == 3  # www. does not count
    assert f["path_depth"] == 2
    assert f["n_query_params"] == 2
    assert f["n_suspicious_tokens"] == 3
    assert f["n_hyphens"] == 1
    assert f["tld"] == "xyz"
    assert (f["is_ip_host"], f["is_punycode"], f["has_userinfo"], f["has_port"]) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("raw", "feature", "value"),
    [
        ("http://181.214.58.104/login.php", "is_ip_host", 1),
        ("http://[2001:db8::1]:8080/", "is_ip_host", 1),
        ("http://[2001:db8::1]:8080/", "has_port", 1),
        ("http://[2001:db8::1]/", "has_port", 0),
        ("https://аpple.com/", "is_punycode", 1),
        ("http://paypal.com@evil.example.net/", "has_userinfo", 1),
        ("http://example.co.uk/", "tld", "uk"),
        ("http://example.com/", "url_length", len("example.com")),
        ("http://example.com/a1b2", "n_digits", 2),
        ("http://example.com/a_b~c", "n_special", 2),
    ],
)
def test_single_features(raw, feature, value):
    assert features_of(raw)[feature] == value


def test_entropy():
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("ab") == 1.0
    assert math.isclose(shannon_entropy("abcd"), 2.0)
