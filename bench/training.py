"""Benchmark training: URLs per second and wall time per epoch of the train stage.

Runs dvc.yaml's train command in a scratch folder, on a pipeline run's shards and data-check
report, with params.yaml set to train exactly --epochs epochs (early stopping cannot end it
sooner) and a scratch MLflow store. The times are the stage's own, from its report.

    python bench/training.py --out bench/results/training.json
    python bench/training.py --shards RUN/data/shards --gate RUN/reports/validate.json --tiny
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from result_file import write_result
from run_timings import train_timings

REPO = Path(__file__).resolve().parents[1]


def train_command() -> str:
    return " ".join(
        yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["train"]["cmd"].split()
    )


def device() -> str:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf  # slow to import, and needed only here: the stage trains

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    return f"CPU, {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=Path, default=Path("data/shards"))
    parser.add_argument("--gate", type=Path, default=Path("reports/validate.json"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--tiny", action="store_true", help="1 epoch on 1,000 URLs")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    epochs = 1 if args.tiny else args.epochs

    params = yaml.safe_load(args.params.read_text(encoding="utf-8"))
    params["train"].update(epochs=epochs, early_stopping_patience=epochs)
    if args.tiny:
        params["train"]["max_train_rows"] = 1000
    command = train_command()
    with tempfile.TemporaryDirectory(prefix="angler-bench-") as scratch:
        workdir = Path(scratch)
        (workdir / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
        # The stage command's own relative paths, pointing at the run being measured.
        (workdir / "data").mkdir()
        (workdir / "data/shards").symlink_to(args.shards.resolve())
        (workdir / "reports").mkdir()
        (workdir / "reports/validate.json").symlink_to(args.gate.resolve())
        env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}"}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        done = subprocess.run(
            command, shell=True, cwd=workdir, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            sys.exit(f"{command} failed:\n{done.stderr[-3000:]}")
        report = json.loads((workdir / "reports/train.json").read_text())
        timings = train_timings(env["MLFLOW_TRACKING_URI"], report)

    result = {
        "benchmark": "training",
        "device": device(),
        "train_urls": report["train_urls"],
        "epochs": epochs,
        "batch_size": params["train"]["batch_size"],
        "epoch_seconds": timings["epoch_seconds"],
        "urls_per_second": timings["train_urls_per_second"],
    }
    per_epoch = ", ".join(
        f"epoch {i}: {seconds:.1f} s" for i, seconds in enumerate(result["epoch_seconds"], 1)
    )
    print(
        f"| training | {result['device']} | {result['train_urls']:,} URLs | {per_epoch} "
        f"| {result['urls_per_second']:,} URLs/s |"
    )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
