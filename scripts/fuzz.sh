#!/usr/bin/env bash
# Runs every native fuzz target of the module for the given time each
# (default 5m) and prints the exec count of each. Fails on the first crash.
# FUZZPARALLEL=N limits the fuzzing workers (default: one per CPU).
set -euo pipefail
fuzztime=${1:-5m}
cd "$(dirname "$0")/.."
status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "== $pkg $target ($fuzztime)"
    if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" ${FUZZPARALLEL:+-parallel "$FUZZPARALLEL"} "$pkg" 2>&1 | tee /tmp/fuzz-$target.log | grep -E 'elapsed:.*execs|^(ok|FAIL|---)' | tail -3; then
      status=1
    fi
    grep -q '^ok' /tmp/fuzz-$target.log || { echo "FAIL: $target"; status=1; }
  done
done
exit $status
