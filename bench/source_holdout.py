"""Source generalisation: train with one source left out, then score that source.

For each source of a pipeline run's shards (or those named), the detector is trained on the
train split without that source's URLs, its operating threshold is chosen on the validation
split without them (evaluate.target_fpr), and it scores the source's test-split URLs against
the other class's test URLs. This is how it does on traffic of a kind it has never seen: a
benign source left out is a new kind of ordinary site, a phishing feed left out a new
campaign style. Each row costs one training run.

    python bench/source_holdout.py --shards data/shards --detector both \
        --out bench/results/source_holdout.json
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd
from baseline import fit_baseline, url_keys
from result_file import write_result
from sklearn.metrics import roc_auc_score

from angler.model.evaluation import operating_point
from angler.model.training import predict, read_shards, train_served_model
from angler.params import load_params

DETECTORS = ("baseline", "model")


def held_out_scores(detector: str, train, validation, evaluation, params) -> tuple:
    """Scores of `evaluation` and `validation` from the detector trained on `train`."""
    if detector == "baseline":
        fitted = fit_baseline(train)
        return tuple(
            fitted.predict_proba(url_keys(f["url"]))[:, 1] for f in (evaluation, validation)
        )
    served, _, _ = train_served_model(
        params.model, params.train, params.base.seed, train, validation
    )
    return predict(served, evaluation["url"]), predict(served, validation["url"])


def hold_out(source: str, detector: str, shards: dict[str, pd.DataFrame], params) -> dict:
    train, validation, test = (shards[name] for name in ("train", "validation", "test"))
    held = test[test["source"] == source]
    label = int(held["label"].iloc[0])
    others = test[(test["label"] != label)]
    evaluation = pd.concat([held, others], ignore_index=True)
    start = time.perf_counter()
    scores, validation_scores = held_out_scores(
        detector,
        train[train["source"] != source],
        validation[validation["source"] != source],
        evaluation,
        params,
    )
    kept = validation[validation["source"] != source].assign(score=validation_scores)
    threshold = operating_point(kept, params.evaluate)["threshold"]
    truth = evaluation["label"].to_numpy(dtype=int)
    flagged = np.asarray(scores)[: len(held)] >= threshold
    rate = "fpr_at_operating" if label == 0 else "tpr_at_operating"
    return {
        "source": source,
        "label": label,
        "detector": detector,
        "test_urls": len(held),
        "roc_auc": float(roc_auc_score(truth, scores)),
        "threshold": threshold,
        rate: float(flagged.mean()),
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=Path, default=Path("data/shards"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--detector", choices=[*DETECTORS, "both"], default="both")
    parser.add_argument("--sources", nargs="*", help="default: every source of the test split")
    parser.add_argument("--max-train-rows", type=int, default=0, help="0 for all")
    parser.add_argument("--epochs", type=int, default=0, help="override train.epochs (0: keep)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    params = load_params(args.params)
    if args.epochs:
        params = dataclasses.replace(
            params, train=dataclasses.replace(params.train, epochs=args.epochs)
        )
    shards = {name: read_shards(args.shards, name) for name in ("train", "validation", "test")}
    if args.max_train_rows:
        shards["train"] = shards["train"].sample(
            min(args.max_train_rows, len(shards["train"])), random_state=params.base.seed
        )
    sources = args.sources or sorted(shards["test"]["source"].unique())
    detectors = DETECTORS if args.detector == "both" else (args.detector,)
    rows = []
    for source in sources:
        for detector in detectors:
            row = hold_out(source, detector, shards, params)
            rows.append(row)
            rate = row.get("fpr_at_operating", row.get("tpr_at_operating"))
            kind = "benign, flagged" if row["label"] == 0 else "phishing, caught"
            print(
                f"| {source} | {kind} | {detector} | {row['test_urls']:,} | "
                f"{row['roc_auc']:.4f} | {rate:.2%} |",
                flush=True,
            )
            write_result(args.out, {"benchmark": "source_holdout", "rows": rows})


if __name__ == "__main__":
    main()
