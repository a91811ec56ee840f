#!/usr/bin/env bash
# Usage: pipeline.sh [--push]. Runs the pipeline (`dvc repro`; the validate stage is the data
# gate); with DVC_REMOTE_URL (env) set, it pulls the run cache from that remote first (never
# from the PR-scoped one), and with --push pushes the outputs back to it (promotion only).
set -euo pipefail

push=false
case "$*" in
  "") ;;
  --push) push=true ;;
  *) echo "usage: pipeline.sh [--push]" >&2; exit 2 ;;
esac
if [ -n "${DVC_REMOTE_URL:-}" ]; then dvc pull --run-cache --allow-missing --remote ci; fi
dvc repro
if [ "$push" = true ]; then "$(dirname "$0")/dvc-push.sh" ci; fi
