"""The exported SavedModel's memory for the worst requests TF Serving can batch: a full batch
(`max_batch_size` of k8s/base/batching.config) of long URLs, and a few URLs of 1 MB. Each case
runs in a fresh process: peak RSS after loading the model and scoring one ordinary batch, then
the peak while scoring the case; the difference is what one batch costs.

    python bench/serving_memory.py --model models/angler/1 --out bench/results/serving_memory.json
    python bench/serving_memory.py --model models/angler/1 --tiny
    python bench/serving_memory.py --model old/1 --cases 1024x8192,4x1048576   # a model
                                                        # without the cut: keep the cases small

The pod's memory (k8s/base/deployment.yaml) must hold the loaded model plus one such batch
per batch thread (`num_batch_threads`), with headroom; BENCHMARKS.md records the numbers.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from result_file import write_result

REPO = Path(__file__).resolve().parents[1]
BATCHING = REPO / "k8s" / "base" / "batching.config"

CASE = """
import os, resource, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
model, batch, length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
score = tf.saved_model.load(model).signatures["serving_default"]
score(urls=tf.constant(["http://example.com/login"] * 64))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
urls = tf.constant(["http://example.com/" + "a/b-c" * (length // 5)] * batch)
start = time.perf_counter()
score(urls=urls)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before / 1024, after / 1024, seconds)
"""


def max_batch_size() -> int:
    return int(re.search(r"max_batch_size \{ value: (\d+) \}", BATCHING.read_text()).group(1))


def run_case(model: Path, batch: int, length: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CASE, str(model), str(batch), str(length)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded, peak, seconds = map(float, done.stdout.split()[-3:])
    return {
        "batch": batch,
        "url_bytes": length,
        "loaded_rss_mib": round(loaded),
        "peak_rss_mib": round(peak),
        "batch_mib": round(peak - loaded),
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a SavedModel version folder")
    parser.add_argument("--out", type=Path, help="where to write the JSON result")
    parser.add_argument("--tiny", action="store_true", help="small cases, for the tests")
    parser.add_argument(
        "--cases", help="BATCHxBYTES,...; default: a full batch of 128 B, 8 KB, 64 KB and 1 MB URLs"
    )
    args = parser.parse_args()
    full = max_batch_size()
    if args.cases:
        cases = [tuple(map(int, case.split("x"))) for case in args.cases.split(",")]
    elif args.tiny:
        cases = [(8, 2048), (2, 65536)]
    else:
        cases = [(full, 128), (full, 8192), (full, 65536), (4, 1 << 20), (full, 1 << 20)]
    result = {"model": str(args.model), "max_batch_size": full, "cases": []}
    for batch, length in cases:
        case = run_case(args.model, batch, length)
        print(json.dumps(case), flush=True)
        result["cases"].append(case)
    write_result(args.out, result)


if __name__ == "__main__":
    main()
