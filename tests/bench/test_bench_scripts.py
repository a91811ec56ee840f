"""Each benchmark script still runs, in its tiny mode. No timing is asserted."""

import json
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / name), *args], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_data_stages_benchmark_runs_tiny(tmp_path):
    out = tmp_path / "data_stages.json"
    result = run_script("data_stages.py", "--tiny", "--out", str(out))
    assert result.stdout.startswith("| data stages (fixture, local[2]) | 35 rows |")
    measured = json.loads(out.read_text())
    assert measured["rows_in"] == 35
    assert set(measured["stages"]) == {"ingest", "label", "split", "featurize"}
    assert measured["peak_rss_mib"] > 0


def test_inference_benchmark_runs_tiny(demo_run, tmp_path):
    description = json.loads((demo_run / "models" / "angler" / "model.json").read_text())
    model = demo_run / "models" / "angler" / str(description["version"])
    out = tmp_path / "inference.json"
    result = run_script(
        "inference.py",
        "--model",
        str(model),
        "--shards",
        str(demo_run / "data" / "shards"),
        "--tiny",
        "--out",
        str(out),
    )
    assert result.stdout.startswith("| SavedModel in process |")
    measured = json.loads(out.read_text())
    assert set(measured["urls_per_second"]) == {"1", "8", "64", "256", "1024", "4096"}
    assert 0 < measured["single_url_ms"]["p50"] <= measured["single_url_ms"]["p99"]


def test_baseline_benchmark_runs_tiny(demo_run, tmp_path):
    out = tmp_path / "baseline.json"
    result = run_script(
        "baseline.py",
        "--shards",
        str(demo_run / "data" / "shards"),
        "--max-train-rows",
        "2000",
        "--out",
        str(out),
    )
    assert "| char n-gram LR baseline | test |" in result.stdout
    assert json.loads(out.read_text())["test"]["roc_auc"] > 0.5


def test_model_run_collects_a_pipeline_run(demo_run, tmp_path):
    out = tmp_path / "model.json"
    result = run_script("model_run.py", "--run", str(demo_run), "--out", str(out))
    assert "| Angler model | test |" in result.stdout
    assert json.loads(out.read_text())["train_seconds"] > 0
