#!/usr/bin/env bash
# Runs every native fuzz target of the module for the given time each
# (default 5m) and prints the exec count of each. Fails on any real finding.
# FUZZPARALLEL=N limits the fuzzing workers (default: one per CPU).
#
# Go 1.26's fuzz coordinator has a shutdown race at the -fuzztime boundary
# (a Go bug, fixed in Go 1.27): a worker still busy when the time
# is up makes the target fail with a bare "context deadline exceeded", no
# failing input and no test output. A real finding always writes its input
# to testdata/fuzz/TARGET and prints why. So a run that fails with nothing
# but that line is replayed on its corpus (deterministic, no deadline) and
# fuzzed once more; it fails only if either of those fails.
set -euo pipefail
fuzztime=${1:-5m}
cd "$(dirname "$0")/.."
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

# fuzz PKG TARGET LOG: one fuzzing run; its summary lines on stdout.
fuzz() {
  local rc=0
  go test -run='^$' -fuzz="^$2\$" -fuzztime="$fuzztime" ${FUZZPARALLEL:+-parallel "$FUZZPARALLEL"} "$1" >"$3" 2>&1 || rc=$?
  grep -E 'elapsed:.*execs|^(ok|FAIL|---)' "$3" | tail -3 || true
  return $rc
}

# deadline_race LOG: true when the run failed only by the coordinator race.
deadline_race() {
  grep -q 'context deadline exceeded' "$1" || return 1
  ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:|fuzzing process hung|testdata/fuzz/' "$1"
}

status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "== $pkg $target ($fuzztime)"
    log=$logdir/$target.log
    if fuzz "$pkg" "$target" "$log"; then
      continue
    fi
    if deadline_race "$log"; then
      echo "   coordinator deadline race (go.dev/issue/75804), no failing input: replaying the corpus and fuzzing again"
      if go test -run="^$target\$" -count=1 "$pkg" >"$log.replay" 2>&1 && fuzz "$pkg" "$target" "$log.again"; then
        continue
      fi
      if [ -f "$log.again" ] && deadline_race "$log.again"; then
        echo "   the race again; corpus replay passed, so no input is known to fail"
        continue
      fi
      cat "$log.replay" "$log.again" 2>/dev/null | tail -40
    else
      # Everything after the first failure line: the input, the panic, the test's message.
      sed -n '/^--- FAIL\|^panic:\|Failing input/,$p' "$log" | head -60
    fi
    echo "FAIL: $target"
    status=1
  done
done
exit $status
