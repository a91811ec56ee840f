"""Drift of served traffic against the reference period, judged by params.yaml's limits.

The reference for distributions is the test split: URLs from before the temporal cutoff
that the model did not train on, with their lexical features and their scores, reweighted
to `monitor.traffic_phishing_share`. TLDs and registered domains count as seen when any URL
from before the cutoff (train, validation or test split) had them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from angler.data.schema import NUMERIC_FEATURES
from angler.errors import AnglerError
from angler.monitor import drift
from angler.monitor.traffic import Traffic
from angler.params import MonitorParams

BEFORE_CUTOFF = ("train", "validation", "test")  # every split but the temporal slice
TLD_BINS = 30  # the reference's most common TLDs get a PSI bin each, the rest share one


class ReferenceUnavailable(AnglerError):
    """The pipeline outputs the monitor compares with are missing or unusable."""


@dataclass(frozen=True)
class Reference:
    features: pd.DataFrame  # test split: NUMERIC_FEATURES and tld
    weights: np.ndarray
    scores: np.ndarray  # test split
    score_weights: np.ndarray
    tlds: frozenset[str]  # seen before the cutoff
    domains: frozenset[str]


def class_weights(labels: pd.Series, phishing_share: float) -> np.ndarray:
    """Row weights that give the two classes the shares expected in traffic."""
    counts = labels.value_counts()
    if counts.get(0, 0) == 0 or counts.get(1, 0) == 0:
        raise ReferenceUnavailable("the reference needs both phishing and benign URLs")
    per_row = {1: phishing_share / counts[1], 0: (1 - phishing_share) / counts[0]}
    return labels.map(per_row).to_numpy(dtype=float)


def load_reference(features: Path, scores: Path, phishing_share: float) -> Reference:
    try:
        seen = pd.read_parquet(
            features,
            columns=[*NUMERIC_FEATURES, "tld", "registered_domain", "label", "split"],
            filters=[("split", "in", BEFORE_CUTOFF)],
        )
        scored = pd.read_parquet(scores, columns=["label", "score"])
    except (OSError, ValueError) as err:
        raise ReferenceUnavailable(
            f"cannot read the reference ({err}); run `dvc repro` first"
        ) from None
    test = seen[seen["split"] == "test"]
    return Reference(
        features=test,
        weights=class_weights(test["label"], phishing_share),
        scores=scored["score"].to_numpy(dtype=float),
        score_weights=class_weights(scored["label"], phishing_share),
        tlds=frozenset(seen["tld"]),
        domains=frozenset(seen["registered_domain"]),
    )


def measure_drift(reference: Reference, traffic: Traffic, params: MonitorParams) -> dict:
    """Every statistic, the limits it is judged by and the limits exceeded."""
    seen = traffic.features
    if len(seen) < params.min_traffic_urls:
        raise AnglerError(
            f"{len(seen):,} usable traffic URLs, fewer than monitor.min_traffic_urls "
            f"({params.min_traffic_urls:,}): too few to measure drift"
        )
    ref, weights = reference.features, reference.weights
    features = {
        name: {
            "psi": drift.numeric_psi(
                ref[name].to_numpy(float), weights, seen[name].to_numpy(float), params.psi_bins
            ),
            "ks": drift.ks_statistic(
                ref[name].to_numpy(float), weights, seen[name].to_numpy(float)
            ),
        }
        for name in NUMERIC_FEATURES
    }
    traffic_scores = seen["score"].to_numpy(float)
    levels = params.score_quantiles
    reference_q = drift.quantiles(reference.scores, reference.score_weights, levels)
    traffic_q = drift.quantiles(traffic_scores, np.ones(len(traffic_scores)), levels)
    result = {
        "features": features,
        "tld": {
            "psi": drift.category_psi(
                ref["tld"].to_numpy(), weights, seen["tld"].to_numpy(), TLD_BINS
            ),
            "unseen_share": _unseen_share(seen["tld"], reference.tlds),
            "top_unseen": _top_unseen(seen["tld"], reference.tlds),
        },
        "registered_domain": {
            "unseen_share": _unseen_share(seen["registered_domain"], reference.domains)
        },
        "score": {
            "psi": drift.numeric_psi(
                reference.scores, reference.score_weights, traffic_scores, params.psi_bins
            ),
            "ks": drift.ks_statistic(reference.scores, reference.score_weights, traffic_scores),
            "quantiles": {
                f"q{level:g}": {"reference": float(r), "traffic": float(t)}
                for level, r, t in zip(levels, reference_q, traffic_q, strict=True)
            },
            "max_quantile_shift": float(np.max(np.abs(traffic_q - reference_q))),
        },
    }
    exceeded = limits_exceeded(result, params)
    return _rounded(result) | {"exceeded": exceeded, "drift": bool(exceeded)}


def drift_report(reference: Reference, traffic: Traffic, result: dict) -> dict:
    """The monitor stage's report: what was read, then every statistic of `result`."""
    return {
        "status": "drift" if result["drift"] else "stable",
        "traffic_files": traffic.files,
        "period": traffic.period,
        "rows_in": traffic.rows_in,
        "rows_out": len(traffic.features),
        "quarantined": len(traffic.quarantined),
        "reference_urls": len(reference.features),
    } | result


def limits_exceeded(result: dict, params: MonitorParams) -> list[str]:
    """One line per statistic over its limit, e.g. 'tld.psi 0.41 > 0.25'."""
    checks = [
        (f"features.{name}.{stat}", values[stat], _limit(stat, params))
        for name, values in result["features"].items()
        for stat in ("psi", "ks")
    ]
    checks += [
        ("tld.psi", result["tld"]["psi"], params.max_psi),
        ("tld.unseen_share", result["tld"]["unseen_share"], params.max_unseen_tld_share),
        (
            "registered_domain.unseen_share",
            result["registered_domain"]["unseen_share"],
            params.max_unseen_domain_share,
        ),
        ("score.psi", result["score"]["psi"], params.max_psi),
        ("score.ks", result["score"]["ks"], params.max_ks),
        (
            "score.max_quantile_shift",
            result["score"]["max_quantile_shift"],
            params.max_score_quantile_shift,
        ),
    ]
    return [f"{name} {value:.3f} > {limit:g}" for name, value, limit in checks if value > limit]


def _limit(stat: str, params: MonitorParams) -> float:
    return params.max_psi if stat == "psi" else params.max_ks


def _unseen_share(traffic: pd.Series, known: frozenset[str]) -> float:
    return float((~traffic.isin(known)).mean())


def _top_unseen(traffic: pd.Series, known: frozenset[str], top: int = 10) -> dict[str, int]:
    unseen = traffic[~traffic.isin(known)]
    return {str(k): int(v) for k, v in unseen.value_counts().head(top).items()}


def _rounded(values: dict) -> dict:
    return {
        key: _rounded(value)
        if isinstance(value, dict)
        else round(value, 4)
        if isinstance(value, float)
        else value
        for key, value in values.items()
    }
