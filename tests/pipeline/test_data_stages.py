"""ingest -> validate on the committed fixture corpus, Spark local."""

import json

import pandas as pd
import pytest

from helpers.paths import FIXTURE_CORPUS, write_params
from helpers.stage_runner import run_data_stages

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("fixture-run")
    params = write_params(
        root / "params.yaml",
        **{
            "data.corpus": str(FIXTURE_CORPUS),
            "validate.min_rows": 10,
            "split.temporal_months": 1,
            "featurize.shards": 2,
        },
    )
    return run_data_stages(root, params)


def report(run, stage):
    return json.loads((run / "reports" / f"{stage}.json").read_text())


def test_ingest_counts_every_row(run):
    ingest = report(run, "ingest")
    assert ingest["rows_in"] == 35
    assert ingest["quarantined"] == 9
    assert ingest["duplicates"] == 1  # the upper-case :443 Amazon URL
    assert ingest["rows_out"] == 25
    assert ingest["balanced"] is True
    assert {f["file"]: f["rows"] for f in ingest["files"]}["benign/popular-sites.txt"] == 9


def test_quarantine_keeps_each_bad_row_with_its_reason(run):
    quarantine = pd.read_csv(run / "data" / "quarantine" / "ingest.csv", keep_default_na=False)
    assert list(quarantine.columns) == ["file", "source", "reason", "raw_url"]
    assert sorted(quarantine["reason"]) == sorted(
        [
            "empty URL",
            "empty URL",
            "host is a public suffix",
            "invalid host name",
            "invalid label 'maybe'",
            "repeated header row",
            "repeated header row",
            "unsupported scheme 'hhttps'",
            "unsupported scheme 'javascript'",
        ]
    )
    assert report(run, "ingest")["quarantine_reasons"]["repeated header row"] == 2
    row = quarantine[quarantine["reason"] == "invalid host name"].iloc[0]
    assert (row["file"], row["raw_url"]) == ("benign/popular-sites.txt", "not a url")


def test_ingest_normalises(run):
    urls = pd.read_parquet(run / "data" / "ingested").set_index("url_key")
    assert urls.loc["amaz0n-account.top/verify?id=1&t=2", "url"] == (
        "https://amaz0n-account.top/verify?id=1&t=2"
    )
    assert urls.loc["amaz0n-account.top/verify?id=1&t=2", "n_seen"] == 2
    assert "xn--pple-id-1fg.com/login" in urls.index  # Cyrillic а, punycoded
    assert "mufg-bank.jp.verify-acc.shop" in urls.index  # surrounding spaces stripped
    jst = urls.loc["paypal.com.secure-login.evil-host.xyz/signin", "seen_at"]
    assert jst == pd.Timestamp("2024-01-05 01:00:00")  # 10:00 JST in UTC


def test_label_joins_feeds_and_resolves_conflicts(run):
    label = report(run, "label")
    assert (label["rows_in"], label["rows_out"], label["merged"]) == (25, 24, 1)
    assert label["conflicts"] == 1
    labelled = pd.read_parquet(run / "data" / "labelled").set_index("url_key")
    conflict = labelled.loc["wikipedia.org/wiki/Login"]
    assert conflict["label"] == 1 and conflict["source"] == "phishtank"
    assert list(conflict["sources"]) == ["phishtank", "popular-sites"]
    assert labelled.loc["shop.example-store.com/cart", "label"] == 0  # label column
    assert labelled.loc["example-store-verify.top/login", "label"] == 1


def test_split_keeps_domains_disjoint_and_slices_the_newest_month(run):
    rows = pd.read_parquet(run / "data" / "split")
    assert rows.groupby("registered_domain")["split"].nunique().max() == 1
    temporal = set(rows.loc[rows["split"] == "temporal", "registered_domain"])
    assert temporal == {"replit.app", "login-check.icu"}  # first seen 2024-03
    assert rows.loc[rows["registered_domain"] == "evil-host.xyz", "split"].nunique() == 1
    assert report(run, "split")["temporal_cutoff"] == "2024-03-01T00:00:00"


def test_featurize_writes_features_and_shards(run):
    features = pd.read_parquet(run / "data" / "features")
    assert len(features) == 24
    ip = features.set_index("url_key").loc["181.214.58.104/login.php"]
    assert ip["is_ip_host"] == 1 and ip["n_suspicious_tokens"] >= 1
    shards = report(run, "featurize")["shards"]
    assert sum(shards.values()) == 24
    train = pd.read_parquet(run / "data" / "shards" / "train")
    assert list(train.columns) == ["url", "label", "source"]
    assert len(train) == shards["train"]


def test_validate_passes_and_writes_data_docs(run):
    validate = report(run, "validate")
    assert validate["success"] is True, validate["failed"]
    assert (run / "reports" / "data_docs" / "index.html").is_file()
