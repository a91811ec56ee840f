"""How the served model's two halves are combined, screened on the validation split only.

The served score is the mean of the network's and the TF-IDF regression's probabilities
(`angler.model.network.with_tfidf_logit`). This scores validation with each half of a
trained model (`models/keras/angler.keras`) and compares weighted means of the
probabilities and of the logits: ROC AUC, TPR at 1% and 0.1% FPR, and at the operating
threshold chosen for 1% of the benign sites, the TPR and the benign source flagged most.
With `--holdout SOURCE` it first trains params.yaml's model on train without that source
(one training run) and also reports, for each combination, the source's validation URLs
flagged at the threshold chosen without them and their ROC AUC against validation's
phishing: which combination generalises to a kind of traffic never seen. Test is never read.

    python bench/ensemble_mix.py --model models/keras/angler.keras --shards data/shards \
        [--holdout deepurlbench-benign] --out bench/results/ensemble_mix.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import keras
import numpy as np
from result_file import write_result
from scipy.special import expit, logit
from sklearn.metrics import roc_auc_score

from angler.model.evaluation import domain_weights, operating_threshold, tpr_at_fpr
from angler.model.training import read_shards, train_served_model
from angler.params import load_params

WEIGHTS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)  # the network's share


def half_scores(model, urls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The network's and the regression's probabilities of each URL."""
    outputs = [model.get_layer(name).output for name in ("phishing", "tfidf_probability")]
    network, tfidf = keras.Model(model.input, outputs).predict(urls, batch_size=4096, verbose=0)
    return network.ravel(), tfidf.ravel()


def trained_without(source: str, shards: Path, params_path: Path, validation):
    """params.yaml's served model trained on train without `source`."""
    params = load_params(params_path)
    train = read_shards(shards, "train")
    served, _, _ = train_served_model(
        params.model, params.train, params.base.seed, train[train["source"] != source], validation
    )
    return served


def held_out(benign: np.ndarray, phishing: np.ndarray, threshold: float) -> dict | None:
    """The held-out source's URLs against validation's phishing, at the rest's threshold."""
    if not len(benign):
        return None
    truth = np.r_[np.zeros(len(benign)), np.ones(len(phishing))]
    return {
        "roc_auc": float(roc_auc_score(truth, np.r_[benign, phishing])),
        "flagged": float((benign >= threshold).mean()),
    }


def candidates(network: np.ndarray, tfidf: np.ndarray) -> dict[str, np.ndarray]:
    network, tfidf = (np.clip(s.astype(float), 1e-7, 1 - 1e-7) for s in (network, tfidf))
    mixed = {f"probabilities, network {w:g}": w * network + (1 - w) * tfidf for w in WEIGHTS}
    for w in WEIGHTS[1:-1]:
        mixed[f"logits, network {w:g}"] = expit(w * logit(network) + (1 - w) * logit(tfidf))
    return mixed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=Path("models/keras/angler.keras"))
    parser.add_argument("--shards", type=Path, default=Path("data/shards"))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--holdout", help="train without this benign source, then score it")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    validation = read_shards(args.shards, "validation")
    held = (validation["source"] == args.holdout).to_numpy()
    if args.holdout and (not held.any() or validation["label"][held].any()):
        parser.error(f"--holdout {args.holdout}: not a benign source of the validation split")
    if args.holdout:
        model = trained_without(args.holdout, args.shards, args.params, validation[~held])
    else:
        model = keras.saving.load_model(args.model, compile=False)
    network, tfidf = half_scores(model, validation["url"].to_numpy(dtype=object))
    labels = validation["label"].to_numpy()[~held]
    sources = validation["source"].to_numpy()[~held]
    site_weight = domain_weights(validation["url"][~held])
    print(
        "| combination | val ROC AUC | TPR@1% | TPR@0.1% | TPR at thr | worst benign at thr "
        "| held out: ROC AUC / flagged |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    for name, every in candidates(network, tfidf).items():
        scores = every[~held]
        threshold = operating_threshold(labels, scores, 0.01, site_weight)
        flagged = {s: float((scores[sources == s] >= threshold).mean()) for s in set(sources)}
        worst = max((flagged[s], s) for s in set(sources[labels == 0]))
        rows.append(
            {
                "combination": name,
                "val_roc_auc": float(roc_auc_score(labels, scores)),
                "val_tpr_at_fpr_1pct": tpr_at_fpr(labels, scores, 0.01)[0],
                "val_tpr_at_fpr_01pct": tpr_at_fpr(labels, scores, 0.001)[0],
                "val_tpr_at_threshold": float((scores[labels == 1] >= threshold).mean()),
                "worst_benign": {"source": worst[1], "flagged": worst[0]},
                "held_out": held_out(every[held], scores[labels == 1], threshold),
            }
        )
        row, out = rows[-1], rows[-1]["held_out"]
        print(
            f"| {name} | {row['val_roc_auc']:.4f} | {row['val_tpr_at_fpr_1pct']:.3f} | "
            f"{row['val_tpr_at_fpr_01pct']:.3f} | {row['val_tpr_at_threshold']:.3f} | "
            f"{worst[1]} {worst[0]:.2%} | "
            + (f"{out['roc_auc']:.4f} / {out['flagged']:.2%} |" if out else "- |"),
            flush=True,
        )
    write_result(args.out, {"benchmark": "ensemble_mix", "holdout": args.holdout, "rows": rows})


if __name__ == "__main__":
    main()
