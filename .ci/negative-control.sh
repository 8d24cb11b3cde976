#!/usr/bin/env bash
# The conformance suite's negative control (docs/conformance.md, "Negative
# control"): the decision specs of the compiled suite, in conformance mode,
# against Debian's nginx as a plain TLS reverse proxy in front of the
# suite's fake Exchange, a gateway that makes no decisions. Fails when a
# decision spec passes there (it cannot fail: a defect of the suite) or
# did not run its body. The specs run in 3 shards, each a suite process with
# its own nginx and fakes. About 90 s with the build on a busy 2-core machine.
#
# Environment (all optional):
#   GATEHOUSE_NGINX              nginx binary (default: nginx on PATH, else /usr/sbin/nginx)
#   GATEHOUSE_SUITE              compiled suite (default: built here, bin/scenarios.test)
#   GATEHOUSE_NEGATIVE_RESULTS   report.json, suite.log and nginx's logs
#                                (default: negative-control-results)
#   GATEHOUSE_NEGATIVE_EVENTUALLY_TIMEOUT  the suite's eventually-timeout (default 2s)
#   GATEHOUSE_NEGATIVE_FOCUS     a regexp narrowing the decision specs, to rerun some
#   GATEHOUSE_NEGATIVE_SHARDS    suite processes, each with its own nginx (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin"

if ! command -v "${GATEHOUSE_NGINX:-nginx}" >/dev/null; then
	echo "negative control: no nginx (Debian: apt-get install nginx, or set GATEHOUSE_NGINX)" >&2
	exit 1
fi
if [[ -z ${GATEHOUSE_SUITE:-} ]]; then
	mkdir -p bin
	go test -c -o bin/scenarios.test ./scenarios
	export GATEHOUSE_SUITE=$PWD/bin/scenarios.test
fi
export GATEHOUSE_NEGATIVE_RESULTS=${GATEHOUSE_NEGATIVE_RESULTS:-$PWD/negative-control-results}
rm -rf "$GATEHOUSE_NEGATIVE_RESULTS"
GATEHOUSE_NEGATIVE_CONTROL=1 go test -count=1 -timeout 15m -v -run '^TestNegativeControl$' ./scenarios/negative/
