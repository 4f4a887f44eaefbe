# caaprobe as a container image: a static binary on an empty base, run as
# a non-root user. Build: `make image` (docker or podman; the base image
# golang:1.26 comes from a container registry). Where no registry is
# reachable, `make image-local` builds the same final stage from a binary
# built by the host's Go (scripts/image-local.sh). See docs/bulk.md.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The context has no .git (see .dockerignore): the revision comes in as a
# build argument and `caaprobe version` prints it.
ARG VERSION=""
ARG REVISION=""
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags="-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
      -o /out/caaprobe ./cmd/caaprobe

FROM scratch
COPY --from=build /out/caaprobe /usr/local/bin/caaprobe
ENV PATH=/usr/local/bin
# caaprobe needs no privileges: it opens client sockets only (the lab of
# `caaprobe demo` binds high ports on the container's own loopback).
USER 65532:65532
ENTRYPOINT ["caaprobe"]
CMD ["--help"]
