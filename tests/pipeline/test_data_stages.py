"""ingest -> validate on the committed fixture corpus, Spark local."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from angler.data.urls import invisible_character

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
    assert jst == pd.Timestamp("2024-01-05 01:00:00", tz="UTC")  # 10:00 JST


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


def test_split_keeps_domains_disjoint_and_slices_each_sources_newest_month(run):
    rows = pd.read_parquet(run / "data" / "split")
    assert rows.groupby("registered_domain")["split"].nunique().max() == 1
    temporal = set(rows.loc[rows["split"] == "temporal", "registered_domain"])
    # Each dated source's own newest month: JPCERT's 2024-03 (replit.app is a private
    # suffix: the site is the app), PhishTank's 2024-02, the labelled CSV's 2024-01 and
    # Citizen Lab's 2017-03, benign, so the slice holds both classes.
    assert temporal == {
        "pay-paypay-ne-jp-x1.replit.app",
        "login-check.icu",
        "secure-bank-login.com",
        "weebly.com",
        "[2001:db8::1]",
        "example-store-verify.top",
        "01net.com",
    }
    # evil-host.xyz has a JPCERT URL from 2024-01; wikipedia.org, listed by PhishTank in
    # 2024-02, is on an undated benign list too, so it may be of any age.
    assert "evil-host.xyz" not in temporal and "wikipedia.org" not in temporal
    assert set(rows.loc[rows["split"] == "temporal", "label"]) == {0, 1}
    assert report(run, "split")["temporal_cutoffs"] == {
        "citizenlab": "2017-03-01T00:00:00",
        "jpcert": "2024-03-01T00:00:00",
        "labelled": "2024-01-01T00:00:00",
        "phishtank": "2024-02-01T00:00:00",
    }


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


def hostile_urls(seed: int = 11, n: int = 40) -> list[str]:
    """URLs that once stopped ingest, and a seeded fuzz of superscript, fullwidth and other
    digit-like characters and combining marks in the port and the host."""
    pool = list("0123456789²³¹⁰０８９٣۵०①⒈𝟖\u0300\u0301\u0308\u20ddｅｘ：．")
    rng = np.random.default_rng(seed)
    fuzzed = []
    for i in range(n):
        text = "".join(rng.choice(pool, rng.integers(1, 9)))
        fuzzed.append(f"http://example.com:{text}²/" if i % 2 else f"http://{text}.com/a")
    return ["http://example.com:²/", "http://example.com:" + "9" * 5000 + "/", *fuzzed]


def test_ingest_quarantines_unicode_ports_and_hosts_and_balances(spark, tmp_path):
    from angler.data.urls import UrlError, parse_url
    from angler.stages import ingest

    good = ["http://example.com/", "https://shop.example.org:8443/cart", "http://example.com:80"]
    lines = good + hostile_urls()
    corpus = tmp_path / "corpus"
    (corpus / "feeds").mkdir(parents=True)
    (corpus / "feeds" / "hostile.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected, keys = [], set()
    for raw in lines:
        try:
            keys.add(parse_url(raw).url_key)
        except UrlError as err:
            expected.append((raw, str(err)))
    assert ("http://example.com:²/", "invalid port") in expected
    assert ("http://example.com:" + "9" * 5000 + "/", "invalid port") in expected
    assert sum(reason == "invalid port" for _, reason in expected) == 22

    params = write_params(tmp_path / "params.yaml", **{"data.corpus": str(corpus)})
    out, quarantine, report_path = tmp_path / "out", tmp_path / "q.csv", tmp_path / "r.json"
    ingest.main(out, quarantine, report_path, params)

    result = json.loads(report_path.read_text())
    rows = pd.read_csv(quarantine, keep_default_na=False, dtype=str)
    assert sorted(zip(rows["raw_url"], rows["reason"], strict=True)) == sorted(expected)
    assert result["rows_in"] == len(lines)
    assert result["quarantined"] == len(expected)
    assert result["rows_out"] == len(keys) == pd.read_parquet(out)["url_key"].nunique()
    assert result["duplicates"] == len(lines) - len(expected) - len(keys)
    assert result["balanced"] is True
    assert result["quarantine_reasons"]["invalid port"] == 22


def ingest_corpus_files(tmp_path, files: dict[str, bytes]) -> tuple[dict, pd.DataFrame, Path]:
    """Write `files` (path under the corpus: bytes) and run the ingest stage on them."""
    from angler.stages import ingest

    corpus = tmp_path / "corpus"
    for name, data in files.items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_bytes(data)
    params = write_params(tmp_path / "params.yaml", **{"data.corpus": str(corpus)})
    out, quarantine, report_path = tmp_path / "out", tmp_path / "q.csv", tmp_path / "r.json"
    ingest.main(out, quarantine, report_path, params)
    rows = pd.read_csv(quarantine, keep_default_na=False, dtype=str)
    return json.loads(report_path.read_text()), rows, out


def test_invalid_utf8_and_broken_quoting_are_quarantined_with_their_reason(spark, tmp_path):
    """The attacks of issue 28: one invalid byte stopped ingest on a URL list, and in a CSV it
    became U+FFFD in a URL that was kept; an unterminated quote glued fields into the URL; a
    file named with %20 counted 0 rows."""
    result, rows, out = ingest_corpus_files(
        tmp_path,
        {
            "benign/list.txt": b"http://good.example.com/\nhttp://bad.example.com/\xff\xfe\n",
            "feeds/a%20b.csv": b"url,label,date\n"
            b"http://fine.example.org/,phishing,2024-01-01\n"
            b"http://byte.example.org/\xc3(,phishing,2024-01-02\n"
            b'"http://glued.example.org/x,phishing,2024-01-03\n'
            b'"http://quoted.example.org/"x,phishing,2024-01-04\n'
            b"http://rtl.example.org/\xe2\x80\xaegnp.exe,phishing,2024-01-05\n",
        },
    )
    reasons = dict(zip(rows["raw_url"], rows["reason"], strict=True))
    assert reasons == {
        "http://bad.example.com/\ufffd\ufffd": "invalid UTF-8",
        "http://byte.example.org/\ufffd(": "invalid UTF-8",
        '"http://glued.example.org/x,phishing,2024-01-03': "malformed CSV row",
        '"http://quoted.example.org/"x': "malformed CSV quoting",
        "http://rtl.example.org/\u202egnp.exe": "invisible or control character U+202E in URL",
    }
    assert {f["file"]: f["rows"] for f in result["files"]} == {
        "benign/list.txt": 2,
        "feeds/a%20b.csv": 5,
    }
    assert set(rows["file"]) == {"benign/list.txt", "feeds/a%20b.csv"}
    assert result["rows_in"] == 7 and result["quarantined"] == 5 and result["balanced"] is True
    assert sorted(pd.read_parquet(out)["url_key"]) == ["fine.example.org", "good.example.com"]


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(st.binary(min_size=1, max_size=60), min_size=1, max_size=40))
def test_ingest_of_any_bytes_balances_and_keeps_only_valid_text(spark, tmp_path_factory, lines):
    tmp_path = tmp_path_factory.mktemp("fuzz")
    body = b"\n".join(b"http://example.com/" + line.replace(b"\n", b"") for line in lines)
    csv = b"url,label\n" + b"\n".join(line.replace(b"\n", b"") + b",1" for line in lines)
    result, rows, out = ingest_corpus_files(
        tmp_path, {"feeds/fuzz.txt": body + b"\n", "feeds/fuzz.csv": csv + b"\n"}
    )
    assert result["balanced"] is True
    assert result["rows_in"] == sum(f["rows"] for f in result["files"])
    kept = pd.read_parquet(out)
    assert not kept["url"].str.contains("\ufffd").any()
    assert not kept["url"].map(invisible_character).notna().any()


def test_an_unexpected_parser_error_quarantines_only_that_row(monkeypatch):
    import angler.data.ingest

    real_parse = angler.data.ingest.parse_url

    def buggy(raw, max_length):
        if raw == "http://bug.example.com/":
            raise RecursionError("parser bug")
        return real_parse(raw, max_length)

    monkeypatch.setattr(angler.data.ingest, "parse_url", buggy)
    batch = pd.DataFrame(
        {
            "raw_url": ["http://example.com/", "http://bug.example.com/", "url"],
            "reason": [None, None, "repeated header row"],
        }
    )
    out = angler.data.ingest._parse_batch(batch, 8192)
    assert out["reason"].tolist() == [
        None,
        "unparseable URL (RecursionError)",
        "repeated header row",
    ]
    assert out["url_key"].tolist() == ["example.com", None, None]


def test_a_sample_of_the_sites_keeps_every_split(spark):
    """data.sample_fraction keeps whole sites by a seeded hash; the split hashes the same
    sites with the same seed, so the two must not be the same hash: a quarter of the sites
    would then be all test and validation, and training would have nothing."""
    from pyspark.sql import functions as F

    from angler.data.ingest import site_share
    from angler.data.splits import assign_splits
    from angler.params import SplitParams

    sites = spark.range(4000).select(
        F.concat(F.lit("site"), F.col("id").cast("string"), F.lit(".com")).alias(
            "registered_domain"
        ),
        F.lit(None).cast("timestamp").alias("first_seen"),
        F.lit("list").alias("source"),
    )
    kept = sites.where(site_share(42) < 0.25)
    split = assign_splits(kept, SplitParams(0.1, 0.2, 3), 42, {}).toPandas()
    shares = split["split"].value_counts(normalize=True)
    assert 0.2 < len(split) / 4000 < 0.3
    assert shares["train"] == pytest.approx(0.7, abs=0.06), shares
    assert shares["test"] == pytest.approx(0.2, abs=0.06), shares


def test_a_table_is_one_sorted_file_of_the_same_bytes_however_spark_splits_it(spark, tmp_path):
    """write_table sorts with Arrow after Spark's parallel write: the number and order of
    Spark's parts must not reach the file, or dvc.lock would change with the cluster."""
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F

    from angler.data.spark import write_table

    rows = spark.range(5000).select(
        F.sha2(F.col("id").cast("string"), 256).alias("url_key"),
        (F.col("id") % 7).cast("int").alias("label"),
    )
    written = {}
    for parts in (1, 5):
        out = tmp_path / f"parts-{parts}"
        write_table(rows.repartition(parts), out, ["url_key"])
        assert [file.name for file in out.iterdir()] == ["part-00000.parquet"]
        written[parts] = (out / "part-00000.parquet").read_bytes()
    assert written[1] == written[5]
    keys = pq.read_table(tmp_path / "parts-5")["url_key"].to_pylist()
    assert keys == sorted(keys) and len(keys) == 5000
