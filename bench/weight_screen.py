"""Screen case handling and training weights on the model's linear half, validation only.

Each variant fits the TF-IDF logistic regression (`angler.model.training.ngram_counts`,
the pieces the served model reads) on train and scores validation: pooled ROC AUC and TPR
at 1% FPR, each source's ROC AUC against the other class, and, with `--holdout`, each
benign source left out of training: its validation URLs' ROC AUC against validation's
phishing and the share flagged at the threshold chosen (1% of the benign sites) on the
rest of validation. Test is never read.

Variants: `case` keeps the path's case as the feeds wrote it, `lower` lower-cases the whole
URL (DeepURLBench, a third of the corpus, is lower-cased); weights `none` (classes
balanced), `source` (every source weighs the same within its class) and `site` (a site's
URLs share at most `--site-cap` URLs' weight) and `noise` (label-noise pruning, confident
learning's rule: a URL whose cross-fitted score, from a regression that did not see it, is
beyond the mean score of the other class's URLs gets weight 0; `benign-noise`: benign URLs
only, the side the data's README says is noisy; each source's dropped share is printed).

    python bench/weight_screen.py --shards data/shards --split data/split --holdout \
        --max-train-rows 300000 --out bench/results/weight_screen.json
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

from angler.model.evaluation import domain_weights, operating_threshold, tpr_at_fpr
from angler.model.training import ngram_counts, read_shards
from angler.params import load_params

CASES = ("case", "lower")
WEIGHTS = ("none", "source", "site", "noise", "benign-noise")


def suspected_noise(features, labels: np.ndarray, fitted_on, seed: int) -> np.ndarray:
    """Confident learning's pruning rule on two-fold cross-fitted scores: a benign URL
    scored above the mean score of phishing, or a phishing URL below that of benign."""
    fold = np.random.default_rng(seed).integers(0, 2, len(labels))
    scores = np.empty(len(labels))
    for half in (0, 1):
        scores[fold == half] = fitted_on(fold != half).decision_function(features[fold == half])
    phishing_mean = scores[labels == 1].mean()
    benign_mean = scores[labels == 0].mean()
    return ((labels == 0) & (scores > phishing_mean)) | ((labels == 1) & (scores < benign_mean))


def training_weights(train: pd.DataFrame, kind: str, site_cap: int, noise=None) -> np.ndarray:
    """Per-URL weights with both classes summing to the same total."""
    if kind == "none":
        weight = np.ones(len(train))
    elif kind.endswith("noise"):
        weight = (~noise).astype(float)
    elif kind == "source":
        weight = 1.0 / train["source"].map(train["source"].value_counts()).to_numpy(float)
    else:
        per_site = train["site"].map(train["site"].value_counts()).to_numpy(float)
        weight = np.minimum(1.0, site_cap / per_site)
    labels = train["label"].to_numpy()
    for label in (0, 1):
        weight[labels == label] /= weight[labels == label].sum()
    return weight * len(train) / 2


def held_out_row(source, scores, validation, site_weight) -> dict:
    labels = validation["label"].to_numpy()
    sources = validation["source"].to_numpy()
    held = sources == source
    rest = ~held
    threshold = operating_threshold(labels[rest], scores[rest], 0.01, site_weight[rest])
    both = held | (labels == 1)
    return {
        "roc_auc": float(roc_auc_score(labels[both], scores[both])),
        "flagged": float((scores[held] >= threshold).mean()),
    }


def screen(case, weights, train, validation, params, args) -> dict:
    start = time.perf_counter()

    def text(frame):
        return frame["url"].str.lower() if case == "lower" else frame["url"]

    counts = ngram_counts(text(train), params.model)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    features = tfidf.transform(counts)
    scored = tfidf.transform(ngram_counts(text(validation), params.model))
    labels, train_labels = validation["label"].to_numpy(), train["label"].to_numpy()

    def fitted(rows, weight=None):
        linear = LogisticRegression(C=params.model.tfidf_c, solver="liblinear", max_iter=2000)
        weight = np.ones(len(train)) if weight is None else weight
        return linear.fit(features[rows], train_labels[rows], sample_weight=weight[rows])

    noise, dropped = None, {}
    if weights.endswith("noise"):
        noise = suspected_noise(features, train_labels, fitted, params.base.seed)
        if weights == "benign-noise":
            noise &= train_labels == 0
        shares = train["source"][noise].value_counts() / train["source"].value_counts()
        dropped = shares.fillna(0).round(4).sort_index().to_dict()
        print(f"dropped as suspected noise: {dropped}", flush=True)
    weight = training_weights(train, weights, args.site_cap, noise)

    scores = fitted(np.ones(len(train), bool), weight).decision_function(scored)
    site_weight = domain_weights(validation["url"])
    benign = labels == 0
    threshold = operating_threshold(labels, scores, 0.01, site_weight)
    row = {
        "case": case,
        "weights": weights,
        "c": params.model.tfidf_c,
        "buckets": params.model.ngram_buckets,
        "val_roc_auc": float(roc_auc_score(labels, scores)),
        "val_tpr_at_fpr_1pct": tpr_at_fpr(labels, scores, 0.01)[0],
        "val_tpr_at_threshold": float((scores[~benign] >= threshold).mean()),
        "dropped_as_noise": dropped,
        "by_source": {},
        "held_out": {},
    }
    sources = validation["source"].to_numpy()
    for source in sorted(set(sources)):
        rows = sources == source
        label = labels[rows][0]
        row["by_source"][source] = {
            "roc_auc": float(
                roc_auc_score(labels[rows | (labels != label)], scores[rows | (labels != label)])
            ),
            "flagged": float((scores[rows] >= threshold).mean()),
        }
    if args.holdout:
        for source in sorted(set(sources[benign])):
            kept = (train["source"] != source).to_numpy()
            held = fitted(kept, weight).decision_function(scored)
            row["held_out"][source] = held_out_row(source, held, validation, site_weight)
    row["seconds"] = round(time.perf_counter() - start, 1)
    return row


def table_row(row: dict, benign_sources: set[str]) -> str:
    held = ", ".join(
        f"{s} {v['roc_auc']:.3f}/{v['flagged']:.1%}" for s, v in row["held_out"].items()
    )
    worst = max((v["flagged"], s) for s, v in row["by_source"].items() if s in benign_sources)
    return (
        f"| {row['case']} | {row['weights']} | {row['c']:g} | {row['buckets']:,} "
        f"| {row['val_roc_auc']:.4f} | "
        f"{row['val_tpr_at_fpr_1pct']:.3f} | {row['val_tpr_at_threshold']:.3f} | "
        f"{worst[1]} {worst[0]:.2%} | {held or '-'} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=Path, default=Path("data/shards"))
    parser.add_argument("--split", type=Path, default=Path("data/split"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--cases", nargs="*", choices=CASES, default=list(CASES))
    parser.add_argument("--weights", nargs="*", choices=WEIGHTS, default=list(WEIGHTS))
    parser.add_argument("--site-cap", type=int, default=10)
    parser.add_argument("--c", type=float, help="the regression's C (default: model.tfidf_c)")
    parser.add_argument("--buckets", type=int, help="hash buckets (default: model.ngram_buckets)")
    parser.add_argument("--holdout", action="store_true", help="leave each benign source out")
    parser.add_argument("--max-train-rows", type=int, default=0, help="a seeded sample; 0: all")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    params = load_params(args.params)
    params = dataclasses.replace(
        params,
        model=dataclasses.replace(
            params.model,
            tfidf_c=args.c or params.model.tfidf_c,
            ngram_buckets=args.buckets or params.model.ngram_buckets,
        ),
    )
    sites = pd.read_parquet(args.split, columns=["url", "registered_domain"])
    sites = sites.drop_duplicates("url").set_index("url")["registered_domain"]
    train = read_shards(args.shards, "train")
    if args.max_train_rows and args.max_train_rows < len(train):
        train = train.sample(args.max_train_rows, random_state=params.base.seed)
    train = train.reset_index(drop=True).assign(site=lambda f: f["url"].map(sites))
    validation = read_shards(args.shards, "validation")
    benign_sources = set(validation.loc[validation["label"] == 0, "source"])
    print(
        "| case | weights | C | buckets | val ROC AUC | val TPR@1% | val TPR at thr "
        "| worst benign | held out (AUC/flagged) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    rows = []
    for case in args.cases:
        for weights in args.weights:
            rows.append(screen(case, weights, train, validation, params, args))
            print(table_row(rows[-1], benign_sources), flush=True)
            write_result(args.out, {"benchmark": "weight_screen", "rows": rows})


if __name__ == "__main__":
    main()
