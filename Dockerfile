# gatehouse:dev — the gatehouse binary and the compiled conformance suite
# in a scratch image.
#
# There is no registry here, so no base or build image can be pulled: the
# build context is prepared by ci/image-build.sh (docs/containers.md), which
# compiles a static binary (CGO_ENABLED=0) and copies the host's CA bundle:
#
#   context/gatehouse               static binary
#   context/scenarios.test          the conformance suite (go test -c ./scenarios),
#                                   which `gatehouse conformance` runs from beside itself
#   context/ca-certificates.crt     /etc/ssl/certs/ca-certificates.crt
#   context/passwd, context/group   the non-root user 65532 (gatehouse)
#   context/tmp/, context/data/     empty directories (1777 and 0700/65532)
FROM scratch
COPY passwd group /etc/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --chown=65532:65532 data /data
COPY tmp /tmp
COPY gatehouse /gatehouse
COPY scenarios.test /scenarios.test
USER 65532:65532
ENV TMPDIR=/tmp
WORKDIR /data
ENTRYPOINT ["/gatehouse"]
CMD ["--help"]
