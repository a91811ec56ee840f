#!/usr/bin/env bash
# Usage: dvc-remote.sh. Makes DVC_REMOTE_URL (env; the trusted remote, read-only for a PR) the
# default DVC remote `ci`, with every pulled object's hash checked, and DVC_PR_REMOTE_URL (env)
# the remote `pr` that a PR run pushes to; without them (a fork's PR, or none configured) the
# pipeline runs on demo data.
set -euo pipefail

if [ -n "${DVC_REMOTE_URL:-}" ]; then
  dvc remote add --local --default --force ci "$DVC_REMOTE_URL"
  dvc remote modify --local ci verify true
  echo "data and outputs come from the DVC remote"
else
  echo "no DVC remote (a fork PR, or none configured): the pipeline runs on demo data"
fi
if [ -n "${DVC_PR_REMOTE_URL:-}" ]; then
  dvc remote add --local --force pr "$DVC_PR_REMOTE_URL"
fi
