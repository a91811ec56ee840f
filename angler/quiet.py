"""Quiet by default: a stage's output is its own lines.

TensorFlow writes its C++ start-up lines ("oneDNN custom operations are on", absl's "All log
messages before absl::InitializeLog() ...") straight to the process's stderr before its log
settings apply, so TF_CPP_MIN_LOG_LEVEL does not reach them (tensorflow/tensorflow#100442).
`drop_library_noise` puts a filter between the process and its stderr that drops exactly
those lines and passes every other byte; Python's own loggers of TensorFlow and MLflow are
set to show only errors and warnings that say something. `--verbose` (or ANGLER_VERBOSE=1)
keeps them all, and writes straight to stderr: where a process dies at once (a C++ abort),
the last lines it wrote can still be in the filter and are lost.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import threading

VERBOSE = "ANGLER_VERBOSE"
# absl's notice; TensorFlow's C++ lines from the files that only announce the CPU's
# features (`I0000 00:00:1796560039.083698   19491 port.cc:153] oneDNN custom ...`);
# MLflow's registry lines, printed past its loggers (the stage logs the version itself).
NOISE = re.compile(
    rb"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IWE]\d{4} [\d:.]+ +\d+ (port|util|cpu_feature_guard)\.cc:\d+\] .*"
    rb"|Successfully registered model '[\w.-]+'\.|Created version '\d+' of model '[\w.-]+'\."
)


def verbose() -> bool:
    return os.environ.get(VERBOSE, "") not in ("", "0")


def drop_library_noise(tensorflow: bool) -> None:
    """Unless verbose: TensorFlow's Python loggers at ERROR, MLflow's pip-version notice
    (the venv has no pip, by design) dropped, and for a command that loads TensorFlow the
    NOISE lines filtered out of stderr (not for the others: a Spark JVM would write
    through the filter)."""
    if verbose():
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the C++ lines that honour it
    for library in ("tensorflow", "absl"):  # every saved asset, every renamed input
        logging.getLogger(library).setLevel(logging.ERROR)
    logging.getLogger("mlflow.utils.environment").addFilter(
        lambda record: not str(record.msg).startswith("Failed to resolve installed pip version")
    )
    if tensorflow:
        _filter_stderr()


def _filter_stderr() -> None:
    sys.stderr.flush()
    original = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)

    def pump() -> None:
        # Never stops reading before the end: a full pipe would block every writer.
        out = os.fdopen(original, "wb", closefd=False)
        with os.fdopen(read, "rb") as pipe:
            for line in pipe:
                if NOISE.fullmatch(line.rstrip(b"\n")):
                    continue
                try:
                    out.write(line)
                    out.flush()
                except OSError:
                    pass

    thread = threading.Thread(target=pump, name="stderr-filter", daemon=True)
    thread.start()

    def restore() -> None:
        sys.stderr.flush()
        os.dup2(original, 2)  # the pipe's last writer gone: the pump reads to the end
        thread.join(timeout=2)

    atexit.register(restore)
