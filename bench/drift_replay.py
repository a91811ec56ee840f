"""Replay later months of the dated feeds as served traffic and measure drift month by month.

Run the pipeline on the real corpus with a long temporal slice first, so that the model and
the reference end years before the last feed month, then replay each month after it:

    dvc exp run -S data.corpus=../shared/data -S split.temporal_months=24
    python bench/drift_replay.py --run . --out bench/results/drift_replay.json
    python bench/drift_replay.py --run <demo run> --tiny    # three months, as make test runs it

Each month is `angler replay` (that month's new phishing URLs and benign test-split URLs
to the monitor's class mix, scored by the exported model), then the monitor's measurement.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pandas as pd  # noqa: E402
from result_file import write_result  # noqa: E402

from angler.data.schema import NUMERIC_FEATURES  # noqa: E402
from angler.monitor.reference import load_reference, measure_drift  # noqa: E402
from angler.monitor.replay import month_traffic, score_traffic  # noqa: E402
from angler.monitor.traffic import load_traffic  # noqa: E402
from angler.params import load_params  # noqa: E402


def temporal_months(run: Path) -> list[str]:
    """Every month in which the temporal slice's phishing URLs were first seen (each source
    has its own cutoff, reports/split.json), oldest first."""
    rows = pd.read_parquet(
        run / "data" / "features",
        columns=["first_seen"],
        filters=[("split", "==", "temporal"), ("label", "==", 1)],
    )
    seen = rows["first_seen"].dropna().dt.tz_convert(None)  # stored as UTC instants
    return sorted({str(month) for month in seen.dt.to_period("M")})


def row(month: str, result: dict) -> str:
    features = result["features"]
    worst = max(NUMERIC_FEATURES, key=lambda name: features[name]["psi"])
    cells = [
        month,
        f"{result['urls']:,}",
        f"{features[worst]['psi']:.3f} ({worst})",
        f"{result['tld']['psi']:.3f}",
        f"{result['tld']['unseen_share']:.1%}",
        f"{result['registered_domain']['unseen_share']:.1%}",
        f"{result['score']['psi']:.3f}",
        f"{result['score']['ks']:.3f}",
        f"{result['score']['max_quantile_shift']:.3f}",
        "**drift**" if result["drift"] else "stable",
    ]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=Path("."), help="the project folder")
    parser.add_argument("--tiny", action="store_true", help="only the first three months")
    parser.add_argument(
        "--phishing-share", type=float, help="traffic class mix (default: params.yaml's)"
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    params = load_params(args.run / "params.yaml")
    limits = params.monitor
    if args.phishing_share:
        limits = dataclasses.replace(limits, traffic_phishing_share=args.phishing_share)
    reference = load_reference(
        args.run / "data" / "features",
        args.run / "data" / "scores" / "test.parquet",
        limits.traffic_phishing_share,
    )
    months = temporal_months(args.run)[: 3 if args.tiny else None]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for month in months:
            traffic = month_traffic(
                args.run / "data" / "features",
                month,
                limits.traffic_phishing_share,
                params.base.seed,
            )
            path = Path(folder) / f"{month}.parquet"
            score_traffic(traffic, args.run / "models" / "angler").to_parquet(path, index=False)
            seen = load_traffic(
                [path], params.featurize.suspicious_tokens, params.data.max_url_length
            )
            results[month] = {"urls": len(seen.features)} | measure_drift(reference, seen, limits)
            print(row(month, results[month]), flush=True)
    write_result(
        args.out,
        {
            "benchmark": "drift_replay",
            "phishing_share": limits.traffic_phishing_share,
            "reference_urls": len(reference.features),
            "months": results,
        },
    )


if __name__ == "__main__":
    main()
