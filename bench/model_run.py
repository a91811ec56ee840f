"""Collect a pipeline run's training time and model quality for BENCHMARKS.md.

The numbers are the pipeline's own: `reports/train.json` (epoch wall times, measured by the
train stage) and `metrics/evaluate.json`. Run the pipeline on the real corpus first:

    dvc exp run -S data.corpus=../shared/data        # or dvc repro with it in params.yaml
    python bench/model_run.py --run . --out bench/results/model_real.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from result_file import write_result
from run_timings import train_timings

COLUMNS = ("roc_auc", "pr_auc", "tpr_at_fpr_1pct", "tpr_at_fpr_0_1pct")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=Path("."), help="the project folder")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    train = json.loads((args.run / "reports" / "train.json").read_text())
    metrics = json.loads((args.run / "metrics" / "evaluate.json").read_text())
    history = train["history"]
    uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{args.run / 'mlflow.db'}"
    train |= train_timings(uri, train)
    result = {
        "benchmark": "model_run",
        "train_urls": train["train_urls"],
        "epochs_run": train["epochs_run"],
        "best_epoch": train["best_epoch"],
        "epoch_seconds": train["epoch_seconds"],
        "train_seconds": train["train_seconds"],
        "train_urls_per_second": train["train_urls_per_second"],
        "val_auc": history["val_auc"],
        "metrics": metrics,
    }
    print(
        f"| train | {train['train_urls']:,} URLs | {train['epochs_run']} epochs "
        f"(best {train['best_epoch']}) | {train['train_seconds']} s | "
        f"{train['train_urls_per_second']:,} URLs/s |"
    )
    for name, values in metrics.items():
        if "roc_auc" in values:
            cells = " | ".join(f"{values[c]:.4f}" for c in COLUMNS)
            print(f"| Angler model | {name} | {cells} | {values['n']:,} |")
    write_result(args.out, result)


if __name__ == "__main__":
    main()
