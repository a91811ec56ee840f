"""Bad input through the `angler` command: one clear error line, exit code 2, no traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.paths import FIXTURE_CORPUS, REPO_ROOT, write_params

pytestmark = pytest.mark.slow

ANGLER = str(Path(sys.executable).parent / "angler")


def run_ingest(tmp_path: Path, corpus: str) -> subprocess.CompletedProcess:
    params = write_params(tmp_path / "params.yaml", **{"data.corpus": corpus})
    return subprocess.run(
        [
            ANGLER,
            "ingest",
            "--params",
            str(params),
            "--out",
            str(tmp_path / "out"),
            "--quarantine",
            str(tmp_path / "q.csv"),
            "--report",
            str(tmp_path / "r.json"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "ANGLER_SPARK_LOG_LEVEL": "ERROR"},
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (None, "does not exist or is not a directory"),
        ({"feeds/jpcert/202401.csv": "date,URL,description\n"}, "202401.csv: empty feed"),
        (
            {"benign/list.csv": "site,kind\nhttp://a.example.com/,x\n"},
            "list.csv: unknown CSV header 'site,kind'",
        ),
    ],
)
def test_bad_corpus_stops_ingest_with_one_line(tmp_path, files, message):
    corpus = tmp_path / "corpus"
    for name, text in (files or {}).items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_text(text)
    result = run_ingest(tmp_path, str(corpus))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(error_lines) == 1 and error_lines[0].startswith("angler ingest: error: ")
    assert message in error_lines[0]
    assert not (tmp_path / "out").exists()


def test_bad_params_stop_the_stage(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text(
        (Path(FIXTURE_CORPUS).parents[2] / "params.yaml")
        .read_text()
        .replace("seed: 42", "seed: forty-two")
    )
    result = subprocess.run(
        [
            ANGLER,
            "split",
            "--params",
            str(params),
            "--labelled",
            "x",
            "--out",
            "y",
            "--report",
            "z",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "angler split: error: base.seed: expected int, got 'forty-two'"
    )


def test_report_against_an_unknown_base_is_one_line(tmp_path):
    result = subprocess.run(
        [ANGLER, "report", "--base", "no-such-branch", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "angler report: error: base revision 'no-such-branch' is not in this repository"
    ]


def test_a_wrong_corpus_fails_before_spark_starts(tmp_path, monkeypatch):
    import angler.data.spark
    from angler.data.feeds import CorpusError
    from angler.stages import ingest

    def no_spark(*args, **kwargs):
        raise AssertionError("Spark started before the corpus was checked")

    monkeypatch.setattr(angler.data.spark, "spark_session", no_spark)
    params = write_params(tmp_path / "params.yaml", **{"data.corpus": str(tmp_path / "none")})
    with pytest.raises(CorpusError, match="does not exist"):
        ingest.main(tmp_path / "out", tmp_path / "q.csv", tmp_path / "r.json", params)


def test_train_refuses_a_failed_data_gate_with_one_line(tmp_path):
    gate = tmp_path / "validate.json"
    gate.write_text(json.dumps({"success": False, "suites": {}}))
    result = subprocess.run(
        [ANGLER, "train", "--shards", str(tmp_path)]
        + ["--gate", str(gate), "--model", str(tmp_path / "m.keras")]
        + ["--report", str(tmp_path / "train.json"), "--params", str(REPO_ROOT / "params.yaml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"angler train: error: the data checks in {gate} failed; fix the data before training"
    )
    assert not (tmp_path / "m.keras").exists() and not (tmp_path / "train.json").exists()
