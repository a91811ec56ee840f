"""How the served model's two halves are combined, screened on the validation split only.

The served score is the mean of the network's and the TF-IDF regression's probabilities
(`angler.model.network.with_tfidf_logit`). This scores validation with each half of a
trained model (`models/keras/angler.keras`) and compares weighted means of the
probabilities and of the logits: ROC AUC, TPR at 1% and 0.1% FPR, and at the operating
threshold chosen for 1% of the benign sites, the TPR and the benign source flagged most.
Test is never read.

    python bench/ensemble_mix.py --model models/keras/angler.keras --shards data/shards \
        --out bench/results/ensemble_mix.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from result_file import write_result
from scipy.special import expit, logit
from sklearn.metrics import roc_auc_score

from angler.model.evaluation import domain_weights, operating_threshold, tpr_at_fpr
from angler.model.training import read_shards

WEIGHTS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)  # the network's share


def half_scores(model_path: Path, urls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The network's and the regression's probabilities of each URL."""
    import keras

    import angler.model.network  # noqa: F401  (registers the model's layers)

    model = keras.saving.load_model(model_path, compile=False)
    outputs = [model.get_layer(name).output for name in ("phishing", "tfidf_probability")]
    network, tfidf = keras.Model(model.input, outputs).predict(urls, batch_size=4096, verbose=0)
    return network.ravel(), tfidf.ravel()


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
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    validation = read_shards(args.shards, "validation")
    labels = validation["label"].to_numpy()
    sources = validation["source"].to_numpy()
    site_weight = domain_weights(validation["url"])
    network, tfidf = half_scores(args.model, validation["url"].to_numpy(dtype=object))
    print("| combination | val ROC AUC | TPR@1% | TPR@0.1% | TPR at thr | worst benign at thr |")
    print("| --- | --- | --- | --- | --- | --- |")
    rows = []
    for name, scores in candidates(network, tfidf).items():
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
            }
        )
        row = rows[-1]
        print(
            f"| {name} | {row['val_roc_auc']:.4f} | {row['val_tpr_at_fpr_1pct']:.3f} | "
            f"{row['val_tpr_at_fpr_01pct']:.3f} | {row['val_tpr_at_threshold']:.3f} | "
            f"{worst[1]} {worst[0]:.2%} |",
            flush=True,
        )
    write_result(args.out, {"benchmark": "ensemble_mix", "rows": rows})


if __name__ == "__main__":
    main()
