"""The monitor's picture: PSI of every checked distribution against its limit, and the
score distribution of traffic over the reference's."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on CI machines or workers
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from angler.monitor.reference import Reference  # noqa: E402
from angler.params import MonitorParams  # noqa: E402


def write_drift_plot(
    reference: Reference,
    traffic_scores: np.ndarray,
    result: dict,
    params: MonitorParams,
    path: Path,
) -> None:
    names = [*result["features"], "tld", "score"]
    values = [v["psi"] for v in result["features"].values()]
    values += [result["tld"]["psi"], result["score"]["psi"]]
    figure, (bars, scores) = plt.subplots(1, 2, figsize=(12, 5), width_ratios=(3, 2))
    colours = ["tab:red" if v > params.max_psi else "tab:blue" for v in values]
    bars.barh(names, values, color=colours)
    bars.axvline(params.max_psi, color="black", linestyle="--", label=f"limit {params.max_psi:g}")
    bars.invert_yaxis()
    bars.set_xlabel("population stability index")
    bars.legend(loc="lower right")
    edges = np.linspace(0, 1, 21)
    scores.hist(
        reference.scores,
        bins=edges,
        weights=reference.score_weights,
        alpha=0.5,
        label="reference (test split, reweighted)",
    )
    scores.hist(
        traffic_scores,
        bins=edges,
        weights=np.full(len(traffic_scores), 1 / len(traffic_scores)),
        alpha=0.5,
        label="traffic",
    )
    scores.set_yscale("log")
    scores.set_xlabel("phishing probability")
    scores.set_ylabel("share of URLs")
    scores.legend()
    verdict = "drift: " + "; ".join(result["exceeded"][:3]) if result["drift"] else "no drift"
    figure.suptitle(verdict if len(verdict) < 110 else verdict[:107] + "...")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_no_traffic_plot(traffic: Path, path: Path) -> None:
    figure = plt.figure(figsize=(6, 2))
    figure.text(0.5, 0.5, f"no traffic files in {traffic} yet", ha="center", va="center")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
