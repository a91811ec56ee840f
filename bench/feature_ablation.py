"""Feature ablation of the model's linear half, on the validation split only.

The served model averages the network with a TF-IDF logistic regression on the same
in-graph pieces (`angler.model.training.ngram_counts`). The regression fits in a minute on
the full corpus where the network takes several, so feature choices are screened on it:
each variant is fitted on train and scored on validation, pooled, per source, on each of
`evaluate.source_slices`, and, with `--holdout`, with each benign source left out of
training (its validation URLs against validation's phishing). Test is never read.

    python bench/feature_ablation.py --shards data/shards --holdout \
        --out bench/results/feature_ablation.json
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd
from result_file import write_result
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from angler.model.evaluation import tpr_at_fpr
from angler.model.training import ngram_counts, read_shards
from angler.params import load_params

VARIANTS = {"ngrams": False, "ngrams+positions": True}  # name: model.position_tokens


def auc_against_other_class(frame: pd.DataFrame, scores: np.ndarray, rows: np.ndarray) -> float:
    """ROC AUC of the URLs in `rows` (one class) against every URL of the other class."""
    label = frame["label"].to_numpy()[rows][0]
    keep = rows | (frame["label"].to_numpy() != label)
    return float(roc_auc_score(frame["label"].to_numpy()[keep], scores[keep]))


def fit(features, labels: np.ndarray, c: float) -> LogisticRegression:
    linear = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=2000)
    return linear.fit(features, labels)


def score_variant(name: str, c: float, train, validation, params, holdout: bool) -> dict:
    start = time.perf_counter()
    model = dataclasses.replace(params.model, position_tokens=VARIANTS[name])
    counts = ngram_counts(train["url"], model)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    features = tfidf.transform(counts)
    scored = tfidf.transform(ngram_counts(validation["url"], model))
    labels = validation["label"].to_numpy()
    scores = fit(features, train["label"].to_numpy(), c).decision_function(scored)
    row = {
        "variant": name,
        "c": c,
        "val_roc_auc": float(roc_auc_score(labels, scores)),
        "val_tpr_at_fpr_1pct": tpr_at_fpr(labels, scores, 0.01)[0],
        "val_tpr_at_fpr_0_1pct": tpr_at_fpr(labels, scores, 0.001)[0],
        "by_source": {},
        "slices": {},
        "held_out": {},
    }
    sources = validation["source"].to_numpy()
    for source in sorted(set(sources)):
        row["by_source"][source] = auc_against_other_class(validation, scores, sources == source)
    for slice_name, members in params.evaluate.source_slices.items():
        rows = np.isin(sources, members)
        if len(set(labels[rows])) == 2:
            row["slices"][slice_name] = {
                "roc_auc": float(roc_auc_score(labels[rows], scores[rows])),
                "tpr_at_fpr_1pct": tpr_at_fpr(labels[rows], scores[rows], 0.01)[0],
            }
    if holdout:
        for source in sorted(set(sources[labels == 0])):
            kept = (train["source"] != source).to_numpy()
            linear = fit(features[kept], train["label"].to_numpy()[kept], c)
            held = linear.decision_function(scored)
            row["held_out"][source] = auc_against_other_class(validation, held, sources == source)
    row["seconds"] = round(time.perf_counter() - start, 1)
    return row


def table_row(row: dict) -> str:
    cells = [
        row["variant"],
        f"{row['c']:g}",
        f"{row['val_roc_auc']:.4f}",
        f"{row['val_tpr_at_fpr_1pct']:.3f}",
        f"{row['val_tpr_at_fpr_0_1pct']:.3f}",
        ", ".join(f"{s} {v['roc_auc']:.4f}" for s, v in row["slices"].items()) or "-",
        ", ".join(f"{s} {v:.4f}" for s, v in row["held_out"].items()) or "-",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=Path, default=Path("data/shards"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--variants", nargs="*", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--c", nargs="*", type=float, help="default: model.tfidf_c")
    parser.add_argument("--holdout", action="store_true", help="leave each benign source out")
    parser.add_argument("--max-train-rows", type=int, default=0, help="0 for all")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    params = load_params(args.params)
    train = read_shards(args.shards, "train", args.max_train_rows)
    validation = read_shards(args.shards, "validation")
    print("| variant | C | val ROC AUC | val TPR@1% | val TPR@0.1% | slices | held out |")
    print("| --- | --- | --- | --- | --- | --- | --- |", flush=True)
    rows = []
    for name in args.variants:
        for c in args.c or [params.model.tfidf_c]:
            rows.append(score_variant(name, c, train, validation, params, args.holdout))
            print(table_row(rows[-1]), flush=True)
    write_result(args.out, {"benchmark": "feature_ablation", "rows": rows})


if __name__ == "__main__":
    main()
