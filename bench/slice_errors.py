"""Where the served model errs on one test slice, at its operating threshold.

Scores the slice's URLs with a run's model (`models/keras/angler.keras`, the served
average of the two halves) at the threshold `evaluate` chose (`metrics/evaluate.json`), and
breaks the errors down: each source by the month its URLs were first seen; bare hosts
against URLs with a path (their share, rate and ROC AUC); the top-level domains of the
flagged benign URLs, and a seeded sample of them to read. Prints one Markdown table row
per source and month.

    python bench/slice_errors.py --run . --slice temporal \
        --out bench/results/slice_errors_temporal.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pandas as pd  # noqa: E402
from result_file import write_result  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

import angler.model.network  # noqa: E402, F401  (registers the model's layers)
from angler.data.checks import SHORTCUT_PATTERNS  # noqa: E402
from angler.model.training import predict  # noqa: E402

COLUMNS = ["url", "url_key", "label", "source", "first_seen", "tld"]


def scored_slice(run: Path, name: str) -> pd.DataFrame:
    """The slice's URLs with their served score and whether each is a bare host (none
    scored when the slice has no URLs)."""
    rows = pd.read_parquet(
        run / "data" / "features", columns=COLUMNS, filters=[("split", "==", name)]
    )
    if rows.empty:
        return rows
    model = keras.models.load_model(run / "models" / "keras" / "angler.keras")
    rows["score"] = predict(model, rows["url"])
    rows["bare_host"] = rows["url_key"].str.contains(SHORTCUT_PATTERNS["bare_host"])
    first_seen = pd.to_datetime(rows["first_seen"])
    rows["month"] = first_seen.dt.strftime("%Y-%m").fillna("undated")
    return rows


def rate(rows: pd.DataFrame, threshold: float) -> float | None:
    """The share flagged (benign) or caught (phishing) at the threshold."""
    return round(float((rows["score"] >= threshold).mean()), 4) if len(rows) else None


def _roc_auc(rows: pd.DataFrame) -> float | None:
    if rows["label"].nunique() < 2:
        return None
    return round(float(roc_auc_score(rows["label"], rows["score"])), 4)


def breakdown(rows: pd.DataFrame, threshold: float, sample: int, seed: int) -> dict:
    by_month = [
        {"source": source, "month": month, "label": int(group["label"].iloc[0]),
         "urls": len(group), "rate": rate(group, threshold)}
        for (source, month), group in rows.groupby(["source", "month"], sort=True)
    ]  # fmt: skip
    by_form = {
        kind: {
            form: {"urls": len(part), "share": round(len(part) / max(len(cls), 1), 4),
                   "rate": rate(part, threshold)}
            for form, part in (("bare_host", cls[cls["bare_host"]]),
                               ("with_path", cls[~cls["bare_host"]]))
        }
        for kind, cls in (("benign", rows[rows["label"] == 0]),
                          ("phishing", rows[rows["label"] == 1]))
    }  # fmt: skip
    flagged = rows[(rows["label"] == 0) & (rows["score"] >= threshold)]
    return {
        "urls": len(rows),
        "flagged": rate(rows[rows["label"] == 0], threshold),
        "caught": rate(rows[rows["label"] == 1], threshold),
        "by_source_month": by_month,
        "bare_host_or_path": by_form,
        "roc_auc_bare_host_or_path": {
            form: _roc_auc(rows[rows["bare_host"] == bare])
            for form, bare in (("bare_host", True), ("with_path", False))
        },
        "flagged_benign_tlds": flagged["tld"].value_counts().head(12).to_dict(),
        "flagged_benign_sample": [
            {"source": row.source, "url_key": row.url_key, "score": round(float(row.score), 4)}
            for row in flagged.sample(min(sample, len(flagged)), random_state=seed).itertuples()
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=Path("."), help="a pipeline run's folder")
    parser.add_argument("--slice", default="temporal", help="test or temporal (default)")
    parser.add_argument("--sample", type=int, default=25, help="flagged benign URLs to list")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    threshold = json.loads((args.run / "metrics" / "evaluate.json").read_text())["operating_point"][
        "threshold"
    ]
    rows = scored_slice(args.run, args.slice)
    if rows.empty:
        parser.error(f"--slice {args.slice}: no URLs in {args.run / 'data' / 'features'}")
    result = {"slice": args.slice, "threshold": threshold}
    result |= breakdown(rows, threshold, args.sample, args.seed)
    for row in result["by_source_month"]:
        what = "caught" if row["label"] else "flagged"
        print(f"| {row['source']} | {row['month']} | {row['urls']:,} | {what} {row['rate']:.2%} |")
    write_result(args.out, result)


if __name__ == "__main__":
    main()
