"""train -> evaluate -> export on demo data: outputs, metrics, plots and the MLflow run."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def test_training_learns(demo_run):
    train = json.loads((demo_run / "reports" / "train.json").read_text())
    history = train["history"]
    assert history["loss"][-1] < history["loss"][0]
    assert train["best_val_auc"] > 0.9
    assert train["epochs_run"] <= 3


def test_evaluate_writes_metrics_scores_and_plots(demo_run):
    metrics = json.loads((demo_run / "metrics" / "evaluate.json").read_text())
    # The temporal slice's benign URLs are its dated benign source's newest months (Citizen
    # Lab's); demo-benign is an undated list, so only test holds it.
    expected_sources = {
        "test": {"jpcert", "citizenlab", "demo-benign"},
        "temporal": {"jpcert", "phishtank", "citizenlab"},
    }
    for name, sources in expected_sources.items():
        slice_metrics = metrics[name]
        for key in (
            "roc_auc",
            "pr_auc",
            "tpr_at_fpr_1pct",
            "tpr_at_fpr_0_1pct",
            "accuracy",
            "threshold_at_fpr_1pct",
            "fpr_at_operating",
            "tpr_at_operating",
            "worst_benign_source",
            "worst_benign_fpr",
            "worst_phishing_source",
            "worst_phishing_tpr",
            "n",
            "phishing",
            "benign",
        ):
            assert key in slice_metrics, (name, key)
        assert slice_metrics["roc_auc"] > 0.9
        assert sources <= set(slice_metrics["by_source"])
        benign = {
            name: entry["fpr_at_operating"]
            for name, entry in slice_metrics["by_source"].items()
            if entry["label"] == 0
        }
        assert slice_metrics["worst_benign_fpr"] == max(benign.values())
        assert benign[slice_metrics["worst_benign_source"]] == max(benign.values())
    operating = metrics["operating_point"]
    assert operating["target_fpr"] == 0.01
    assert operating["validation_fpr"] <= 0.01
    assert 0 < operating["threshold"] <= 1
    assert "phishtank" in metrics["test"]["by_source"]  # its one month is not among the newest
    scores = pd.read_parquet(demo_run / "data" / "scores" / "test.parquet")
    assert list(scores.columns) == ["url", "label", "source", "score"]
    assert len(scores) == metrics["test"]["n"]
    roc = json.loads((demo_run / "plots" / "roc_test.json").read_text())
    assert roc[0] == {"fpr": 0.0, "tpr": roc[0]["tpr"]} and roc[-1]["fpr"] == 1.0
    confusion = pd.read_csv(demo_run / "plots" / "confusion_test.csv")
    assert set(confusion["actual"]) == {"phishing", "benign"}


def test_the_run_is_in_mlflow_and_the_model_registered(demo_run, mlflow_store):
    train = json.loads((demo_run / "reports" / "train.json").read_text())
    description = json.loads((demo_run / "models" / "angler" / "model.json").read_text())
    client = mlflow.MlflowClient(mlflow_store)
    run_id = client.get_model_version("angler", str(description["version"])).run_id
    run = client.get_run(run_id)
    assert run.data.params["train.epochs"] == "3"
    assert "val_auc" in run.data.metrics and "test.roc_auc" in run.data.metrics
    assert run.data.metrics["data_checks_passed"] == 1.0
    # the run is found by the model's digest; run ids and wall times stay out of DVC outputs
    assert run.data.tags["angler.model_sha256"] == train["model_sha256"]
    assert "mlflow_run_id" not in description and "train_seconds" not in train
    assert len(client.get_metric_history(run_id, "epoch_seconds")) == train["epochs_run"]
    commit = run.data.tags["mlflow.source.git.commit"]
    branch, short = run.info.run_name.split("@")  # `<branch>@<commit>`, not a random name
    assert branch and len(short) >= 7 and commit.startswith(short)

    assert not list((demo_run / "models").glob(".export-*"))  # export's one scratch copy: gone

    mlflow.set_tracking_uri(mlflow_store)
    served = mlflow.pyfunc.load_model(description["model_uri"])
    urls = ["http://181.214.58.104/login.php", "https://en.wikipedia.org/wiki/URL", "x.com"]
    scores = np.asarray(served.predict(np.array(urls, dtype=object))).reshape(-1)
    import angler.model.network  # noqa: F401  (registers the model's layers with Keras)

    keras_model = keras.saving.load_model(demo_run / "models" / "keras" / "angler.keras")
    expected = keras_model.predict(np.array(urls, dtype=object), verbose=0).reshape(-1)
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-6)  # the registry's copy


def test_a_model_command_prints_only_its_own_lines(demo_run, tmp_path):
    """Issue 29: TensorFlow's C++ start-up lines (which ignore TF_CPP_MIN_LOG_LEVEL) and its
    logger's notices stay out of a command's output; --verbose lets them through."""
    angler = str(Path(sys.executable).with_name("angler"))
    replay = ["replay", "--month", "2024-05", "--out", str(tmp_path / "traffic.parquet")]
    replay += ["--features", str(demo_run / "data" / "features")]
    replay += ["--model", str(demo_run / "models" / "angler")]
    replay += ["--params", str(demo_run / "params.yaml")]
    env = {k: v for k, v in os.environ.items() if k != "ANGLER_VERBOSE"}
    quiet = subprocess.run([angler, *replay], env=env, capture_output=True, text=True)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert re.fullmatch(r"wrote [\d,]+ URLs of 2024-05 to \S+traffic\.parquet\n", quiet.stdout)
    verbose = subprocess.run(
        [angler, "--verbose", *replay], env=env, capture_output=True, text=True
    )
    assert verbose.returncode == 0, verbose.stderr
    assert "oneDNN" in verbose.stderr
