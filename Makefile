# caaprobe — see README.md. Every target talks only to the loopback.
GO      ?= go
BIN     := bin/caaprobe
PKGS    := ./...
FUZZTIME ?= 5m

.PHONY: build test demo demo-mpic evidence lab lint fuzz fuzz-short bench interop clean docs man image image-local

build:
	$(GO) build -o $(BIN) ./cmd/caaprobe

## demo: start the built-in lab and check every lab domain (no network needed).
## caaprobe exits 3 when it finds faults, and the lab is full of them on purpose.
demo: build
	./$(BIN) demo || [ $$? -eq 3 ]

## evidence: run the demo and write an evidence bundle per failing lab domain to out/evidence (docs/evidence.md)
evidence: build
	./$(BIN) demo --evidence out/evidence >/dev/null || [ $$? -eq 3 ]  # 3: findings, as the lab intends

## demo-mpic: a live multi-perspective check on loopback: the regional lab, 5 agents, the primary (docs/perspectives.md)
demo-mpic: build
	./scripts/demo-mpic.sh

## lab: serve the lab until Ctrl-C, for dig and check
lab: build
	./$(BIN) lab

## test: every test, with the race detector. A -race binary sleeps 1 s at
## exit by default (GORACE atexit_sleep_ms) to let other threads finish a
## report: a second per package for nothing; 10 ms still lets a report out.
## -parallel 4: a package's parallel tests run GOMAXPROCS (2) at a time
## by default, and the CLI's end-to-end tests wait on the lab's dropping
## servers and on chromium more than they compute: with 4 at once the
## waits overlap the work (cmd/caaprobe 86 s -> 65 s on 2 cores).
GORACE ?= atexit_sleep_ms=10
test:
	$(GO) vet $(PKGS)
	GORACE='$(GORACE)' $(GO) test -race -count=1 -parallel 4 $(PKGS)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet $(PKGS)

## fuzz: run every fuzz target for FUZZTIME each (make fuzz FUZZTIME=15s for a short pass)
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

fuzz-short:
	./scripts/fuzz.sh 15s

## bench: Go benchmarks (BenchmarkServeSubmit: serve under 16 concurrent clients: req/s, p50/p99, 429s, RSS), then the 10,000-zone lab benchmark (CAA-only on both shapes and full plan; BENCH_N=100000 for the big one)
BENCH_N ?= 10000
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem ./probes/... ./fixtures
	./$(BIN) bench-lab -n $(BENCH_N) --probes caa
	./$(BIN) bench-lab -n $(BENCH_N) --probes caa --shape vanity
	./$(BIN) bench-lab -n $(BENCH_N)

## interop: real BIND, NSD, Knot, PowerDNS and Unbound on loopback (root only; docs/interop.md)
interop:
	@trap './fixtures/interop/lab.sh down' EXIT; \
	./fixtures/interop/lab.sh up && \
	CAAPROBE_INTEROP=$$(./fixtures/interop/lab.sh env) $(GO) test -race -count=1 -v ./fixtures/interop/...

clean:
	rm -rf bin out man

## man: write the man pages (man/caaprobe.1, man/caaprobe-check.1, …) from the command definitions
man:
	$(GO) run ./cmd/caaprobe man man

## image: build the container image from the Dockerfile (needs a container registry for golang:1.26)
ENGINE ?= $(shell command -v podman || command -v docker)
image:
	$(ENGINE) build --build-arg REVISION=$$(git rev-parse HEAD) -t caaprobe:latest .

## image-local: the same final image from the host's Go build, with no registry; runs the demo in it
image-local:
	./scripts/image-local.sh caaprobe:local

## docs: regenerate docs/probes.md from the catalog (a test fails when it is stale)
docs:
	$(GO) run ./cmd/caaprobe probes --markdown > docs/probes.md
