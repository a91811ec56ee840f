#!/usr/bin/env bash
# Usage: promote-verdict.sh BEFORE_SHA OUT_DIR. `angler report --remote` of the merge against
# BEFORE_SHA into OUT_DIR; its comment.md goes to GITHUB_STEP_SUMMARY when that is set. A reject
# (status 1) exits 0, for promote-commit.sh to handle; any other failure fails.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: promote-verdict.sh BEFORE_SHA OUT_DIR" >&2; exit 2; }
before_sha=$1 out=$2
status=0
angler report --base "$before_sha" --base-name "main@${before_sha::7}" --remote \
  --out "$out" || status=$?
cat "$out/comment.md" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"
if [ "$status" -gt 1 ]; then exit "$status"; fi # 1 is a reject: handled by promote-commit.sh
