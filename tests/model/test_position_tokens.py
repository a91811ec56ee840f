"""The position tokens of a URL, checked by hand: where each word sits decides its feature,
and the host's shape is counted in capped steps."""

import pytest
import tensorflow as tf

from angler.model.network import canonical_url_text, position_tokens

HOST_SHAPE = ("hl:", "hd:", "hh:")


def tokens(url: str) -> list[str]:
    text = canonical_url_text(tf.constant([url]))
    return [t.decode() for t in position_tokens(text)[0].numpy()]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://PayPal.com.secure-login.example.net/Sign-In/verify.php?id=7",
            ["s:paypal", "s:com", "s:secure", "s:login", "d:example", "t:net"]
            + ["p:sign", "p:in", "p:verify", "p:php", "p:id", "p:7", "n:5", "ip:0"],
        ),
        ("http://www.paypal.com", ["d:paypal", "t:com", "n:2", "ip:0"]),
        (
            "http://user@185.212.44.10:8080/bank/login",
            ["s:185", "s:212", "d:44", "t:10", "p:bank", "p:login", "n:4", "ip:1"],
        ),
        (
            "http://a.b.c.d.e.f.g.example.org/",
            ["s:a", "s:b", "s:c", "s:d", "s:e", "s:f", "s:g"]
            + ["d:example", "t:org", "n:6", "ip:0"],
        ),
        # No name before the TLD, an empty label, a two-part suffix, an IPv6 host.
        ("http://localhost/x", ["t:localhost", "p:x", "n:1", "ip:0"]),
        ("http://a..b/", ["s:a", "t:b", "n:3", "ip:0"]),
        (
            "http://mail.example.co.uk/Inbox",
            ["s:mail", "s:example", "d:co", "t:uk", "p:inbox", "n:4", "ip:0"],
        ),
        ("http://[::1]:8080/a", ["t:[::1]", "p:a", "n:1", "ip:1"]),
    ],
)
def test_words_are_tagged_by_where_they_sit(url, expected):
    assert [t for t in tokens(url) if not t.startswith(HOST_SHAPE)] == expected


@pytest.mark.parametrize(
    ("url", "shape"),
    [
        ("http://www.paypal.com", ["hl:1", "hd:0", "hh:0"]),
        ("https://PayPal.com.secure-login.example.net/x", ["hl:4", "hd:0", "hh:1"]),
        ("http://user@185.212.44.10:8080/bank/login", ["hl:1", "hd:4", "hh:0"]),
        # Length, digits and hyphens are capped at 64+ bytes, 4 and 3.
        (
            "http://x1-2-3-4.a-very-long-machine-made-host-name-0123456789.example.com.tr/",
            ["hl:8", "hd:4", "hh:3"],
        ),
    ],
)
def test_the_host_shape_is_counted_in_capped_steps(url, shape):
    assert [t for t in tokens(url) if t.startswith(HOST_SHAPE)] == shape


def test_the_same_brand_is_a_different_token_as_name_and_as_subdomain():
    own, borrowed = tokens("https://paypal.com/signin"), tokens("https://paypal.evil.com/signin")
    assert "d:paypal" in own and "d:paypal" not in borrowed and "s:paypal" in borrowed
