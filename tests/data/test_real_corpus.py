"""The whole pipeline on a sample of the real feeds in ../shared/data (skipped without it)."""

import itertools
import json

import pandas as pd
import pytest

from helpers.behaviour import (
    BRAND_IN_SUBDOMAIN,
    ORDINARY_GOOGLE_SITES,
    ORDINARY_PAGES,
    model_scorer,
    operating_threshold,
)
from helpers.paths import write_params
from helpers.stage_runner import run_data_stages, run_model_stages

pytestmark = [pytest.mark.slow, pytest.mark.real_data]

SAMPLE_LINES = 1500  # per file, header included
AUC_FLOOR = 0.90  # ROC AUC on the sample's domain-disjoint test split, after 2 epochs
SAMPLE_FILES = {  # a few months of each dated feed, every other feed and benign source
    "feeds/jpcert": ["201906.csv", "202103.csv", "202311.csv", "202412.csv"],
    "feeds/phishtank": ["online-valid-2018-11.csv", "online-valid-2020-05.csv"],
    "feeds/esdaung": ["phishtank-2021.txt"],
    "benign": ["iscx-url-2016-benign.txt", "citizenlab-test-lists.csv", "esdaung-2021-crawl.txt"],
}
# The sources added on 2026-12-06, sorted by date: every k-th line, so the sample spans
# their years and their newest months reach the temporal slice.
SPREAD_FILES = {
    "feeds/deepurlbench": ["deepurlbench-phishing.csv"],
    "feeds/openphish": ["openphish-2024-07-2025-02.csv"],
    "feeds/tweetfeed": ["tweetfeed-2021-08-2025-07.csv"],
    "benign": ["deepurlbench-benign.csv", "phishstorm-2014-legitimate.txt"],
}
NEW_SOURCES = {
    "deepurlbench-benign",
    "deepurlbench-phishing",
    "openphish-2024-07-2025-02",
    "tweetfeed-2021-08-2025-07",
    "phishstorm-2014-legitimate",
}
MAX_BENIGN_FPR = 0.10  # of each benign source's test URLs flagged at the operating threshold


def sample_lines(path, spread: bool) -> list[str]:
    """The header and the first SAMPLE_LINES - 1 lines, or as many spread over the file."""
    with path.open(encoding="utf-8", errors="replace") as src:
        if not spread:
            return list(itertools.islice(src, SAMPLE_LINES))
        lines = src.readlines()
    header = [] if path.suffix == ".txt" else lines[:1]
    body = lines[len(header) :]
    return header + body[:: max(1, len(body) // (SAMPLE_LINES - 1))][: SAMPLE_LINES - 1]


@pytest.fixture(scope="module")
def run(spark, shared_data, mlflow_store, tmp_path_factory):
    root = tmp_path_factory.mktemp("real-sample")
    for files, spread in ((SAMPLE_FILES, False), (SPREAD_FILES, True)):
        for folder, names in files.items():
            (root / "corpus" / folder).mkdir(parents=True, exist_ok=True)
            for name in names:
                lines = sample_lines(shared_data / folder / name, spread)
                (root / "corpus" / folder / name).write_text("".join(lines), encoding="utf-8")
    params = write_params(
        root / "params.yaml",
        **{"data.corpus": str(root / "corpus"), "train.epochs": 2, "train.batch_size": 256},
    )
    run_data_stages(root, params)
    return run_model_stages(root, params)


def test_real_sample_passes_the_gate(run):
    validate = json.loads((run / "reports" / "validate.json").read_text())
    assert validate["success"], validate["failed"]
    assert validate["raw_shortcuts"]["https_scheme"] > validate["shortcuts"]["starts_with_scheme"]


def test_real_sample_properties(run):
    ingest = json.loads((run / "reports" / "ingest.json").read_text())
    assert ingest["balanced"]
    assert ingest["rows_in"] > 10_000
    assert ingest["quarantined"] / ingest["rows_in"] < 0.01
    labelled = pd.read_parquet(run / "data" / "labelled")
    assert set(labelled["label"]) == {0, 1}
    assert labelled["url_key"].is_unique
    split = pd.read_parquet(run / "data" / "split")
    assert split.groupby("registered_domain")["split"].nunique().max() == 1
    assert {"train", "validation", "test", "temporal"} <= set(split["split"])


def test_real_sample_model_clears_the_auc_floor(run):
    metrics = json.loads((run / "metrics" / "evaluate.json").read_text())
    assert metrics["test"]["roc_auc"] >= AUC_FLOOR, metrics["test"]
    assert metrics["test"]["benign"] > 100 and metrics["test"]["phishing"] > 100


def test_real_sample_every_source_is_evaluated(run):
    sources = json.loads((run / "metrics" / "evaluate.json").read_text())["test"]["by_source"]
    expected = {"jpcert", "phishtank", "phishtank-2021", "esdaung-2021-crawl", "citizenlab"}
    assert expected | {"iscx-url-2016-benign"} | NEW_SOURCES <= set(sources)


def test_real_sample_temporal_slice_holds_both_classes_of_its_newest_months(run):
    split = json.loads((run / "reports" / "split.json").read_text())
    assert split["splits"]["temporal"]["benign"] > 0 and split["splits"]["temporal"]["phishing"] > 0
    cutoffs = split["temporal_cutoffs"]
    assert cutoffs["deepurlbench-benign"] < cutoffs["tweetfeed-2021-08-2025-07"]
    metrics = json.loads((run / "metrics" / "evaluate.json").read_text())
    assert "deepurlbench-benign" in metrics["temporal"]["by_source"]


def test_real_sample_model_rarely_flags_any_benign_source(run):
    by_source = json.loads((run / "metrics" / "evaluate.json").read_text())["test"]["by_source"]
    benign = {name: entry for name, entry in by_source.items() if entry["label"] == 0}
    assert len(benign) == 5
    for entry in benign.values():
        assert entry["n"] > 20
    flagged = {name: entry["fpr_at_operating"] for name, entry in benign.items()}
    assert {name: rate for name, rate in flagged.items() if rate >= MAX_BENIGN_FPR} == {}, flagged


@pytest.fixture(scope="module")
def score(run):
    return model_scorer(run)


@pytest.mark.parametrize("url", ORDINARY_PAGES)
def test_real_sample_model_passes_ordinary_pages_of_small_sites(run, score, url):
    assert score(url)[0] < operating_threshold(run)


@pytest.mark.parametrize("url", ORDINARY_GOOGLE_SITES)
def test_real_sample_model_passes_ordinary_google_sites(run, score, url):
    assert score(url)[0] < operating_threshold(run)


@pytest.mark.parametrize("url", BRAND_IN_SUBDOMAIN)
def test_real_sample_model_flags_a_brand_in_an_unrelated_subdomain(run, score, url):
    assert score(url)[0] >= operating_threshold(run)
