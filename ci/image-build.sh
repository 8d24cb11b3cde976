#!/usr/bin/env bash
# Builds the gatehouse:dev image without network access: a static binary
# (go build, CGO_ENABLED=0), the compiled conformance suite beside it
# (go test -c: `gatehouse conformance` runs /scenarios.test) and the host's
# CA bundle in a scratch image (see the Dockerfile and docs/containers.md).
#
#   ci/image-build.sh [TAG]      default TAG: gatehouse:dev
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-gatehouse:dev}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

rev=$(git describe --always --dirty 2>/dev/null || echo unknown)
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$rev" -o "$ctx/gatehouse" ./cmd/gatehouse
CGO_ENABLED=0 go test -c -trimpath -ldflags "-s -w" -o "$ctx/scenarios.test" ./scenarios
cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
printf 'root:x:0:0:root:/:/sbin/nologin\ngatehouse:x:65532:65532:gatehouse:/data:/sbin/nologin\n' >"$ctx/passwd"
printf 'root:x:0:\ngatehouse:x:65532:\n' >"$ctx/group"
mkdir -m 0700 "$ctx/data"
mkdir -m 1777 "$ctx/tmp"
cp Dockerfile "$ctx/Dockerfile"

DOCKER_BUILDKIT=0 docker build --quiet --label "org.opencontainers.image.revision=$rev" -t "$tag" "$ctx" >/dev/null
echo "image: $tag ($(docker image inspect --format '{{.Size}}' "$tag") bytes, revision $rev)"
