"""Benchmark the exported SavedModel in process: throughput per batch size and single-URL
latency, through the `serving_default` signature TF Serving calls.

    python bench/inference.py --model models/angler/1 --out bench/results/inference.json
    python bench/inference.py --model models/angler/1 --tiny    # quick, as make test runs it
    python bench/inference.py --model models/angler/2 --against models/angler/1

`--against` times two models at batch 1024, taking turns, each trial one pass over the test
URLs, and prints the median of each and their ratio: on a shared machine whose speed drifts
from one minute to the next, only an interleaved comparison tells two models apart.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from result_file import write_result  # noqa: E402

from angler.model.training import read_shards  # noqa: E402

BATCH_SIZES = (1, 8, 64, 256, 1024, 4096)


def throughput(signature, urls: np.ndarray, batch: int, seconds: float) -> float:
    """URLs per second, calling the signature on consecutive batches for about `seconds`."""
    batches = [tf.constant(urls[i : i + batch]) for i in range(0, len(urls) - batch + 1, batch)]
    signature(urls=batches[0])  # warm-up: traces and allocates
    done, start, i = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        signature(urls=batches[i % len(batches)])
        done += batch
        i += 1
    return done / (time.perf_counter() - start)


def latencies_ms(signature, urls: np.ndarray, count: int) -> np.ndarray:
    samples = []
    for url in urls[:count]:
        start = time.perf_counter()
        signature(urls=tf.constant([url]))
        samples.append((time.perf_counter() - start) * 1000)
    return np.array(samples)


def interleaved(signatures: list, urls: np.ndarray, rounds: int) -> list[float]:
    """Median URLs/s of each signature at batch 1024, each trial one pass over every test
    URL (their speed differs along the file), the signatures taking turns."""
    batches = [tf.constant(urls[i : i + 1024]) for i in range(0, len(urls) - 1023, 1024)]
    trials = [[] for _ in signatures]
    for signature in signatures:
        signature(urls=batches[0])  # warm-up: traces and allocates
    for _ in range(rounds):
        for signature, rates in zip(signatures, trials, strict=True):
            start = time.perf_counter()
            for batch in batches:
                signature(urls=batch)
            rates.append(len(batches) * 1024 / (time.perf_counter() - start))
    return [float(np.median(rates)) for rates in trials]


def compare(signature, args: argparse.Namespace, urls: np.ndarray) -> None:
    other = tf.saved_model.load(str(args.against)).signatures["serving_default"]
    mine, theirs = interleaved([signature, other], urls, 1 if args.tiny else args.rounds)
    print(f"| batch 1024, interleaved | {mine:,.0f} | {theirs:,.0f} | {mine / theirs:.3f} |")
    result = {
        "benchmark": "inference_against",
        "model": str(args.model),
        "against": str(args.against),
        "urls_per_second": {"model": round(mine), "against": round(theirs)},
        "ratio": round(mine / theirs, 3),
    }
    write_result(args.out, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="a SavedModel version folder")
    parser.add_argument("--shards", type=Path, default=Path("data/shards"))
    parser.add_argument("--seconds", type=float, default=5.0, help="per batch size")
    parser.add_argument("--tiny", action="store_true", help="0.2 s per size, 50 latencies")
    parser.add_argument("--against", type=Path, help="a second model to compare, interleaved")
    parser.add_argument("--rounds", type=int, default=9, help="trials per model with --against")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    seconds, latency_count = (0.2, 50) if args.tiny else (args.seconds, 2000)

    urls = read_shards(args.shards, "test")["url"].to_numpy(dtype=object)
    urls = np.resize(urls, max(len(urls), 4 * max(BATCH_SIZES)))
    signature = tf.saved_model.load(str(args.model)).signatures["serving_default"]
    if args.against:
        compare(signature, args, urls)
        return
    rates = {batch: round(throughput(signature, urls, batch, seconds)) for batch in BATCH_SIZES}
    latency = latencies_ms(signature, urls, latency_count)
    result = {
        "benchmark": "inference",
        "model": str(args.model),
        "urls_per_second": rates,
        "single_url_ms": {
            "p50": round(float(np.percentile(latency, 50)), 3),
            "p99": round(float(np.percentile(latency, 99)), 3),
        },
        "threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "cpus": os.cpu_count(),
        },
    }
    print(
        "| SavedModel in process | "
        + " | ".join(f"{rates[b]:,}" for b in BATCH_SIZES)
        + f" | {result['single_url_ms']['p50']} ms | {result['single_url_ms']['p99']} ms |"
    )
    write_result(args.out, result)


if __name__ == "__main__":
    main()
