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
    ("raw", "site"),
    [
        ("https://cooking-notes.blogspot.com/2020/01/soup.html", "cooking-notes.blogspot.com"),
        ("https://www.cooking-notes.blogspot.com/", "cooking-notes.blogspot.com"),
        ("http://www2.paypal.com.verify.duckdns.org/login", "verify.duckdns.org"),
        ("https://app.example.workers.dev/", "example.workers.dev"),
        ("https://www.blogspot.com/", "blogspot.com"),  # the platform's own site
        ("http://ec2-3-80-1-2.compute-1.amazonaws.com/x", "ec2-3-80-1-2.compute-1.amazonaws.com"),
        ("https://sites.google.com/site/recovery", "google.com"),  # not a private suffix
    ],
)
def test_sites_on_shared_platforms_are_their_owners(raw, site):
    """Private suffixes are split by owner; the suffix and url_key stay the public ones."""
    parsed = parse_url(raw)
    assert parsed.registered_domain == site
    assert parsed.suffix in {"com", "org", "dev"}
    assert not parsed.url_key.startswith("www")


@pytest.mark.parametrize(
    ("host", "site", "subdomain", "suffix"),
    [
        ("www.www.blogspot.com", "www.blogspot.com", "www.www", "com"),  # a blog named www
        ("www.x.github.io", "x.github.io", "www.x", "io"),
        ("a.b.kawasaki.jp", "a.b.kawasaki.jp", "", "b.kawasaki.jp"),  # the rule *.kawasaki.jp
        ("www.city.kawasaki.jp", "city.kawasaki.jp", "www", "kawasaki.jp"),  # !city.kawasaki.jp
        ("www.co.uk", "www.co.uk", "", "co.uk"),
        ("www.x.y.compute.amazonaws.com", "x.y.compute.amazonaws.com", "www.x.y.compute", "com"),
    ],
)
def test_one_suffix_lookup_splits_hosts_under_wildcard_exception_and_private_rules(
    host, site, subdomain, suffix
):
    """The site, subdomain and public suffix all come from one lookup with the private
    section included (its registry suffix is the ICANN one): these are the rules where a
    lookup without it, or one of the host without its www label, could disagree."""
    parsed = parse_url(f"http://{host}/")
    assert (parsed.registered_domain, parsed.subdomain, parsed.suffix) == (site, subdomain, suffix)


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
        ("http://exa\x07mple.com/", "invisible or control character U+0007 in URL"),
        ("http://example.com/\x00", "invisible or control character U+0000 in URL"),
        ("http://example.com/a\x85b", "invisible or control character U+0085 in URL"),  # C1
        ("http://example.com/\u202egnp.exe", "invisible or control character U+202E in URL"),
        ("http://example.com/&#x202E;gnp.exe", "invisible or control character U+202E in URL"),
        ("http://pay\u200bpal.com/", "invisible or control character U+200B in URL"),
        ("http://example.com/a\u2028b", "invisible or control character U+2028 in URL"),
        ("http://example.com/\ufeffx", "invisible or control character U+FEFF in URL"),
        ("http://example.com/a\u00a0b", "invisible or control character U+00A0 in URL"),
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


FIVE_THOUSAND_DIGIT_PORT = "http://example.com:" + "9" * 5000 + "/"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("http://example.com:²/", "invalid port"),  # '²'.isdigit() but int('²') raises
        ("http://example.com:&#178;/", "invalid port"),  # the same, HTML-escaped
        ("http://x.com:¹²³/", "invalid port"),
        ("http://example.com:８０/", "invalid port"),  # fullwidth digits
        ("http://example.com：８０/", "invalid internationalised host name"),  # and colon
        ("http://example.com:٨٠/", "invalid port"),  # Arabic-Indic digits
        ("http://example.com:①/", "invalid port"),
        (FIVE_THOUSAND_DIGIT_PORT, "invalid port"),  # past int()'s 4,300-digit limit
        ("http://example.com:000080/", "invalid port"),  # more than 5 characters
        ("http://example.com:65536/", "invalid port"),
        ("http://[::1]:²/", "invalid port"),
        ("http://exa\ud800mple.com/", "invalid Unicode (lone surrogate) in URL"),
        ("http://example.com/\udfff", "invalid Unicode (lone surrogate) in URL"),
        ("http://\u0301x.com/", "invalid internationalised host name"),  # leading combining
        ("http://" + "ä" * 70 + ".com/", "invalid internationalised host name"),  # label > 63
    ],
)
def test_unicode_and_oversized_ports_and_hosts_are_url_errors(raw, reason):
    with pytest.raises(UrlError) as err:
        parse_url(raw)
    assert str(err.value) == reason


@pytest.mark.parametrize(
    ("raw", "port", "url"),
    [
        ("http://example.com:65535/", 65535, "http://example.com:65535/"),
        ("http://example.com:00080/", None, "http://example.com/"),  # 5 ASCII digits: 80
        ("http://example.com:08080/", 8080, "http://example.com:8080/"),
        ("http://example.com:0/", 0, "http://example.com/"),  # as before: kept, not printed
    ],
)
def test_ascii_ports_of_up_to_five_digits_still_parse(raw, port, url):
    parsed = parse_url(raw)
    assert (parsed.port, parsed.url) == (port, url)


# Every code point, lone surrogates included, and more often the kinds that look like
# digits or vanish in normalisation: superscripts (No), fullwidth and other decimal digits
# (Nd), combining marks (Mn, Mc, Me), fullwidth/compatibility punctuation.
DIGIT_LIKE = st.one_of(
    st.characters(categories=("Nd", "No")), st.sampled_from("0123456789²³¹⁰０８٣۵०①⒈𝟖")
)
ANY_CHARACTER = st.one_of(
    st.characters(codec=None),
    DIGIT_LIKE,
    st.characters(categories=("Mn", "Mc", "Me")),
    st.sampled_from("：．。｡＠／［］\u200c\u200dßςİK\ufffd\ud800\udfff"),
)
URL_BODY = st.one_of(
    st.text(ANY_CHARACTER, max_size=80),
    st.text(DIGIT_LIKE, min_size=1, max_size=8),  # what str.isdigit() lets through
    st.integers(4000, 6000).map(lambda n: "9" * n),  # past int()'s 4,300-digit limit
)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(
        ["", "http://", "https://", "http://example.com:", "http://[::1]:", "http://a."]
    ),
    URL_BODY,
    st.sampled_from(["", "/", ".com", ".com/x", ":80/"]),
)
def test_parser_raises_only_url_error_on_any_unicode(prefix, body, suffix):
    try:
        parsed = parse_url(prefix + body + suffix)
    except UrlError as err:
        assert str(err)  # a reason for the quarantine file
    else:
        assert parsed.host.isascii() and parsed.url.startswith(("http://", "https://"))
        assert parsed.port is None or 0 <= parsed.port <= 65535
