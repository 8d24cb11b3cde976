#!/usr/bin/env bash
# Memory per held Ping (issue 26), manual / nightly, not in .ci/run: one
# gateway process on the lab's UEM and Exchange, the load generator (its
# own process) bringing PINGS new devices in over RAMP seconds, each
# holding a Ping with a 900 s heartbeat. The gateway is measured idle
# (before the load) and at the plateau in the same run, each time after a
# forced collection (/debug/pprof/heap?gc=1): RSS, live heap (HeapInuse),
# goroutine stacks (StackInuse) and goroutines; the differences are
# divided by the Pings the load generator held at that moment.
#
#   .ci/ping-mem.sh [pings=2000] [ramp_s=pings/40] [hold_s=30]
#
# UPSTREAM_H2=0 sends the upstream Pings over HTTP/1.1 (a connection
# each) instead of HTTP/2 (shared connections, the default here, as in
# .ci/ping-scale.sh). GATEWAY_FLAGS adds flags to `gatehouse gateway`.
# Results stay in $WORK (default: a temporary directory, kept): the
# gateway's heap profile and goroutine dump at the plateau, result.json.
# RELAY=1 measures cmd/rawrelay in the gateway's place (in front of the
# lab's Exchange, no UEM, HTTP/1.1 upstream): the least a held Ping costs
# a Go relay with no HTTP library, the floor beside the gateway's figure.
# The lab start-up is .ci/lib/lab.sh's (GATEHOUSE_BIN: a prebuilt binary,
# e.g. another branch's build for a same-session baseline).
set -euo pipefail
cd "$(dirname "$0")/.."
pings=${1:-2000}
ramp=${2:-$(((pings + 39) / 40))} hold=${3:-30}
. .ci/lib/lab.sh
lab_setup ping-mem
lab_start --http2 --users 8
h2=--upstream-http2 proto=HTTP/2
[[ ${UPSTREAM_H2:-1} == 0 ]] && h2= proto=HTTP/1.1
if [[ ${RELAY:-0} == 1 ]]; then
	go build -o "$work/rawrelay" ./cmd/rawrelay
	up=$(ep .exchange.activesync_url) up=${up#https://} up=${up%%/*}
	"$work/rawrelay" --listen 127.0.0.1:0 --pprof 127.0.0.1:0 --upstream "$up" >"$work/relay.out" 2>&1 &
	gw=$! proto="HTTP/1.1 (rawrelay)"
	pids+=("$gw")
	for _ in $(seq 50); do grep -q '^listening' "$work/relay.out" 2>/dev/null && break; sleep 0.1; done
	adm=http://$(awk '/^pprof on/ {print $3}' "$work/relay.out")
	addr=https://$(awk '/^listening on/ {print $3}' "$work/relay.out")
else
	# shellcheck disable=SC2086 # GATEWAY_FLAGS and h2 are word lists
	lab_gateway gw --listen 127.0.0.1:0 $h2 --check-interval 10s --resync-interval 60s --stats-interval 10s ${GATEWAY_FLAGS:-}
	gw=$gwlast
	lab_wait_gateway gw
	adm=$(gw_admin gw)
	addr=$(awk '/^device URL/ {print $3}' "$work/gw.out")
	addr=${addr%/Microsoft-Server-ActiveSync}
fi
auth=(-H "Authorization: Bearer $GATEHOUSE_ADMIN_TOKEN")

measure() { # $1: label; prints "rss_kib heap_b stack_b goroutines" after a forced GC
	curl -sk "${auth[@]}" -o "$work/heap-$1.txt" "$adm/debug/pprof/heap?gc=1&debug=1"
	curl -sk "${auth[@]}" -o "$work/goroutines-$1.txt" "$adm/debug/pprof/goroutine?debug=1"
	local heap stack g rss
	heap=$(awk '/^# HeapInuse = / {print $4}' "$work/heap-$1.txt")
	stack=$(awk '/^# Stack = / {split($4, a, "/"); print a[1]}' "$work/heap-$1.txt")
	g=$(awk 'NR == 1 {print $4}' "$work/goroutines-$1.txt")
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$gw/status")
	echo "$rss $heap $stack $g"
}
sleep 3
read -r rss0 heap0 stack0 g0 < <(measure idle)

ping_spec ping-mem "$pings" $((ramp + 2 * hold)) 0/h "$ramp"
"$gh" loadgen run --spec "$work/spec.yaml" --target "$addr" --max-conns 19000 -q -o "$work/run.json" >"$work/run.txt" 2>&1 &
lg=$!
pids+=($lg)
start=$SECONDS
sleep $((ramp + hold))
at=$((SECONDS - start))
read -r rss1 heap1 stack1 g1 < <(measure plateau)
curl -sk "${auth[@]}" -o "$work/heap.pprof" "$adm/debug/pprof/heap" || true
wait "$lg" || true
held=$(jq --argjson t "$at" '[.series[] | select(.t >= $t - 3 and .t <= $t + 3) | .pings] | max // 0' "$work/run.json")
((held > 0)) || { echo "no held Pings:"; cat "$work/run.txt"; exit 1; }
per() { echo $((($2 - $1) / held)); }
jq -n --argjson held "$held" --argjson t "$at" --arg upstream "$proto" \
	--argjson rss "$(((rss1 - rss0) * 1024 / held))" --argjson heap "$(per "$heap0" "$heap1")" \
	--argjson stack "$(per "$stack0" "$stack1")" --argjson g "$(python3 -c "print(round(($g1 - $g0) / $held, 2))")" \
	--argjson idle "{\"rss_kib\": $rss0, \"heap_b\": $heap0, \"stack_b\": $stack0, \"goroutines\": $g0}" \
	--argjson plateau "{\"rss_kib\": $rss1, \"heap_b\": $heap1, \"stack_b\": $stack1, \"goroutines\": $g1}" \
	'{held: $held, at_s: $t, upstream: $upstream, per_ping: {rss_b: $rss, heap_b: $heap, stack_b: $stack, goroutines: $g}, idle: $idle, plateau: $plateau}' |
	tee "$work/result.json"
echo "held $held Pings (upstream $proto), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "per held Ping: RSS $(((rss1 - rss0) * 1024 / held)) B, heap $(per "$heap0" "$heap1") B, stacks $(per "$stack0" "$stack1") B, goroutines $(python3 -c "print(round(($g1 - $g0) / $held, 2))")"
