"""Per-URL lexical features, computed from the model's text (`url_key`) and the parsed host.

Used for data checks, analysis and drift monitoring. One definition: Spark applies it in
`featurize`; the monitor (and the tests) call the same function.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Protocol

from angler.data.schema import FEATURE_COLUMNS, WWW_LABEL_RE

_SPECIAL = re.compile(r"[^a-z0-9./\-]", re.IGNORECASE)


class LexicalInput(Protocol):
    """What the features read of a parsed URL: a ParsedUrl, or a row of the split table."""

    url_key: str
    host: str
    subdomain: str
    suffix: str
    path: str
    query: str


def shannon_entropy(text: str) -> float:
    """Bits per character of `text` (0 for the empty string)."""
    if not text:
        return 0.0
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in Counter(text).values())


def lexical_features(
    url: LexicalInput, suspicious_tokens: tuple[str, ...]
) -> dict[str, float | int | str]:
    """The FEATURE_COLUMNS (angler.data.schema) of one parsed URL."""
    url_key, host, suffix, path, query = url.url_key, url.host, url.suffix, url.path, url.query
    lowered = url_key.lower()
    subdomain_labels = [label for label in url.subdomain.split(".") if label]
    if subdomain_labels and WWW_LABEL_RE.match(subdomain_labels[0]):
        subdomain_labels = subdomain_labels[1:]
    authority = url_key.split("/", 1)[0]
    features = {
        "url_length": len(url_key),
        "host_length": len(host),
        "path_length": len(path),
        "query_length": len(query),
        "n_digits": sum(ch.isdigit() for ch in url_key),
        "n_dots": url_key.count("."),
        "n_hyphens": url_key.count("-"),
        "n_special": len(_SPECIAL.findall(url_key)),
        "entropy": shannon_entropy(url_key),
        "is_ip_host": int(suffix == ""),
        "is_punycode": int("xn--" in host),
        "has_userinfo": int("@" in authority),
        "has_port": int(":" in authority.rsplit("]", 1)[-1]),
        "subdomain_depth": len(subdomain_labels),
        "path_depth": len([segment for segment in path.split("/") if segment]),
        "n_query_params": len([p for p in query.split("&") if p]) if query else 0,
        "n_suspicious_tokens": sum(token in lowered for token in suspicious_tokens),
        "tld": suffix.rsplit(".", 1)[-1] if suffix else "",
    }
    return {name: features[name] for name in FEATURE_COLUMNS}
