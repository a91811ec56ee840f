"""The data gate can fail: a corpus with no benign URLs stops the pipeline at validate."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.paths import FIXTURE_CORPUS, write_params
from helpers.stage_runner import run_data_stages

pytestmark = pytest.mark.slow


def test_gate_fails_on_a_corpus_without_benign_urls(spark, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS / "feeds", corpus / "feeds")
    (corpus / "feeds" / "custom" / "labelled.csv").unlink()  # its one benign row
    params = write_params(
        tmp_path / "params.yaml", **{"data.corpus": str(corpus), "validate.min_rows": 5}
    )
    run_data_stages(tmp_path, params, through="featurize")

    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "angler"),
            "validate",
            "--params",
            str(params),
            "--labelled",
            "data/labelled",
            "--features",
            "data/features",
            "--report",
            "reports/validate.json",
            "--docs",
            "reports/data_docs",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "expect_column_mean_to_be_between on labelled.label" in result.stderr
    report = json.loads((tmp_path / "reports" / "validate.json").read_text())
    assert report["success"] is False
    assert (
        report["failed"] == [line for line in report["failed"] if "labelled.label" in line]
        and len(report["failed"]) == 1
    )
    assert (tmp_path / "reports" / "data_docs" / "index.html").is_file()
