#!/usr/bin/env bash
# Held Pings at scale (issue 26), nightly / manual, not in .ci/run:
# GATEWAYS gateway processes share one device port (--reuse-port: the
# kernel spreads new connections over them), each with its own cache and
# data directory, all on the lab's UEM and its HTTP/2 Exchange (upstream
# Pings share connections, so a Ping holds one of a gateway's files, not
# two). The load generator runs in as many shards (--shard i/n), each a
# process of its own, merged into one result. The open-file limit is per
# process: raised here to the hard limit, it bounds each process, not the
# total.
#
#   .ci/ping-scale.sh [devices=100000] [gateways=8] [ramp_s=330] [hold_s=60]
#
# GOGC: 50 unless set. MAX_CONNS (default 19000) bounds each shard's connections (--max-conns).
# The CPU time each kind of process spent from the start of the load to
# the plateau (ramp + hold) is printed per device. DASHBOARD=1 keeps the
# lab's dashboard on; GATEHOUSE_BIN: a prebuilt binary instead of a build
# (the lab start-up is .ci/lib/lab.sh's). PROFILE=1 also profiles the ramp's middle third: gateway 0
# (/debug/pprof/profile), shard 0 (-cpuprofile), the lab's fakes (perf
# record, when perf is installed): gw0.cpu.pprof, shard0.cpu.pprof, lab.perf.
#
# Prints: held Pings at the plateau (the loadgen's series), the gateways'
# RSS at the plateau against their idle RSS before the load (per held
# Ping), first-contact p99 (Provision of new devices), then kills one
# gateway with SIGKILL under load and reports the held Pings after its
# devices reconnected to the others, and probes that a device blocked at
# the UEM is refused (403) through the shared port by every gateway left.
# Results stay in $WORK (default: a temporary directory, kept): merged.json
# (`gatehouse report merged.json -o DIR` charts it), rss.csv, the logs,
# and from the plateau one gateway's heap.pprof and goroutines.txt, shard
# 0's and the lab's shard0.* / lab.* (heap.txt, heap.pprof,
# goroutines.txt: GATEHOUSE_DEBUG_PPROF serves them).
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${1:-100000} gws=${2:-8} ramp=${3:-330} hold=${4:-60}
# GOGC=50 for every process (a GOGC already set wins): the heap may grow to
# 1.5 times the live heap before a collection instead of twice, about 32 KB
# less RSS a held Ping over gateway, load generator and lab at 3,000 Pings
# for about 5 % more CPU a device (docs/performance.md, "100,000 held Pings").
export GOGC=${GOGC:-50}
. .ci/lib/lab.sh
lab_setup ping-scale
echo "open-file limit per process: $(ulimit -n)"
# Every lab and load generator process serves /debug/pprof/ on a port of
# its own (GATEHOUSE_DEBUG_PPROF), for the plateau's profiles below.
GATEHOUSE_DEBUG_PPROF=127.0.0.1:0 lab_start --http2 --users 8
port=$(free_port)

gwpid=()
for i in $(seq 0 $((gws - 1))); do
	lab_gateway "gw$i" --reuse-port --listen "127.0.0.1:$port" --upstream-http2 \
		--check-interval 10s --resync-interval 60s --stats-interval 10s
	gwpid+=("$gwlast")
done
for i in $(seq 0 $((gws - 1))); do lab_wait_gateway "gw$i"; done
echo "$gws gateways on 127.0.0.1:$port"

labgw=$(pgrep -P "$labpid" | head -n1 || true) # the lab's own gateway (a subprocess), idle
idle=$(rss_all "${gwpid[@]}") lab_idle=$(rss_all "$labpid")

total=$((ramp + 3 * hold))
ping_spec ping-scale "$devices" "$total" 0.5/h "$ramp"
run=scale$RANDOM
gw_cpu0=$(cpu_ticks "${gwpid[@]}") lab_cpu0=$(cpu_ticks "$labpid") labgw_cpu0=$(cpu_ticks $labgw)
shardpid=()
for i in $(seq 0 $((gws - 1))); do
	prof=()
	[[ ${PROFILE:-} == 1 && $i == 0 ]] && prof=(--cpuprofile "$work/shard0.cpu.pprof")
	GATEHOUSE_DEBUG_PPROF=127.0.0.1:0 "$gh" loadgen run --spec "$work/spec.yaml" --target "https://127.0.0.1:$port" --shard "$i/$gws" --run-id "$run" \
		--max-conns "${MAX_CONNS:-19000}" "${prof[@]}" -q -o "$work/shard$i.json" >"$work/shard$i.txt" 2>&1 &
	pids+=($!)
	shardpid+=($!)
done
start=$SECONDS
echo "t_s,gateways_rss_kib,loadgen_rss_kib,lab_rss_kib" >"$work/rss.csv"
sample_until() { # sample the processes' RSS every 5 s until $1 s into the run
	while ((SECONDS - start < $1)); do
		echo "$((SECONDS - start)),$(rss_all "${gwpid[@]}"),$(rss_all "${shardpid[@]}"),$(rss_all "$labpid")" >>"$work/rss.csv"
		sleep 5
	done
}
if [[ ${PROFILE:-} == 1 ]]; then # the ramp's middle third
	(
		sleep $((ramp / 3))
		curl -sk -H "Authorization: Bearer $GATEHOUSE_ADMIN_TOKEN" -o "$work/gw0.cpu.pprof" \
			"$(gw_admin gw0)/debug/pprof/profile?seconds=$((ramp / 3))" || true
	) &
	if command -v perf >/dev/null; then
		(sleep $((ramp / 3)) && perf record -F 199 -g -p "$labpid" -o "$work/lab.perf" -- sleep $((ramp / 3)) >/dev/null 2>&1 || true) &
	fi
fi
sample_until $((ramp + hold))
hz=$(getconf CLK_TCK)
dev_cpu() { # $1 ticks now, $2 ticks at the start: CPU µs a device
	echo "$((($1 - $2) * 1000 * 1000 / hz / devices)) µs"
}
echo "CPU from the start to the plateau a device: gateways $(dev_cpu "$(cpu_ticks "${gwpid[@]}")" "$gw_cpu0")," \
	"loadgen shards $(dev_cpu "$(cpu_ticks "${shardpid[@]}")" 0), lab (UEM, Exchange) $(dev_cpu "$(cpu_ticks "$labpid")" "$lab_cpu0"),"\
	"the lab's gateway $(dev_cpu "$(cpu_ticks $labgw)" "$labgw_cpu0")"
plateau=$(rss_all "${gwpid[@]}") lg_plateau=$(rss_all "${shardpid[@]}") lab_plateau=$(rss_all "$labpid")
# The last gateway (not the one killed) at the plateau: goroutines and a
# heap profile (go tool pprof -sample_index=inuse_space heap.pprof).
adm=$(gw_admin "gw$((gws - 1))")
auth=(-H "Authorization: Bearer $GATEHOUSE_ADMIN_TOKEN")
curl -sk "${auth[@]}" -o "$work/goroutines.txt" "$adm/debug/pprof/goroutine?debug=1" || true
curl -sk "${auth[@]}" -o "$work/heap.pprof" "$adm/debug/pprof/heap" || true
goroutines=$(sed -n 1p "$work/goroutines.txt" 2>/dev/null) # no pipe: pipefail and SIGPIPE
# Shard 0 and the lab process at the plateau, the same way (their
# pprof address is the first line naming it in their output), in the
# background: a forced collection of a lab heap of gigabytes on a loaded
# machine took minutes in the 100,000 run and held the kill back past
# the end of the load.
for who in shard0:shard0.txt lab:lab.log; do
	pp=$(grep -m1 -o 'http://127.0.0.1:[0-9]*/debug/pprof/' "$work/${who#*:}" || true)
	[[ -n $pp ]] || continue
	(
		w=$work/${who%%:*}
		curl -s --max-time 120 -o "$w.goroutines.txt" "${pp}goroutine?debug=1"
		curl -s --max-time 120 -o "$w.heap.pprof" "${pp}heap"
		curl -s --max-time 120 -o "$w.heap.txt" "${pp}heap?gc=1&debug=1"
	) &
done
victim=${gwpid[0]}
echo "killing gateway 0 (pid $victim) at $((SECONDS - start)) s"
kill -9 "$victim"
gwpid=("${gwpid[@]:1}")
kill_at=$((SECONDS - start))
sample_until $((ramp + 2 * hold))

# A device blocked at the UEM (unregistered devices auto-blocked) must be
# refused whichever gateway its connection lands on: EAS 12.1, so blocked
# is HTTP 403 (from 14.0 it is Status 129 in a 200). Control first: the
# same probe before the preference is not refused.
probe() { # $1: device id prefix; prints the count of each HTTP code
	for i in $(seq 40); do
		curl -sk -o /dev/null -w '%{http_code}\n' -X POST -u alice:alice-pw -H 'MS-ASProtocolVersion: 12.1' \
			-H 'Content-Type: application/vnd.ms-sync.wbxml' \
			"https://127.0.0.1:$port/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=$1$i&DeviceType=iPhone"
	done | sort | uniq -c | tr -s ' \n' ' '
}
control=$(probe "OPEN$run")
curl -sfk -X PUT -H "Authorization: Bearer $uemtok" -H 'Content-Type: application/json' \
	-d '{"auto_block_unregistered": true}' "$uemadm/admin/v1/preferences" >/dev/null
codes=$(probe "BLOCK$run")
wait "${shardpid[@]}" 2>/dev/null || true

"$gh" loadgen merge "$work"/shard*.json -o "$work/merged.json" >"$work/merged.txt" || true
jq -r --argjson k "$kill_at" '
	.duration_s as $d |
	def held(f): [.series[] | select(f) | .pings] | max // 0;
	"held Pings, plateau before the kill: \(held(.t < $k and .t > ($k - 30)))",
	"held Pings, last 30 s (after the kill): \(held(.t > ($d - 30)))",
	"first contact (Provision, ok) p99: \([.commands[] | select(.command == "Provision" and .status == "ok") | .p99_ms] | first) ms",
	"Provisions not ok (status: count): \([.commands[] | select(.command == "Provision" and .status != "ok") | "\(.status): \(.count)"] | join(", ") | if . == "" then "none" else . end)",
	"devices arrived: \(.devices_arrived) of \(.devices_planned)"' "$work/merged.json" 2>/dev/null || cat "$work/merged.txt"
held=$(jq --argjson k "$kill_at" '[.series[] | select(.t < $k and .t > ($k - 30)) | .pings] | max // 0' "$work/merged.json" 2>/dev/null || echo 0)
echo "gateway $((gws - 1)) at the plateau: $goroutines"
echo "gateways' RSS: idle $((idle / 1024)) MiB, plateau $((plateau / 1024)) MiB ($gws processes)"
if ((held > 0)); then
	echo "RSS per held Ping: $(((plateau - idle) * 1024 / held)) B (gateways), $((lg_plateau * 1024 / held)) B (loadgen shards," \
		"$((lg_plateau / 1024)) MiB), $(((lab_plateau - lab_idle) * 1024 / held)) B (lab: UEM, Exchange; idle $((lab_idle / 1024)) MiB," \
		"plateau $((lab_plateau / 1024)) MiB)"
fi
echo "probe through the shared port after the kill, HTTP codes (count code): unregistered allowed: $control; auto-blocked: $codes"
[[ $control != *403* ]] || { echo "FAIL: the control probe was refused"; exit 1; }
[[ $codes =~ ^\ ?40\ 403\ ?$ ]] || { echo "FAIL: a blocked device was not refused"; exit 1; }
