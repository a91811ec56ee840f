import json

import numpy as np
import pandas as pd
import pytest

from angler.data.checks import folded_auc, run_data_checks
from angler.data.schema import FEATURE_TABLE_COLUMNS, LABELLED_COLUMNS
from angler.params import ValidateParams

SPLITS = ["train", "validation", "test", "temporal"]
N_ROWS = 48


PARAMS = ValidateParams(
    min_rows=20,
    min_phishing_share=0.3,
    max_phishing_share=0.7,
    min_url_length=10,
    max_duplicate_rate=0.05,
    max_shortcut_auc=0.8,
)
MAX_URL_LENGTH = 200


def make_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Half phishing, one registered domain per row, so every split has its own domains."""
    rows = range(N_ROWS)
    label = [i % 2 for i in rows]
    domain = [f"site{i}.com" for i in rows]
    host = [f"login.{d}" if y else d for d, y in zip(domain, label, strict=True)]
    url_key = [f"{h}/page{i}" for i, h in enumerate(host)]
    labelled = pd.DataFrame(
        {
            "url": [f"https://{key}" for key in url_key],
            "url_key": url_key,
            "host": host,
            "registered_domain": domain,
            "label": label,
            "sources": ["openphish,phishtank" if y else "tranco" for y in label],
            "first_seen": pd.to_datetime(["2024-05-01" if y else None for y in label]),
            "scheme": "https",
            "port": None,
            "subdomain": ["login" if y else "" for y in label],
            "suffix": "com",
            "path": [f"/page{i}" for i in rows],
            "query": "",
            "source": ["phishtank" if y else "tranco" for y in label],
            "n_seen": 1,
        }
    )
    features = labelled[["url", "url_key", "registered_domain", "source", "label"]].assign(
        first_seen=labelled["first_seen"],
        split=[SPLITS[(i // 2) % len(SPLITS)] for i in rows],
        url_length=[len(key) for key in url_key],
        host_length=[len(h) for h in host],
        path_length=6,
        query_length=0,
        n_digits=1,
        n_dots=labelled["host"].str.count(r"\."),
        n_hyphens=0,
        n_special=1,
        entropy=3.5,
        is_ip_host=0,
        is_punycode=0,
        has_userinfo=0,
        has_port=0,
        subdomain_depth=label,
        path_depth=1,
        n_query_params=0,
        n_suspicious_tokens=label,
        tld="com",
    )
    assert set(LABELLED_COLUMNS) <= set(labelled) and set(FEATURE_TABLE_COLUMNS) <= set(features)
    return labelled, features


def label_two(labelled, features):
    labelled.loc[0, "label"] = 2


def domain_in_train_and_test(labelled, features):
    test_row = features.index[features["split"] == "test"][0]
    features.loc[test_row, "registered_domain"] = features.loc[0, "registered_domain"]


def duplicated_url_keys(labelled, features):
    labelled.loc[:4, "url_key"] = labelled.loc[0, "url_key"]


def all_phishing(labelled, features):
    labelled["label"] = 1


def www_shortcut(labelled, features):
    phishing_in_train = (features["split"] == "train") & (features["label"] == 1)
    features.loc[phishing_in_train, "url_key"] = "www." + features["url_key"]


def upper_case_shortcut(labelled, features):
    benign_in_train = (features["split"] == "train") & (features["label"] == 0)
    features.loc[benign_in_train, "url_key"] = features["url_key"].str.replace("page", "Page")


def bare_host_shortcut(labelled, features):
    phishing_in_train = (features["split"] == "train") & (features["label"] == 1)
    features.loc[phishing_in_train, "url_key"] = features["url_key"].str.split("/").str[0]


def long_url(labelled, features):
    labelled.loc[0, "url"] = "https://example.com/" + "a" * 300


@pytest.mark.parametrize(
    ("breakage", "expected_failure"),
    [
        (label_two, "labelled: expect_column_values_to_be_in_set on labelled.label"),
        (
            domain_in_train_and_test,
            "features: expect_column_values_to_be_between on domain_splits.n_splits",
        ),
        (
            duplicated_url_keys,
            "labelled: expect_column_proportion_of_unique_values_to_be_between on labelled.url_key",
        ),
        (all_phishing, "labelled: expect_column_mean_to_be_between on labelled.label"),
        (www_shortcut, "features: expect_column_values_to_be_between on shortcut_aucs.auc"),
        (upper_case_shortcut, "features: expect_column_values_to_be_between on shortcut_aucs.auc"),
        (bare_host_shortcut, "features: expect_column_values_to_be_between on shortcut_aucs.auc"),
        (long_url, "labelled: expect_column_value_lengths_to_be_between on labelled.url"),
    ],
)
def test_broken_table_fails_the_named_expectation(tmp_path, breakage, expected_failure):
    labelled, features = make_tables()
    breakage(labelled, features)

    report = run_data_checks(labelled, features, PARAMS, MAX_URL_LENGTH, tmp_path / "docs")

    assert report["success"] is False
    assert any(line.startswith(expected_failure) for line in report["failed"]), report["failed"]


def test_leaked_domain_and_shortcut_are_named(tmp_path):
    labelled, features = make_tables()
    domain_in_train_and_test(labelled, features)
    www_shortcut(labelled, features)

    report = run_data_checks(labelled, features, PARAMS, MAX_URL_LENGTH, tmp_path / "docs")

    assert report["shortcuts"]["starts_with_www"] == 1.0
    failed = "\n".join(report["failed"])
    assert "site0.com" in failed
    assert "starts_with_www" in failed


def test_clean_tables_pass_every_expectation(tmp_path):
    labelled, features = make_tables()

    report = run_data_checks(labelled, features, PARAMS, MAX_URL_LENGTH, tmp_path / "docs")

    assert report["failed"] == []
    assert report["success"] is True
    results = [r for suite in report["suites"].values() for r in suite["results"]]
    assert results and all(r["success"] for r in results)
    assert set(report["shortcuts"]) == {
        "starts_with_scheme",
        "starts_with_www",
        "trailing_slash",
        "upper_case",
        "bare_host",
    }
    assert set(report["raw_shortcuts"]) == {"https_scheme", "www_host"}
    assert (tmp_path / "docs" / "index.html").is_file()
    assert report["data_docs"] == str(tmp_path / "docs" / "index.html")
    json.dumps(report)


def test_upper_case_in_a_percent_escape_is_not_case(tmp_path):
    labelled, features = make_tables()
    benign_in_train = (features["split"] == "train") & (features["label"] == 0)
    features.loc[benign_in_train, "url_key"] = features["url_key"] + "%2F%3a"

    report = run_data_checks(labelled, features, PARAMS, MAX_URL_LENGTH, tmp_path / "docs")

    assert report["shortcuts"]["upper_case"] == 0.5


def test_folded_auc():
    labels = np.array([0, 0, 0, 1, 1, 1])
    assert folded_auc([0, 0, 0, 1, 1, 1], labels) == 1.0
    assert folded_auc([1, 1, 1, 0, 0, 0], labels) == 1.0
    assert folded_auc([7, 7, 7, 7, 7, 7], labels) == 0.5
    assert folded_auc([1, 0, 1], [1, 1, 1]) == 0.5
    assert 0.5 < folded_auc([0.1, 0.4, 0.35, 0.8, 0.2, 0.9], labels) < 1.0
