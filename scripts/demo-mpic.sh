#!/usr/bin/env bash
# demo-mpic: a live multi-perspective check on loopback (docs/perspectives.md).
# The regional lab (caaprobe lab --bad-source) answers regional.test's CAA
# with REFUSED to one source address, 127.0.1.3; five agents each send
# their queries from their own 127.0.1.x; the primary checks from
# 127.0.0.1 and asks the agents. Plain HTTP on loopback (--insecure-http):
# a real deployment uses TLS. Everything is stopped on exit.
set -euo pipefail
BIN=${BIN:-./bin/caaprobe}
BAD=${BAD:-127.0.1.3}
dir=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
# wait_for FILE REGEX: the first match of REGEX in FILE, within 10 s.
wait_for() {
	for _ in $(seq 100); do
		if m=$(grep -oE "$2" "$1" 2>/dev/null | head -1) && [ -n "$m" ]; then echo "$m"; return; fi
		sleep 0.1
	done
	echo "demo-mpic: timed out waiting for $2 in $1:" >&2; cat "$1" >&2; exit 1
}
"$BIN" lab --bad-source "$BAD=refused" >"$dir/lab.out" 2>&1 &
pids+=($!)
port=$(wait_for "$dir/lab.out" 'port [0-9]+' | cut -d' ' -f2)
anchor=$(wait_for "$dir/lab.out" 'trust-anchor [^ ]+' | cut -d' ' -f2)
(umask 077; echo "demo-token-$RANDOM$RANDOM" >"$dir/token")
rirs=(ARIN RIPE APNIC LACNIC AFRINIC)
entries=()
for i in 1 2 3 4 5; do
	rir=${rirs[$((i-1))]}
	"$BIN" agent --insecure-http --listen 127.0.0.1:0 --label "agent$i" --rir "$rir" --token-file "$dir/token" \
		--source "127.0.1.$i" --root "127.0.0.2:$port" --lab --timeout 1 --retries 0 --probes caa >"$dir/agent$i.out" 2>&1 &
	pids+=($!)
done
for i in 1 2 3 4 5; do
	url=$(wait_for "$dir/agent$i.out" 'http://[0-9.:]+')
	entries+=("{\"url\":\"$url\",\"label\":\"agent$i\",\"rir\":\"${rirs[$((i-1))]}\",\"token_file\":\"$dir/token\"}")
	cat "$dir/agent$i.out"
done
(IFS=,; echo "{\"agents\":[${entries[*]}]}") >"$dir/perspectives.json"
echo
echo "caaprobe check --perspectives (5 agents; regional.test answers REFUSED to $BAD):"
echo
set +e
"$BIN" check --root "127.0.0.2:$port" --trust-anchor "$anchor" --timeout 1 --retries 0 --probes caa \
	--vantage primary --perspectives "$dir/perspectives.json" ok.test regional.test
rc=$?
set -e
echo "exit status $rc (0: the CA would issue every name; 3: it would refuse one)"
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]
