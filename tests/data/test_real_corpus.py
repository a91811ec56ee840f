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
CRAWL = "esdaung-2021-crawl"  # ordinary web sites of every kind
MAX_CRAWL_FPR = 0.10  # of its held-out test URLs flagged at the operating threshold


@pytest.fixture(scope="module")
def run(spark, shared_data, mlflow_store, tmp_path_factory):
    root = tmp_path_factory.mktemp("real-sample")
    for folder, names in SAMPLE_FILES.items():
        (root / "corpus" / folder).mkdir(parents=True)
        for name in names:
            with (shared_data / folder / name).open(encoding="utf-8", errors="replace") as src:
                head = list(itertools.islice(src, SAMPLE_LINES))
            (root / "corpus" / folder / name).write_text("".join(head), encoding="utf-8")
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
    expected = {"jpcert", "phishtank", "phishtank-2021", CRAWL, "citizenlab"}
    assert expected | {"iscx-url-2016-benign"} <= set(sources)


def test_real_sample_model_rarely_flags_ordinary_sites(run):
    metrics = json.loads((run / "metrics" / "evaluate.json").read_text())
    crawl = metrics["test"]["by_source"][CRAWL]
    assert crawl["n"] > 50
    assert crawl["fpr_at_operating"] < MAX_CRAWL_FPR, metrics["test"]["by_source"]


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
