"""Where things are, and the small-demo params the pipeline tests share."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_CORPUS = REPO_ROOT / "tests" / "fixtures" / "corpus"
SHARED_DATA = Path(os.environ.get("ANGLER_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


# A demo corpus small enough for tests, with a model that still learns it.
SMALL_DEMO = {
    "data.demo_size": 4000,
    "validate.min_rows": 500,
    "train.epochs": 3,
    "train.batch_size": 128,
    "train.early_stopping_patience": 2,
    # A quarter of params.yaml's hash buckets: 4,000 URLs fill few of them, and the models
    # every pipeline test trains, evaluates and exports are a quarter of the size.
    "model.ngram_buckets": 262144,
    # A few hundred benign URLs per source: the 1% threshold chosen on validation does not
    # carry over to such a small test split, so the benign-source limits are loose here.
    "promote.max_worst_benign_fpr": 0.3,
    "promote.max_benign_fpr_increase": 0.3,
}
# main's params in the tests that play its history: fewer bootstrap draws for the verdict.
MAIN_PARAMS = {**SMALL_DEMO, "promote.bootstrap_samples": 300}


def write_params(path: Path, **overrides) -> Path:
    """The repository's params.yaml with `section.key` overrides, written to `path`."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        params[section][key] = value
    path.write_text(yaml.safe_dump(params), encoding="utf-8")
    return path
