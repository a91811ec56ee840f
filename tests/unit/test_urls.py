import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from angler.data.urls import UrlError, parse_url, unescape_entities


@pytest.mark.parametrize(
    ("raw", "url", "url_key", "registered_domain"),
    [
        ("http://example.com", "http://example.com/", "example.com", "example.com"),
        (
            "HTTPS://WWW.Example.COM/Path/",
            "https://www.example.com/Path/",
            "example.com/Path",
            "example.com",
        ),
        (
            "  https://a.b.example.co.uk:443/x?q=1#f \n",
            "https://a.b.example.co.uk/x?q=1#f",
            "a.b.example.co.uk/x?q=1#f",
            "example.co.uk",
        ),
        ("http://example.com:80/", "http://example.com/", "example.com", "example.com"),
        (
            "http://example.com:8080/a",
            "http://example.com:8080/a",
            "example.com:8080/a",
            "example.com",
        ),
        ("example.com/login", "http://example.com/login", "example.com/login", "example.com"),
        (
            "www2.shop.example.com",
            "http://www2.shop.example.com/",
            "shop.example.com",
            "example.com",
        ),
        ("https://x.com/a?b=1&amp;c=2", "https://x.com/a?b=1&c=2", "x.com/a?b=1&c=2", "x.com"),
        ("https://x.com/?a=1&copy=2", "https://x.com/?a=1&copy=2", "x.com?a=1&copy=2", "x.com"),
        (
            "https://аpple.com/id",
            "https://xn--pple-43d.com/id",
            "xn--pple-43d.com/id",
            "xn--pple-43d.com",
        ),
        (
            "https://XN--PPLE-43D.com/",
            "https://xn--pple-43d.com/",
            "xn--pple-43d.com",
            "xn--pple-43d.com",
        ),
        (
            "http://181.214.58.104/login.php",
            "http://181.214.58.104/login.php",
            "181.214.58.104/login.php",
            "181.214.58.104",
        ),
        (
            "http://[2001:DB8:0::1]:8080/x",
            "http://[2001:db8::1]:8080/x",
            "[2001:db8::1]:8080/x",
            "[2001:db8::1]",
        ),
        (
            "http://paypal.com@evil.example.net/login",
            "http://paypal.com@evil.example.net/login",
            "paypal.com@evil.example.net/login",
            "example.net",
        ),
        ("http://example.com./a b", "http://example.com/a%20b", "example.com/a%20b", "example.com"),
        (
            "http://example.com\\login",
            "http://example.com/login",
            "example.com/login",
            "example.com",
        ),
    ],
)
def test_parse_normalises(raw, url, url_key, registered_domain):
    parsed = parse_url(raw)
    assert (parsed.url, parsed.url_key, parsed.registered_domain) == (
        url,
        url_key,
        registered_domain,
    )


def test_parse_splits_parts():
    parsed = parse_url("https://user:pw@login.secure.example.co.uk:8443/a/b?x=1&y=2#top")
    assert parsed.scheme == "https"
    assert parsed.userinfo == "user:pw"
    assert parsed.host == "login.secure.example.co.uk"
    assert parsed.port == 8443
    assert parsed.subdomain == "login.secure"
    assert parsed.suffix == "co.uk"
    assert (parsed.path, parsed.query, parsed.fragment) == ("/a/b", "x=1&y=2", "top")
    assert not parsed.is_ip
    assert parse_url("http://10.0.0.1/").is_ip


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "empty URL"),
        ("", "empty URL"),
        ("   \t ", "empty URL"),
        ("javascript:alert(1)", "unsupported scheme 'javascript'"),
        ("mailto:a@example.com", "unsupported scheme 'mailto'"),
        ("hhttps://example.com/", "unsupported scheme 'hhttps'"),
        ("ftp://example.com/file", "unsupported scheme 'ftp'"),
        ("http://", "missing host"),
        ("https:///path/only", "missing host"),
        ("http://exa\x07mple.com/", "control character in URL"),
        ("http://example.com/\x00", "control character in URL"),
        ("http://exa mple.com/", "invalid host name"),
        ("http://-bad-.com/", "invalid host name"),
        ("http://a..b.com/", "invalid host name"),
        ("http://example.com:99999/", "invalid port"),
        ("http://example.com:abc/", "invalid port"),
        ("http://[::1/", "unclosed IPv6 bracket in host"),
        ("http://[zz::1]/", "invalid IPv6 host"),
        ("http://256.1.1.1/", "invalid IPv4 host"),
        ("http://localhost/", "host has no public suffix"),
        ("http://example.notatld/", "host has no public suffix"),
        ("http://co.uk/", "host is a public suffix"),
        ("http://" + "a" * 100_000 + ".com/", "URL longer than 8192 characters"),
    ],
)
def test_parse_rejects_with_reason(raw, reason):
    with pytest.raises(UrlError) as err:
        parse_url(raw)
    assert str(err.value) == reason


def test_max_length_is_a_parameter():
    url = "http://example.com/" + "a" * 200
    assert parse_url(url, max_length=300).path == "/" + "a" * 200
    with pytest.raises(UrlError, match="longer than 100"):
        parse_url(url, max_length=100)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a&amp;b", "a&b"),
        ("a&amp;amp;b", "a&b"),
        ("&#47;x&#x2F;", "/x/"),
        ("&copy=1", "&copy=1"),
        ("&#0;", "&#0;"),
        ("plain", "plain"),
    ],
)
def test_unescape_entities(text, expected):
    assert unescape_entities(text) == expected


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300) | st.from_regex(r"https?://[^\s/]{0,40}(/[^\s]{0,60})?"))
def test_parser_never_raises_anything_else_and_is_quick(raw):
    start = time.perf_counter()
    try:
        parsed = parse_url(raw)
    except UrlError:
        pass
    else:
        assert parsed.url.startswith(("http://", "https://"))
        assert parsed.url_key and "://" not in parsed.url_key.split("/", 1)[0]
        assert parse_url(parsed.url) == parsed  # normalising is idempotent
    assert time.perf_counter() - start < 0.5
