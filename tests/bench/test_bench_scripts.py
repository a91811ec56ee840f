"""Each benchmark script still runs, in its tiny mode. No timing is asserted."""

import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from angler.cli import STAGES
from angler.data.schema import NUMERIC_FEATURES
from angler.orchestration import stage_graph
from angler.params import load_params

from helpers.paths import REPO_ROOT

pytestmark = pytest.mark.slow


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / name), *args], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def refusal(name: str, *args: str) -> str:
    """The one line a script exits 2 with on a bad argument."""
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "bench" / name), *args], capture_output=True, text=True
    )
    assert result.returncode == 2, result.stderr[-2000:]
    return result.stderr.splitlines()[-1]


def test_data_stages_benchmark_runs_tiny(tmp_path):
    out = tmp_path / "data_stages.json"
    result = run_script("data_stages.py", "--tiny", "--out", str(out))
    assert result.stdout.startswith("| data stages (fixture, local[2], x1) | 35 rows |")
    measured = json.loads(out.read_text())
    assert measured["rows_in"] == 35
    assert set(measured["stages"]) == {"ingest", "label", "split", "featurize", "validate"}
    assert measured["peak_rss_mib"] > 0


def test_shadow_traffic_benchmark_runs_tiny(demo_run, tmp_path):
    out = tmp_path / "shadow.json"
    result = run_script(
        "shadow_traffic.py",
        *("--store", str(demo_run / "models" / "angler")),
        *("--features", str(demo_run / "data" / "features")),
        *("--tiny", "--out", str(out)),
    )
    assert result.stdout.startswith("| shadow run, 2,000 served URLs |")
    measured = json.loads(out.read_text())
    assert measured["urls"] == 2000 and set(measured["seconds"]) == {
        "read",
        "score",
        "summarise",
        "total",
    }
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

    against = tmp_path / "against.json"
    result = run_script(
        "inference.py",
        *("--model", str(model), "--against", str(model)),
        *("--shards", str(demo_run / "data" / "shards"), "--tiny", "--out", str(against)),
    )
    assert result.stdout.startswith("| batch 1024, interleaved |")
    compared = json.loads(against.read_text())
    assert compared["urls_per_second"]["model"] > 0 and compared["ratio"] > 0


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


def test_source_holdout_leaves_each_source_out_tiny(demo_run, tmp_path):
    out = tmp_path / "holdout.json"
    result = run_script(
        "source_holdout.py",
        "--shards",
        str(demo_run / "data" / "shards"),
        "--params",
        str(demo_run / "params.yaml"),
        "--sources",
        "demo-crawl",
        "jpcert",
        "--detector",
        "both",
        "--max-train-rows",
        "1500",
        "--epochs",
        "1",
        "--out",
        str(out),
    )
    assert "| demo-crawl | benign, flagged | baseline |" in result.stdout
    rows = json.loads(out.read_text())["rows"]
    assert [(r["source"], r["detector"]) for r in rows] == [
        ("demo-crawl", "baseline"),
        ("demo-crawl", "model"),
        ("jpcert", "baseline"),
        ("jpcert", "model"),
    ]
    crawl, jpcert = rows[0], rows[2]
    assert crawl["label"] == 0 and 0 <= crawl["fpr_at_operating"] <= 1
    assert jpcert["label"] == 1 and 0 <= jpcert["tpr_at_operating"] <= 1
    assert all(0 <= r["roc_auc"] <= 1 and r["test_urls"] > 0 for r in rows)


def test_weight_screen_prunes_suspected_label_noise_tiny(demo_run, tmp_path):
    """A tenth of JPCERT's train URLs relabelled benign: the benign-side pruning finds them,
    and hardly touches the real benign lists."""
    shards = tmp_path / "shards"
    shutil.copytree(demo_run / "data" / "shards", shards)
    for part in (shards / "train").glob("*.parquet"):
        frame = pd.read_parquet(part)
        jpcert = frame.index[frame["source"] == "jpcert"]
        frame.loc[jpcert[::10], "label"] = 0
        frame.to_parquet(part)
    out = tmp_path / "weights.json"
    result = run_script(
        "weight_screen.py",
        "--shards",
        str(shards),
        "--split",
        str(demo_run / "data" / "split"),
        "--params",
        str(demo_run / "params.yaml"),
        "--cases",
        "case",
        "--weights",
        "none",
        "benign-noise",
        "--holdout",
        "--out",
        str(out),
    )
    assert "| case | benign-noise | 10 |" in result.stdout
    plain, pruned = json.loads(out.read_text())["rows"]
    assert plain["dropped_as_noise"] == {}
    dropped = pruned["dropped_as_noise"]
    assert 0.02 <= dropped["jpcert"] <= 0.1  # a tenth mislabelled: a third of them and more
    assert dropped["phishtank"] == 0  # phishing labels are left alone
    assert dropped["demo-crawl"] < 0.01 and dropped["demo-benign"] < 0.01
    assert {"demo-crawl", "demo-benign"} <= set(pruned["held_out"])
    assert all(0.5 < row["val_roc_auc"] <= 1 for row in (plain, pruned))


def test_ensemble_mix_scores_each_combination_of_the_halves_tiny(demo_run, tmp_path):
    out = tmp_path / "mix.json"
    common = ["--shards", str(demo_run / "data" / "shards"), "--out", str(out)]
    model = ["--model", str(demo_run / "models" / "keras" / "angler.keras")]
    result = run_script("ensemble_mix.py", *model, *common)
    rows = {row["combination"]: row for row in json.loads(out.read_text())["rows"]}
    assert "| probabilities, network 0.5 |" in result.stdout and len(rows) == 12
    served = rows["probabilities, network 0.5"]  # what export serves: evaluate's validation AUC
    train_report = json.loads((demo_run / "reports" / "train.json").read_text())
    assert served["val_roc_auc"] == pytest.approx(train_report["served_val_auc"], abs=1e-4)
    assert all(row["held_out"] is None for row in rows.values())

    params = ["--params", str(demo_run / "params.yaml")]
    run_script("ensemble_mix.py", *params, "--holdout", "demo-crawl", *common)
    rows = json.loads(out.read_text())["rows"]
    assert all(row["worst_benign"]["source"] != "demo-crawl" for row in rows)
    assert all(0 <= row["held_out"]["flagged"] <= 1 for row in rows)
    assert all(0.5 < row["held_out"]["roc_auc"] <= 1 for row in rows)
    assert "--holdout jpcert: not a benign source" in refusal(
        "ensemble_mix.py", "--holdout", "jpcert", *common
    )


def test_slice_errors_break_down_what_evaluate_measured_tiny(demo_run, tmp_path):
    """Per source, the months' URLs and rates add up to evaluate's own test numbers."""
    out = tmp_path / "errors.json"
    common = ["--run", str(demo_run), "--out", str(out)]
    result = run_script("slice_errors.py", *common, "--slice", "test", "--sample", "5")
    errors = json.loads(out.read_text())
    test = json.loads((demo_run / "metrics" / "evaluate.json").read_text())["test"]
    assert errors["urls"] == test["n"]
    for source, measured in test["by_source"].items():
        months = [row for row in errors["by_source_month"] if row["source"] == source]
        urls = sum(row["urls"] for row in months)
        rate = sum(row["urls"] * row["rate"] for row in months) / urls
        expected = (
            measured["tpr_at_operating"] if measured["label"] else measured["fpr_at_operating"]
        )
        assert urls == measured["n"] and rate == pytest.approx(expected, abs=1e-3), source
        assert f"| {source} | " in result.stdout
    forms = errors["bare_host_or_path"]["benign"]
    assert forms["bare_host"]["urls"] + forms["with_path"]["urls"] == test["benign"]
    assert all(row["score"] >= errors["threshold"] for row in errors["flagged_benign_sample"])
    assert "--slice x: no URLs in" in refusal("slice_errors.py", *common, "--slice", "x")


def test_feature_ablation_scores_each_variant_on_validation_tiny(demo_run, tmp_path):
    out = tmp_path / "ablation.json"
    result = run_script(
        "feature_ablation.py",
        "--shards",
        str(demo_run / "data" / "shards"),
        "--params",
        str(demo_run / "params.yaml"),
        "--c",
        "1",
        "--holdout",
        "--max-train-rows",
        "2000",
        "--out",
        str(out),
    )
    assert "| ngrams+positions | 1 |" in result.stdout
    rows = json.loads(out.read_text())["rows"]
    assert [row["variant"] for row in rows] == ["ngrams", "ngrams+positions"]
    held_out = set(rows[0]["held_out"])  # each benign source of the demo, none of the feeds
    assert {"demo-crawl", "demo-benign"} <= held_out and "jpcert" not in held_out
    assert held_out < set(rows[0]["by_source"])
    assert all(0.5 < row["val_roc_auc"] <= 1 for row in rows)


def test_model_run_collects_a_pipeline_run(demo_run, tmp_path):
    out = tmp_path / "model.json"
    result = run_script("model_run.py", "--run", str(demo_run), "--out", str(out))
    assert "| Angler model | test |" in result.stdout
    assert json.loads(out.read_text())["train_seconds"] > 0


def test_pipeline_runs_benchmark_runs_tiny(tmp_path):
    """Also the test that `dvc repro` runs every stage, then nothing, then only what a
    train: param reaches."""
    out = tmp_path / "pipeline_runs.json"
    result = run_script("pipeline_runs.py", "--tiny", "--out", str(out))
    full_row, unchanged_row, incremental_row = result.stdout.splitlines()
    assert full_row.startswith("| make demo (warm env) | full | 3,000 URLs |")
    assert unchanged_row.startswith("| make demo (warm env) | nothing changed |")
    assert incremental_row.startswith("| make demo (warm env) | after a train: param change |")
    measured = json.loads(out.read_text())
    assert measured["full"]["stages"] == list(STAGES)
    assert measured["nothing_changed"]["stages"] == []
    assert measured["nothing_changed"]["dvc_lock_unchanged"] is True
    graph = stage_graph(REPO_ROOT / "dvc.yaml")
    reached = {"train"}
    for stage, upstream in graph.items():  # dvc.yaml order is a topological order
        if reached & set(upstream):
            reached.add(stage)
    assert measured["after_train_param_change"]["stages"] == [s for s in graph if s in reached]
    assert measured["incremental_ratio"] > 0


def test_training_benchmark_runs_tiny(demo_run, tmp_path):
    out = tmp_path / "training.json"
    result = run_script(
        "training.py",
        "--shards",
        str(demo_run / "data" / "shards"),
        "--gate",
        str(demo_run / "reports" / "validate.json"),
        "--tiny",
        "--out",
        str(out),
    )
    assert re.fullmatch(
        r"\| training \| .+ \| [\d,]+ URLs \| epoch 1: [\d.]+ s \| [\d,]+ URLs/s \|\n",
        result.stdout,
    )
    measured = json.loads(out.read_text())
    assert len(measured["epoch_seconds"]) == measured["epochs"] == 1
    assert measured["urls_per_second"] > 0


def test_drift_replay_runs_tiny(demo_run, tmp_path):
    out = tmp_path / "drift_replay.json"
    result = run_script("drift_replay.py", "--run", str(demo_run), "--tiny", "--out", str(out))
    rows = result.stdout.splitlines()
    # The oldest months of the temporal slice's phishing: the demo PhishTank dump's newest
    # three (its cutoff is 2024-04; JPCERT's, 2024-10, comes after them).
    assert [row.split(" | ")[0] for row in rows] == ["| 2024-04", "| 2024-05", "| 2024-06"]
    measured = json.loads(out.read_text())
    assert list(measured["months"]) == ["2024-04", "2024-05", "2024-06"]
    limits = load_params(demo_run / "params.yaml").monitor
    for name, month in measured["months"].items():
        assert month["urls"] >= limits.min_traffic_urls
        assert set(month["features"]) == set(NUMERIC_FEATURES)
        # Each statistic judged by its own limit from params.yaml, and drift is any of them.
        judged = {
            "tld.unseen_share": (month["tld"]["unseen_share"], limits.max_unseen_tld_share),
            "registered_domain.unseen_share": (
                month["registered_domain"]["unseen_share"],
                limits.max_unseen_domain_share,
            ),
            "score.ks": (month["score"]["ks"], limits.max_ks),
            "score.psi": (month["score"]["psi"], limits.max_psi),
        } | {
            f"features.{feature}.psi": (values["psi"], limits.max_psi)
            for feature, values in month["features"].items()
        }
        over = {key for key, (value, limit) in judged.items() if value > limit}
        assert over == {line.split()[0] for line in month["exceeded"]} & set(judged), name
        assert month["drift"] == bool(month["exceeded"]), name
    # Each month replays its own phishing: the new sites differ month to month.
    unseen = [m["registered_domain"]["unseen_share"] for m in measured["months"].values()]
    assert len(set(unseen)) == 3 and max(unseen) > 0


def test_serving_memory_benchmark_runs_tiny(demo_run, tmp_path):
    out = tmp_path / "serving_memory.json"
    model = next(p for p in (demo_run / "models" / "angler").iterdir() if p.name.isdigit())
    result = run_script("serving_memory.py", "--model", str(model), "--tiny", "--out", str(out))
    assert result.returncode == 0, result.stderr
    cases = json.loads(out.read_text())["cases"]
    assert [(c["batch"], c["url_bytes"]) for c in cases] == [(8, 2048), (2, 65536)]
    assert all(c["peak_rss_mib"] >= c["loaded_rss_mib"] > 0 for c in cases)
