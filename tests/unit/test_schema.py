"""One schema: the data gate checks every lexical feature, and every table follows it."""

from __future__ import annotations

import great_expectations.expectations as gxe

from angler.data import schema
from angler.data.checks import feature_expectations
from angler.data.features import lexical_features
from angler.data.urls import parse_url

BOUNDS = (gxe.ExpectColumnValuesToBeBetween, gxe.ExpectColumnValuesToBeInSet)


def bounded_columns(expectations) -> set[str]:
    return {e.column for e in expectations if isinstance(e, BOUNDS)}


def typed_columns(expectations) -> set[str]:
    return {e.column for e in expectations if isinstance(e, gxe.ExpectColumnValuesToBeInTypeList)}


def test_the_gate_bounds_and_types_every_lexical_feature():
    expectations = feature_expectations()
    assert set(schema.NUMERIC_FEATURES) <= bounded_columns(expectations)
    assert set(schema.NUMERIC_FEATURES) <= typed_columns(expectations)


def test_a_feature_the_gate_does_not_check_is_found():
    """The check above can fail: drop one feature's expectations and exactly that feature
    is what the comparison reports missing, for bounds and for types."""
    unchecked = [e for e in feature_expectations() if getattr(e, "column", "") != "has_port"]
    assert set(schema.NUMERIC_FEATURES) - bounded_columns(unchecked) == {"has_port"}
    assert set(schema.NUMERIC_FEATURES) - typed_columns(unchecked) == {"has_port"}


def test_every_feature_has_a_kind_with_a_spark_type():
    assert set(schema.LEXICAL_FEATURES.values()) <= set(schema.SPARK_TYPES)
    assert schema.feature_spark_type("entropy") == "double"
    assert schema.feature_spark_type("tld") == "string"


def test_lexical_features_give_exactly_the_schema_columns_in_order():
    features = lexical_features(parse_url("http://user@shop.example.com:8080/a?b=1"), ("shop",))
    assert tuple(features) == schema.FEATURE_COLUMNS
    assert features["has_userinfo"] == features["has_port"] == 1
    assert features["query_length"] == 3


def test_the_www_rule():
    assert schema.WWW_LABEL_RE.match("www2")
    assert not schema.WWW_LABEL_RE.match("wwwx")
    assert parse_url("http://www3.example.com/a/").url_key == "example.com/a"
