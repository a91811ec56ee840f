#!/usr/bin/env bash
# Usage: promote-production.sh VERSION BRANCH. Production takes staging's VERSION: `angler
# promote --from-env staging` (refused unless staging pins VERSION, a promote verdict approved
# it and the store holds it intact), committed on its own (a revert is the rollback) and pushed
# to origin's BRANCH, rebased once if a merge landed meanwhile.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: promote-production.sh VERSION BRANCH" >&2; exit 2; }
version=$1 branch=$2
case "$version" in
  "" | *[!0-9]*) echo "VERSION must be a version number, not '$version'" >&2; exit 2 ;;
esac
angler promote --env production --from-env staging --version "$version"
git config user.name angler-ci
git config user.email ci@angler.invalid
git add k8s/overlays/production
git commit --quiet -m "promote angler version $version to production"
git push origin "HEAD:$branch" || { git pull --rebase --quiet origin "$branch" && git push origin "HEAD:$branch"; }
