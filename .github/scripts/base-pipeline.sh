#!/usr/bin/env bash
# Usage: base-pipeline.sh BASE_SHA WORK_DIR. Reproduces BASE_SHA's pipeline (the champion, and
# the cache the PR starts from; pulled first if DVC_REMOTE_URL is set), commits it and writes its
# revision to WORK_DIR/rev (WORK_DIR also holds the rebuild's MLflow store), then returns to HEAD,
# with the reproduced dvc.lock when the PR leaves dvc.lock alone.
set -euo pipefail

main() {
  local base_sha=$1 work=$2 head
  head=$(git rev-parse HEAD)
  git checkout --quiet --detach "$base_sha"
  mkdir -p "$work"
  if [ -n "${DVC_REMOTE_URL:-}" ]; then dvc pull --run-cache --allow-missing; fi
  # What is in neither the cache nor the remote is rebuilt; the MLflow runs of a
  # rebuild stay out of the real tracking store.
  export MLFLOW_TRACKING_URI="sqlite:///$work/mlflow.db"
  if dvc repro; then
    git add --all
    git -c user.name=angler-ci -c user.email=ci@angler.invalid \
      commit --quiet --allow-empty --no-verify -m "base as reproduced by this run"
    git rev-parse HEAD > "$work/rev"
  else
    echo "::warning::the base branch's pipeline failed; there is no champion to compare with"
  fi
  git checkout --quiet --force "$head"
  # A PR that leaves dvc.lock alone starts from the base as reproduced here, so its
  # unchanged stages are up to date rather than rerun for outputs no cache holds.
  if [ -f "$work/rev" ] && git diff --quiet "$base_sha" HEAD -- dvc.lock; then
    git show "$(cat "$work/rev"):dvc.lock" > dvc.lock
  fi
}

# All of it is read before it runs: the checkouts above rewrite this very file.
main "$@"
