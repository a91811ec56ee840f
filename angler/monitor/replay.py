"""Replay a month of the dated feeds as served traffic, for the monitor's demo and tests.

One month's traffic is the phishing URLs first seen that month (dated feeds such as
JPCERT's) and benign URLs of the test split, drawn so that phishing makes up the share the
monitor expects; `score_traffic` scores them with the exported model as TF Serving would.
The benign part comes from the reference period on purpose: what moves from month to month
is the phishing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from angler.errors import AnglerError


def month_traffic(features: Path, month: str, phishing_share: float, seed: int) -> pd.DataFrame:
    """`url` and `time` of one month's replayed traffic (`month` as YYYY-MM), in time order."""
    try:
        start = pd.Period(month, freq="M")
    except ValueError:
        raise AnglerError(f"month {month!r} is not YYYY-MM") from None
    rows = pd.read_parquet(features, columns=["url", "label", "split", "first_seen"])
    # Stored as UTC instants: as naive nanoseconds, like the Period bounds below.
    rows["first_seen"] = rows["first_seen"].dt.tz_convert(None).astype("datetime64[ns]")
    phishing = rows[(rows["label"] == 1) & (rows["first_seen"].dt.to_period("M") == start)]
    benign = rows[(rows["label"] == 0) & (rows["split"] == "test")]
    if phishing.empty or benign.empty:
        raise AnglerError(f"no phishing URLs first seen in {month}, or no benign test URLs")
    wanted = round(len(phishing) * (1 - phishing_share) / phishing_share)
    rng = np.random.default_rng([seed, start.year, start.month])
    if wanted > len(benign):  # keep the class mix: fewer phishing URLs rather than repeats
        keep = round(len(benign) * phishing_share / (1 - phishing_share))
        phishing = phishing.sample(keep, random_state=rng)
        wanted = len(benign)
    benign = benign.sample(wanted, random_state=rng)
    benign_times = rng.integers(start.start_time.value, start.end_time.value, size=len(benign))
    traffic = pd.DataFrame(
        {
            "url": np.concatenate([phishing["url"].to_numpy(), benign["url"].to_numpy()]),
            "time": pd.to_datetime(
                np.concatenate([phishing["first_seen"].astype("int64").to_numpy(), benign_times]),
                utc=True,
            ),
        }
    )
    return traffic.sort_values("time", kind="stable", ignore_index=True)


def score_traffic(traffic: pd.DataFrame, model_store: Path) -> pd.DataFrame:
    """`traffic` with the `score` the store's current model version serves for each URL."""
    from angler.model.export import load_version, score_urls

    _, saved_model = load_version(model_store)
    return traffic.assign(score=score_urls(saved_model, traffic["url"].tolist()))
