"""Every table's columns, the split names, the lexical features and the www rule, defined
once: the stages, the data checks, the monitor and the tests import them from here."""

from __future__ import annotations

import re

SPLITS = ("train", "validation", "test", "temporal")

# A leading `www`, `www2`, ... host label says how a feed wrote the URL, not where it points.
WWW_LABEL = r"www[0-9]*"
WWW_LABEL_RE = re.compile(rf"^{WWW_LABEL}$")
WWW_HOST_PATTERN = rf"^{WWW_LABEL}\."  # a host (or url_key) that starts with one

# The parsed URL as ingest stores it, with Spark types.
URL_FIELDS = (
    ("url", "string"),
    ("url_key", "string"),
    ("scheme", "string"),
    ("host", "string"),
    ("port", "int"),
    ("registered_domain", "string"),
    ("subdomain", "string"),
    ("suffix", "string"),
    ("path", "string"),
    ("query", "string"),
)
URL_COLUMNS = tuple(name for name, _ in URL_FIELDS)
INGESTED_COLUMNS = ("source", "label_hint", "seen_at", "n_seen", *URL_COLUMNS)
LABELLED_COLUMNS = (*URL_COLUMNS, "label", "source", "sources", "first_seen", "n_seen")
ID_COLUMNS = ("url", "url_key", "registered_domain", "source", "label", "split", "first_seen")
SHARD_COLUMNS = ("url", "label", "source")  # what the model reads

# Lexical features by kind; the kind sets the Spark type and the data check's bounds.
COUNT, FLAG, BITS = "count", "flag", "bits"
LEXICAL_FEATURES = {
    "url_length": COUNT,
    "host_length": COUNT,
    "path_length": COUNT,
    "query_length": COUNT,
    "n_digits": COUNT,
    "n_dots": COUNT,
    "n_hyphens": COUNT,
    "n_special": COUNT,
    "entropy": BITS,
    "is_ip_host": FLAG,
    "is_punycode": FLAG,
    "has_userinfo": FLAG,
    "has_port": FLAG,
    "subdomain_depth": COUNT,
    "path_depth": COUNT,
    "n_query_params": COUNT,
    "n_suspicious_tokens": COUNT,
}
NUMERIC_FEATURES = tuple(LEXICAL_FEATURES)
COUNT_FEATURES = tuple(name for name, kind in LEXICAL_FEATURES.items() if kind == COUNT)
FLAG_FEATURES = tuple(name for name, kind in LEXICAL_FEATURES.items() if kind == FLAG)
FEATURE_COLUMNS = (*NUMERIC_FEATURES, "tld")
FEATURE_TABLE_COLUMNS = (*ID_COLUMNS, *FEATURE_COLUMNS)
SPARK_TYPES = {COUNT: "int", FLAG: "int", BITS: "double"}


def feature_spark_type(name: str) -> str:
    return SPARK_TYPES[LEXICAL_FEATURES[name]] if name in LEXICAL_FEATURES else "string"
