#!/usr/bin/env bash
# A chaos campaign (docs/chaos.md) for nightly pipelines: build gatehouse,
# run GATEHOUSE_CHAOS_SCHEDULES seeded schedules of faults, admin actions
# and device requests against the gateway, shrink every failing schedule to
# a short YAML one (commit it under chaos/testdata as a regression), and
# summarise the results with gatehouse report.
#
# Environment (all optional):
#   GATEHOUSE_RESULTS          output directory (default gatehouse-results)
#   GATEHOUSE_CHAOS_SCHEDULES  schedules (default 300)
#   GATEHOUSE_CHAOS_SEED       first seed (default: the day of the year
#                              times 10,000, so each night explores new seeds)
#   GATEHOUSE_CHAOS_MODE       in-process (default, with clock jumps), subprocess
#                              (real kill -9; the disk faults as root with unshare -m)
#                              or external (then the GATEHOUSE_GATEWAY_URL,
#                              GATEHOUSE_NOTIFY_URL, GATEHOUSE_RESTART_CMD,
#                              GATEHOUSE_KILL_CMD, GATEHOUSE_START_CMD,
#                              GATEHOUSE_UEM_LISTEN of docs/chaos.md)
#   GATEHOUSE_CHAOS_PARALLEL   worlds at a time (default 4)
#
# Exit status: 0 when nothing was found, 99 when a schedule failed (its
# seed and shrunk schedule are in the results), else the failing step's.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${GATEHOUSE_RESULTS:-gatehouse-results}
mkdir -p "$out/chaos-shrunk" bin
step() { printf '\n=== %s\n' "$*"; }

step "build"
go build -o bin/gatehouse ./cmd/gatehouse || exit 1

seed=${GATEHOUSE_CHAOS_SEED:-$((10#$(date +%j) * 10000))}
mode=${GATEHOUSE_CHAOS_MODE:-in-process}
step "chaos: ${GATEHOUSE_CHAOS_SCHEDULES:-300} schedules from seed $seed ($mode)"
args=(chaos run --mode "$mode" --seed "$seed" --schedules "${GATEHOUSE_CHAOS_SCHEDULES:-300}"
	--parallel "${GATEHOUSE_CHAOS_PARALLEL:-4}" --json "$out/chaos.json" --shrink "$out/chaos-shrunk")
if [[ $mode == external ]]; then
	args+=(--gateway-url "${GATEHOUSE_GATEWAY_URL:?}" --notify-url "${GATEHOUSE_NOTIFY_URL:?}"
		--uem-listen "${GATEHOUSE_UEM_LISTEN:?}" --restart-cmd "${GATEHOUSE_RESTART_CMD:-}"
		--kill-cmd "${GATEHOUSE_KILL_CMD:-}" --start-cmd "${GATEHOUSE_START_CMD:-}")
fi
rc=0
bin/gatehouse "${args[@]}" || rc=$?

step "report"
bin/gatehouse report -o "$out/report" "$out/chaos.json" || { ((rc == 0)) && rc=1; }
if [[ -n ${GITHUB_STEP_SUMMARY:-} && -f $out/report/chaos.md ]]; then
	cat "$out/report/chaos.md" >>"$GITHUB_STEP_SUMMARY"
fi
exit "$rc"
