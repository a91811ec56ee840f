#!/usr/bin/env bash
# `angler report` against the reproduced base (--reproduced-rev, else --base-sha), the DVC remote
# if DVC_REMOTE_URL is set, the served traffic ANGLER_SHADOW_TRAFFIC if set; its comment goes to
# GITHUB_STEP_SUMMARY when set. Exits with the report's status (1: reject). Usage:
# pr-report.sh --base-sha SHA --base-ref REF --head-ref REF --pr N --reproduced-rev FILE --out DIR
set -euo pipefail

usage() {
  echo "usage: pr-report.sh --base-sha SHA --base-ref REF --head-ref REF --pr N" \
    "--reproduced-rev FILE --out DIR" >&2
  exit 2
}
base_sha="" base_ref="" head_ref="" pr="" reproduced_rev="" out=""
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case "$1" in
    --base-sha) base_sha=$2 ;;
    --base-ref) base_ref=$2 ;;
    --head-ref) head_ref=$2 ;;
    --pr) pr=$2 ;;
    --reproduced-rev) reproduced_rev=$2 ;;
    --out) out=$2 ;;
    *) usage ;;
  esac
  shift 2
done
if [ -z "$base_sha" ] || [ -z "$reproduced_rev" ] || [ -z "$out" ]; then usage; fi

base=$(cat "$reproduced_rev" 2>/dev/null || echo "$base_sha")
remote=--no-remote
if [ -n "${DVC_REMOTE_URL:-}" ]; then remote=--remote; fi
status=0
angler report --base "$base" --base-name "$base_ref@${base_sha::7}" \
  --head-name "$head_ref" --pr "$pr" "$remote" --traffic "${ANGLER_SHADOW_TRAFFIC:-}" \
  --out "$out" || status=$?
if [ -f "$out/comment.md" ]; then cat "$out/comment.md" >> "${GITHUB_STEP_SUMMARY:-/dev/null}"; fi
exit "$status"
