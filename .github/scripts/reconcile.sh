#!/usr/bin/env bash
# Usage: reconcile.sh ENV. Registry -> git, reported only: if MLflow's `champion` alias is not
# ENV's pinned version, opens an issue with `angler reconcile`'s drift report (`gh`, env
# GH_TOKEN) unless one with its title is open. Publishes, commits and pushes nothing. Needs
# MLFLOW_TRACKING_URI (env; without it there is nothing to do).
set -euo pipefail

env_name=${1:?usage: reconcile.sh ENV}
if [ -z "${MLFLOW_TRACKING_URI:-}" ]; then echo "no MLflow server configured"; exit 0; fi
report=$(mktemp)
status=0
.venv/bin/angler reconcile --env "$env_name" --report "$report" || status=$?
if [ "$status" -eq 0 ]; then exit 0; fi
if [ "$status" -ne 1 ]; then exit "$status"; fi # an error, not drift: the job fails
title=$(head -n 1 "$report" | sed 's/^# //')
open=$(gh issue list --state open --search "\"$title\" in:title" --json title --jq '.[].title')
if grep -qxF -- "$title" <<<"$open"; then echo "already open: $title"; exit 0; fi
gh issue create --title "$title" --body-file "$report"
