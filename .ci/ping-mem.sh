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
# GATEHOUSE_BIN runs that binary (e.g. another branch's build, for a
# same-session baseline) instead of building this checkout.
# Results stay in $WORK (default: a temporary directory, kept): the
# gateway's heap profile and goroutine dump at the plateau, result.json.
set -euo pipefail
cd "$(dirname "$0")/.."
pings=${1:-2000}
ramp=${2:-$(((pings + 39) / 40))} hold=${3:-30}
for tool in curl jq python3; do
	command -v "$tool" >/dev/null || { echo "ping-mem: $tool is missing" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)"
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
gh=$work/gatehouse
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	echo "files kept in $work"
}
trap cleanup EXIT

if [[ -n ${GATEHOUSE_BIN:-} ]]; then
	cp "$GATEHOUSE_BIN" "$gh"
else
	go build -o "$gh" ./cmd/gatehouse
fi
any=127.0.0.1:0
"$gh" lab --json --gateway-subprocess --http2 --users 8 --dir "$work/lab" --log-level error \
	--gateway-listen $any --notify-listen $any --gateway-admin-listen $any --uem-listen $any --uem-admin-listen $any \
	--exchange-listen $any --exchange-admin-listen $any >"$work/endpoints.json" 2>"$work/lab.log" &
pids+=($!)
for _ in $(seq 900); do
	[[ -n $(jq -r '.uem.gateway_api_url // empty' "$work/endpoints.json" 2>/dev/null) ]] && break
	sleep 0.2
done
[[ -n $(jq -r '.uem.gateway_api_url // empty' "$work/endpoints.json" 2>/dev/null) ]] || { echo "the lab did not start:"; cat "$work/lab.log"; exit 1; }
ep() { jq -r "$1" "$work/endpoints.json"; }
export GATEHOUSE_UEM_TOKEN GATEHOUSE_UEM_NOTIFY_SECRET GATEHOUSE_ADMIN_TOKEN
GATEHOUSE_UEM_TOKEN=$(ep .uem.gateway_token) GATEHOUSE_UEM_NOTIFY_SECRET=$(ep .uem.notify_secret)
GATEHOUSE_ADMIN_TOKEN=mem-admin-token-$RANDOM$RANDOM
h2=--upstream-http2 proto=HTTP/2
[[ ${UPSTREAM_H2:-1} == 0 ]] && h2= proto=HTTP/1.1
# shellcheck disable=SC2086 # GATEWAY_FLAGS and h2 are word lists
"$gh" gateway --listen 127.0.0.1:0 --notify-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 \
	--data-dir "$work/gw" --uem-url "$(ep .uem.gateway_api_url)" --uem-insecure --upstream-insecure $h2 \
	--check-interval 10s --resync-interval 60s --stats-interval 10s --log-level error ${GATEWAY_FLAGS:-} \
	>"$work/gw.out" 2>"$work/gw.log" &
gw=$!
pids+=($gw)
for _ in $(seq 600); do grep -q '^admin URL' "$work/gw.out" 2>/dev/null && break; sleep 0.2; done
grep -q '^admin URL' "$work/gw.out" || { echo "the gateway did not start:"; cat "$work/gw.log"; exit 1; }
adm=$(awk '/^admin URL/ {print $3}' "$work/gw.out")
addr=$(awk '/^device URL/ {print $3}' "$work/gw.out")
addr=${addr%/Microsoft-Server-ActiveSync}
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

cat >"$work/spec.yaml" <<EOF
name: ping-mem
seed: 26
devices: $pings
users: 8
duration: $((ramp + 2 * hold))s
new_share: 1
mix:
  platforms: {iOS: 60, Android: 35, Windows: 5}
  clients: {native: 100}
  versions: {"14.1": 60, "16.1": 40}
profiles:
  default: {ping_heartbeat: 900s, sync_rate: 0/h, sendmail_rate: 0/h, attachment_share: 0}
arrival:
  shape: ramp
  over: ${ramp}s
max_in_flight: 20000
late_after: 1s
EOF
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
