"""Benchmark the PR report's shadow run: a served-traffic window of N URLs read, scored by
the exported model and summarised (sites, kinds, allow list), as `angler report` does it.

The window is drawn from a feature table's URLs (with repeats when N is larger), with times
over a week and served scores from a seeded draw: only the cost is measured here, not what
the comparison finds.

    python bench/shadow_traffic.py --store models/angler --features data/features \
        --urls 1000000 --out bench/results/shadow_traffic.json
    python bench/shadow_traffic.py --store models/angler --features data/features --tiny
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from result_file import write_result  # noqa: E402

from angler.model.export import load_version, score_urls  # noqa: E402
from angler.review.shadow import benign_sites, compare, read_window  # noqa: E402


def window_files(features: Path, urls: int, folder: Path, seed: int = 42) -> None:
    """A week of served traffic, one Parquet file a day."""
    table = pd.read_parquet(features, columns=["url"])
    rng = np.random.default_rng(seed)
    drawn = table["url"].to_numpy()[rng.integers(0, len(table), size=urls)]
    start = pd.Timestamp("2026-11-29", tz="UTC").value
    times = pd.to_datetime(np.sort(rng.integers(start, start + 7 * 86_400 * 10**9, urls)), utc=True)
    frame = pd.DataFrame({"url": drawn, "score": rng.random(urls), "time": times})
    for day, rows in frame.groupby(frame["time"].dt.date):
        rows.to_parquet(folder / f"{day}.parquet", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="model store (model.json)")
    parser.add_argument("--features", type=Path, required=True, help="feature table")
    parser.add_argument("--urls", type=int, default=1_000_000, help="URLs in the window")
    parser.add_argument("--tiny", action="store_true", help="2,000 URLs, as make test runs it")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    urls = 2_000 if args.tiny else args.urls
    seconds = {}
    with tempfile.TemporaryDirectory(prefix="angler-shadow-") as scratch:
        window_files(args.features, urls, Path(scratch))
        start = time.perf_counter()
        window, _ = read_window(Path(scratch), urls)
        seconds["read"] = time.perf_counter() - start
    start = time.perf_counter()
    _, saved_model = load_version(args.store)
    scores = score_urls(saved_model, window["url"].tolist())
    seconds["score"] = time.perf_counter() - start
    start = time.perf_counter()
    summary = compare(window, scores, 0.5, 0.5, benign_sites(args.features, None), 0.95)
    seconds["summarise"] = time.perf_counter() - start
    total = sum(seconds.values())
    result = {
        "benchmark": "shadow_traffic",
        "urls": urls,
        "seconds": {k: round(v, 1) for k, v in seconds.items()} | {"total": round(total, 1)},
        "urls_per_second": round(urls / total),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "sites_newly_flagged": summary["newly_flagged"]["sites"],
        "machine": {"cpus": os.cpu_count()},
    }
    print(
        f"| shadow run, {urls:,} served URLs | {total:.0f} s | read {seconds['read']:.0f} s, "
        f"score {seconds['score']:.0f} s, summarise {seconds['summarise']:.0f} s | "
        f"peak {result['peak_rss_mib']:,} MiB |"
    )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
