#!/usr/bin/env bash
# Usage: pipeline.sh [--push]. Runs the pipeline (`dvc repro`; the validate stage is the data
# gate); with DVC_REMOTE_URL (env) set, it pulls that remote's outputs first (never the
# PR-scoped one's). --push (promotion only) runs every changed stage, none restored from a run
# cache (an export restored would carry another registry's version), then pushes the outputs.
set -euo pipefail

push=false
case "$*" in
  "") ;;
  --push) push=true ;;
  *) echo "usage: pipeline.sh [--push]" >&2; exit 2 ;;
esac
if [ -n "${DVC_REMOTE_URL:-}" ]; then dvc pull --run-cache --allow-missing --remote ci; fi
if [ "$push" = true ]; then
  dvc repro --no-run-cache
  "$(dirname "$0")/dvc-push.sh" ci
else
  dvc repro
fi
