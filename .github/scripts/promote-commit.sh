#!/usr/bin/env bash
# Usage: promote-commit.sh REPORT_JSON BRANCH. Commits the pipeline outputs with REPORT_JSON's
# verdict; on `promote`, `angler promote` for staging only, committed on its own (a revert is the
# rollback); pushes HEAD to origin's BRANCH, and exits 1 on `reject`. Production follows in the
# promote-production workflow, once the version is healthy in staging.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: promote-commit.sh REPORT_JSON BRANCH" >&2; exit 2; }
report=$1 branch=$2
decision=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["verdict"]["decision"])' "$report")
git config user.name angler-ci
git config user.email ci@angler.invalid
git add dvc.lock metrics plots reports
if ! git diff --cached --quiet; then
  git commit --quiet -m "pipeline outputs of the merge (verdict: $decision)"
fi
if [ "$decision" = promote ]; then
  angler promote --env staging --verdict "$report"
  version=$(python3 -c 'import json; print(json.load(open("models/angler/model.json"))["version"])')
  git add k8s/overlays/staging
  git commit --quiet -m "promote angler version $version to staging"
fi
# A merge may have landed while this ran: rebase on it and retry once (the concurrency group
# keeps promotions themselves one at a time).
git push origin "HEAD:$branch" || { git pull --rebase --quiet origin "$branch" && git push origin "HEAD:$branch"; }
if [ "$decision" = reject ]; then
  echo "::error::the merged model is worse than the one before it: not promoted"
  exit 1
fi
