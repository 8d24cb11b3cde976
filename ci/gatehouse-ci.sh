#!/usr/bin/env bash
# What the CI templates (ci/github-actions.yml, ci/gitlab-ci.yml; see
# docs/ci.md) run: build gatehouse and the compiled conformance suite, run
# the suite against the gateway under test, run a short load preset with
# thresholds, and write the report (HTML, JUnit, Markdown, CSV).
#
# Environment (all optional):
#   GATEHOUSE_RESULTS        output directory (default gatehouse-results)
#   GATEHOUSE_GATEWAY_URL    device-facing URL of the gateway under test;
#   GATEHOUSE_NOTIFY_URL     its UEM notification URL;
#   GATEHOUSE_RESTART_CMD    a command (re)starting it against the suite's UEM.
#                            Empty URL: the bundled gateway (local mode).
#   GATEHOUSE_LABEL_FILTER   conformance specs (default: !slow)
#   GATEHOUSE_LOAD_SPEC      fleet spec (default ci/load-smoke.yaml)
#   GATEHOUSE_LOAD_TARGET    load target URL (default: an in-process lab)
#
# Exit status: 0 when everything passed; else the first failing step's
# (conformance 1, load thresholds 99). The report is written either way.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${GATEHOUSE_RESULTS:-gatehouse-results}
mkdir -p "$out" bin
step() { printf '\n=== %s\n' "$*"; }

step "build"
go build -o bin/gatehouse ./cmd/gatehouse || exit 1
go test -c -o bin/scenarios.test ./scenarios || exit 1

rc=0
step "conformance (${GATEHOUSE_LABEL_FILTER:-!slow})"
args=(conformance --suite bin/scenarios.test --results "$out/conformance" --gateway-binary bin/gatehouse)
[[ -n ${GATEHOUSE_LABEL_FILTER:-} ]] && args+=(--label-filter "$GATEHOUSE_LABEL_FILTER")
[[ -n ${GATEHOUSE_GATEWAY_URL:-} ]] && args+=(--gateway-url "$GATEHOUSE_GATEWAY_URL" --notify-url "${GATEHOUSE_NOTIFY_URL:?GATEHOUSE_NOTIFY_URL is required with GATEHOUSE_GATEWAY_URL}")
[[ -n ${GATEHOUSE_RESTART_CMD:-} ]] && args+=(--restart-cmd "$GATEHOUSE_RESTART_CMD")
bin/gatehouse "${args[@]}" || rc=$?

step "load (${GATEHOUSE_LOAD_SPEC:-ci/load-smoke.yaml})"
load=(loadgen run -q --spec "${GATEHOUSE_LOAD_SPEC:-ci/load-smoke.yaml}" -o "$out/load.json")
if [[ -n ${GATEHOUSE_LOAD_TARGET:-} ]]; then
	load+=(--target "$GATEHOUSE_LOAD_TARGET")
else
	# The lab gateway's statistics every second: the report charts its cache and heap.
	rm -rf "$out/lab"
	load+=(--lab --lab-dir "$out/lab" --lab-stats-interval 1s)
fi
lrc=0
bin/gatehouse "${load[@]}" || lrc=$?
((rc == 0)) && rc=$lrc

step "report"
inputs=()
for f in "$out/conformance/report.json" "$out/load.json" "$out"/lab/gateway-data/*-stats.csv; do
	[[ -s $f ]] && inputs+=("$f")
done
if ((${#inputs[@]} == 0)); then
	echo "no results to report"; exit $((rc == 0 ? 1 : rc))
fi
bin/gatehouse report --title "gatehouse CI report" -o "$out/report" "${inputs[@]}" || { ((rc == 0)) && rc=1; }
if [[ -n ${GITHUB_STEP_SUMMARY:-} && -f $out/report/summary.md ]]; then
	cat "$out/report/summary.md" >>"$GITHUB_STEP_SUMMARY"
fi
echo "report: $out/report/report.html, JUnit: $out/report/junit.xml (exit $rc)"
exit "$rc"
