"""The obvious baseline: character n-gram TF-IDF and logistic regression on url_key.

Trained on the train split of a pipeline run's shards, scored on the same slices and
with the same metrics as `angler evaluate`, so the two sit side by side in BENCHMARKS.md.

    python bench/baseline.py --shards data/shards --out bench/results/baseline.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from result_file import write_result
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from angler.data.urls import UrlError, parse_url
from angler.model.evaluation import evaluation_slices, slice_metrics
from angler.model.training import read_shards
from angler.params import load_params


def url_keys(urls) -> list[str]:
    keys = []
    for url in urls:
        try:
            keys.append(parse_url(url).url_key)
        except UrlError:
            keys.append(url)
    return keys


def fit_baseline(train):
    """The fitted baseline: `predict_proba(url_keys(urls))[:, 1]` scores URLs."""
    model = make_pipeline(
        HashingVectorizer(
            analyzer="char",
            ngram_range=(3, 5),
            n_features=2**20,
            alternate_sign=False,
            norm=None,
            lowercase=False,
        ),
        TfidfTransformer(sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced", solver="liblinear"),
    )
    return model.fit(url_keys(train["url"]), train["label"].to_numpy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=Path, default=Path("data/shards"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--max-train-rows", type=int, default=0, help="0 for all")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    train = read_shards(args.shards, "train", args.max_train_rows)
    slices = evaluation_slices(
        read_shards(args.shards, "test"),
        read_shards(args.shards, "temporal"),
        load_params(args.params).evaluate.source_slices,
    )
    start = time.perf_counter()
    model = fit_baseline(train)
    seconds = time.perf_counter() - start
    result = {"benchmark": "baseline", "train_urls": len(train), "train_seconds": round(seconds, 1)}
    for name, frame in slices.items():
        if len(frame):
            scores = model.predict_proba(url_keys(frame["url"]))[:, 1]
            result[name] = slice_metrics(frame["label"].to_numpy(dtype=int), np.asarray(scores))
    for name in slices:
        if "roc_auc" in result.get(name, {}):
            m = result[name]
            print(
                f"| char n-gram LR baseline | {name} | {m['roc_auc']:.4f} | {m['pr_auc']:.4f} "
                f"| {m['tpr_at_fpr_1pct']:.4f} | {m['tpr_at_fpr_0_1pct']:.4f} | {m['n']:,} |"
            )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
