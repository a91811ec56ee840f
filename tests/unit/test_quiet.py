"""Quiet by default (angler/quiet.py): TensorFlow's C++ start-up lines go, every other line
of the process and its children comes through, in order; ANGLER_VERBOSE=1 keeps all."""

import os
import subprocess
import sys

import pytest

from angler import quiet

NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796560039.083698   19491 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results due to floating-point round-off errors.",
    "E0000 00:00:1796560048.480989   19491 util.cc:131] oneDNN supports DT_INT64 only on "
    "platforms with AVX-512. Falling back to the default Eigen-based implementation if present.",
    "Successfully registered model 'angler'.",
    "Created version '12' of model 'angler'.",
]
KEPT = [
    "12:27:22 angler train: training on 11025 URLs, validating on 1337",
    "E0000 00:00:1796560048.480989   19491 session.cc:88] a real TensorFlow error",
    "Traceback (most recent call last):",
    "WARNING: something else",
]

PROGRAM = """
import os, subprocess, sys
from angler.quiet import drop_library_noise
drop_library_noise(tensorflow=True)
lines = sys.argv[1:]
for i, line in enumerate(lines):
    if i % 2:
        subprocess.run(["sh", "-c", 'printf "%s\\\\n" "$0" >&2', line], check=True)  # a child
    else:
        os.write(2, (line + "\\n").encode())  # C++ writes to the file descriptor
print("stdout stays", flush=True)
"""


@pytest.mark.parametrize("line", NOISE)
def test_the_start_up_lines_are_noise(line):
    assert quiet.NOISE.fullmatch(line.encode())


@pytest.mark.parametrize("line", KEPT)
def test_other_lines_are_not(line):
    assert not quiet.NOISE.fullmatch(line.encode())


def run(verbose: bool) -> subprocess.CompletedProcess:
    lines = [NOISE[0], KEPT[0], NOISE[1], KEPT[1], NOISE[2], KEPT[2], *NOISE[3:], KEPT[3]]
    env = {k: v for k, v in os.environ.items() if k != "ANGLER_VERBOSE"}
    if verbose:
        env["ANGLER_VERBOSE"] = "1"
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, *lines], env=env, capture_output=True, text=True
    )


def test_stderr_loses_only_the_noise_and_keeps_the_order():
    done = run(verbose=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == KEPT
    assert done.stdout == "stdout stays\n"


def test_verbose_keeps_everything():
    done = run(verbose=True)
    assert set(NOISE) <= set(done.stderr.splitlines())
