"""Normalise and parse one raw URL string.

Pure Python, so the Spark `ingest` stage (through `mapInPandas`), the tests and any notebook
share one definition. Every failure is a `UrlError` whose message is the quarantine reason.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import unicodedata
from dataclasses import dataclass

import idna
import tldextract

from angler.data.schema import WWW_LABEL_RE

SCHEMES = {"http": 80, "https": 443}

_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]{1,7}|#x[0-9a-f]{1,6});", re.IGNORECASE)
_NAMED_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)
# "mailto:x" or "javascript:..." but not "example.com:8080/"
_OPAQUE_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):(?![0-9])", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters a reader cannot see or that reorder what they see: controls (C0, C1), format
# characters (bidi controls, zero-width, soft hyphen, BOM), line and paragraph separators and
# spaces other than the ASCII one (which becomes %20). A URL holding one is quarantined, never
# cleaned: `paypal.com<U+202E>` displayed is not what a browser fetches.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Zs"}
# Lone surrogates: not encodable as UTF-8, so no Parquet or CSV writer could keep the row.
_SURROGATE = re.compile("[\ud800-\udfff]")
# ASCII digits only (`str.isdigit` also accepts "²", "٣" and "８", which `int` rejects or
# reads as other digits), and at most 5 of them, so `int` never sees a 5,000-digit string.
_PORT = re.compile(r"[0-9]{1,5}")
_HOST_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


class UrlError(ValueError):
    """A raw string that is not a usable web URL; the message is the quarantine reason."""


@dataclass(frozen=True)
class ParsedUrl:
    url: str  # the normalised URL, scheme included
    url_key: str  # the model's text: no scheme, no leading www., no trailing slash
    scheme: str
    userinfo: str
    host: str  # lower-case ASCII (IDNA) host, or an IP address
    port: int | None  # None for the scheme's default port
    registered_domain: str  # e.g. example.co.uk, name.blogspot.com; the IP for IP hosts
    subdomain: str
    suffix: str  # public suffix, "" for IP hosts
    path: str
    query: str
    fragment: str

    @property
    def is_ip(self) -> bool:
        return self.suffix == ""


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # The bundled Public Suffix List snapshot: no network at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def unescape_entities(text: str) -> str:
    """Undo HTML escaping of the kind feeds scraped from web pages carry (`&amp;`, `&#47;`).

    Only entities with a closing semicolon: `html.unescape` would also turn a query such as
    `?a=1&copy=2` into `?a=1©=2`. Applied twice for double-escaped `&amp;amp;`.
    """
    for _ in range(2):
        if "&" not in text:
            break
        text = _ENTITY.sub(_entity_char, text)
    return text


def _entity_char(match: re.Match) -> str:
    name = match.group(1).lower()
    if name in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[name]
    code = int(name[2:], 16) if name.startswith("#x") else int(name[1:])
    if code < 32 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return match.group(0)
    return chr(code)


def unparseable_reason(err: Exception) -> str:
    """The quarantine reason for a row whose parse raised something other than `UrlError`:
    a parser bug, which the stages (ingest, monitor) turn into one quarantined row."""
    return f"unparseable URL ({type(err).__name__})"


def parse_url(raw: str | None, max_length: int = 8192) -> ParsedUrl:
    """Normalise `raw` and split it into its parts, or raise `UrlError` with the reason."""
    if raw is None or not raw.strip():
        raise UrlError("empty URL")
    if len(raw) > max_length:
        raise UrlError(f"URL longer than {max_length} characters")
    text = unescape_entities(raw.strip())
    if _SURROGATE.search(text):
        raise UrlError("invalid Unicode (lone surrogate) in URL")
    invisible = invisible_character(text)
    if invisible is not None:
        raise UrlError(f"invisible or control character U+{ord(invisible):04X} in URL")
    text = text.replace(" ", "%20")

    scheme_match = _SCHEME.match(text)
    if scheme_match:
        scheme = scheme_match.group(1).lower()
        rest = text[scheme_match.end() :]
    else:
        opaque = _OPAQUE_SCHEME.match(text)
        if opaque:
            raise UrlError(f"unsupported scheme '{opaque.group(1).lower()[:20]}'")
        scheme, rest = "http", text
    if scheme not in SCHEMES:
        raise UrlError(f"unsupported scheme '{scheme[:20]}'")

    authority, tail = _split_authority(rest)
    userinfo, _, hostport = authority.rpartition("@")
    host, port = _split_port(hostport)
    if port == SCHEMES[scheme]:
        port = None
    host, is_ip = _normalise_host(host)
    path, query, fragment = _split_tail(tail)
    registered_domain, subdomain, suffix = _domain_parts(host, is_ip)

    netloc = (f"{userinfo}@" if userinfo else "") + host + (f":{port}" if port else "")
    rest_of_url = path + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")
    key_host = _without_www(host, subdomain)
    key_netloc = (f"{userinfo}@" if userinfo else "") + key_host + (f":{port}" if port else "")
    key_rest = (
        path.rstrip("/") + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")
    )
    return ParsedUrl(
        url=f"{scheme}://{netloc}{rest_of_url}",
        url_key=key_netloc + key_rest,
        scheme=scheme,
        userinfo=userinfo,
        host=host,
        port=port,
        registered_domain=registered_domain,
        subdomain=subdomain,
        suffix=suffix,
        path=path,
        query=query,
        fragment=fragment,
    )


def invisible_character(text: str) -> str | None:
    """The first control, format or separator character of `text` (but the ASCII space)."""
    control = _CONTROL.search(text)
    if control:
        return control.group()
    if text.isascii():
        return None
    return next(
        (ch for ch in text if ch != " " and unicodedata.category(ch) in _INVISIBLE_CATEGORIES),
        None,
    )


def _split_authority(rest: str) -> tuple[str, str]:
    cut = len(rest)
    for sep in "/?#\\":
        pos = rest.find(sep)
        if pos != -1:
            cut = min(cut, pos)
    return rest[:cut], rest[cut:]


def _split_port(hostport: str) -> tuple[str, int | None]:
    if hostport.startswith("["):
        end = hostport.find("]")
        if end == -1:
            raise UrlError("unclosed IPv6 bracket in host")
        host, after = hostport[: end + 1], hostport[end + 1 :]
        if after and not after.startswith(":"):
            raise UrlError("invalid characters after IPv6 host")
        port_text = after[1:]
    else:
        host, _, port_text = hostport.partition(":")
    if not port_text:
        return host, None
    if not _PORT.fullmatch(port_text) or int(port_text) > 65535:
        raise UrlError("invalid port")
    return host, int(port_text)


def _normalise_host(host: str) -> tuple[str, bool]:
    host = host.rstrip(".")
    if not host:
        raise UrlError("missing host")
    if host.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]", True
        except ValueError:
            raise UrlError("invalid IPv6 host") from None
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (UnicodeError, ValueError, IndexError):  # idna.IDNAError is a UnicodeError
            raise UrlError("invalid internationalised host name") from None
    host = host.lower()
    if re.fullmatch(r"[0-9.]+", host):
        try:
            return str(ipaddress.IPv4Address(host)), True
        except ValueError:
            raise UrlError("invalid IPv4 host") from None
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in host.split(".")):
        raise UrlError("invalid host name")
    return host, False


def _split_tail(tail: str) -> tuple[str, str, str]:
    before_fragment, _, fragment = tail.partition("#")
    path, _, query = before_fragment.partition("?")
    return path.replace("\\", "/") or "/", query, fragment


def _domain_parts(host: str, is_ip: bool) -> tuple[str, str, str]:
    """The site (`_site`), subdomain and public suffix of `host`, from one suffix lookup."""
    if is_ip:
        return host, "", ""
    try:
        parts = _extractor()(host, include_psl_private_domains=True)
    except (UnicodeError, ValueError, IndexError):  # e.g. an undecodable xn-- label
        raise UrlError("host not understood by the public suffix lookup") from None
    suffix = parts.registry_suffix  # the ICANN section's suffix: co.uk, not blogspot.co.uk
    if not suffix:
        raise UrlError("host has no public suffix")
    labels = host.split(".")
    before_suffix = len(labels) - suffix.count(".") - 2  # the index of the domain label
    if before_suffix < 0:
        raise UrlError("host is a public suffix")
    subdomain = ".".join(labels[:before_suffix])
    site_host = _without_www(host, subdomain)
    # The lookup above read `host` with its www label: that gives `site_host`'s site too,
    # unless the www label is the private lookup's domain (www.blogspot.com).
    if site_host == host or parts.subdomain:
        site = f"{parts.domain}.{parts.suffix}" if parts.domain else host
    else:
        site = _site(site_host)
    return site, subdomain, suffix


def _without_www(host: str, subdomain: str) -> str:
    """The host without a leading www label, where that label is part of the subdomain."""
    first_label = subdomain.split(".", 1)[0]
    return host[len(first_label) + 1 :] if subdomain and WWW_LABEL_RE.match(first_label) else host


def _site(host: str) -> str:
    """The registered domain, with the private section of the Public Suffix List counted as
    suffixes: each blog on blogspot.com, host on duckdns.org or app on workers.dev is a site
    of its own, not one site with millions of owners. A host that is itself a private
    suffix (blogspot.com, an EC2 host name) is its own site."""
    parts = _extractor()(host, include_psl_private_domains=True)
    return f"{parts.domain}.{parts.suffix}" if parts.domain else host
