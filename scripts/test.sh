#!/usr/bin/env bash
# The test command: installs (idempotent), then runs both test tiers: the fast tier (what plain
# `pytest` runs, under 5 minutes on 2 cores), then the slow tier (`-m slow`). Arguments go to
# both runs, e.g. `scripts/test.sh tests/lab -x`. A tier with no test in the selection counts
# as passed (pytest exit code 5). Both tiers always run; the exit code is non-zero if either
# failed. docs/testing.md explains the tiers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# PostgreSQL, for the memory tests' server path (a throwaway cluster on a loopback port): Debian's
# package, installed once when missing. Without apt the test says why it is skipped.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "== installing postgresql (apt, once)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
    || echo "warning: could not install postgresql; the PostgreSQL memory test will be skipped" >&2
fi
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 KERAS_BACKEND=torch

tier() {
  local name=$1 marker=$2 rc=0
  shift 2
  echo "== $name tier (-m \"$marker\")"
  python -m pytest -m "$marker" "$@" || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "== $name tier: no tests selected"
    rc=0
  fi
  return "$rc"
}

fast=0
slow=0
tier fast "not slow" "$@" || fast=$?
tier slow "slow" "$@" || slow=$?
echo "== fast tier exit $fast, slow tier exit $slow"
if [ "$fast" -ne 0 ]; then
  exit "$fast"
fi
exit "$slow"
