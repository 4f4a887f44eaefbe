#!/usr/bin/env bash
# Build the caaprobe image without a container registry: the binary is
# built by the host's Go (static, CGO_ENABLED=0) and put into the same final
# stage as the Dockerfile's (FROM scratch, non-root, ENTRYPOINT caaprobe).
# Then `caaprobe demo` runs in it with no network but its own loopback, and
# must exit 3 (the lab is full of faults on purpose).
#
# Usage: scripts/image-local.sh [TAG]      (default caaprobe:local)
# Needs podman (apt-get install podman runc). On a host whose cgroups or
# rlimits podman cannot manage (a container without systemd), set
# CONTAINERS_CONF to a file with `default_ulimits = []` and run with
# PODMAN_RUNTIME=runc; the script does both when the first try fails.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-caaprobe:local}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
rev=$(git rev-parse HEAD 2>/dev/null || echo unknown)
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
  -ldflags="-s -w -X main.revision=$rev" -o "$ctx/caaprobe" ./cmd/caaprobe
# The Dockerfile's final stage, word for word, with the binary from the context.
sed -n '/^FROM scratch/,$p' Dockerfile | sed 's#^COPY --from=build /out/caaprobe #COPY caaprobe #' > "$ctx/Containerfile"
podman build -q -t "$tag" -f "$ctx/Containerfile" "$ctx"
run() { podman ${PODMAN_RUNTIME:+--runtime "$PODMAN_RUNTIME"} run --rm --network=none "$tag" "$@"; }
if ! run version; then
  printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\n' > "$ctx/containers.conf"
  export CONTAINERS_CONF="$ctx/containers.conf" PODMAN_RUNTIME=runc
  run version
fi
set +e
run demo --no-color > "$ctx/demo.out"
status=$?
set -e
echo "caaprobe demo in $tag: exit $status, $(grep -c '' "$ctx/demo.out") lines of report"
podman image inspect "$tag" --format 'image {{.Id}}: {{.Size}} bytes, user {{.Config.User}}, entrypoint {{.Config.Entrypoint}}'
[ "$status" -eq 3 ]
