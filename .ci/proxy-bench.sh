#!/usr/bin/env bash
# Proxy throughput and latency, each server in its own process: wrk drives
# ActiveSync FolderSync requests (a provisioned device, Basic auth, TLS) at
#   direct   the fake Exchange
#   nginx    nginx as a TLS reverse proxy in front of it (the baseline a
#            mature proxy sets on this machine, same run)
#   gateway  the gatehouse gateway (lab subprocess: cache lookup, UEM
#            decision, statistics, audit) in front of it
# and prints one line per target, with each proxy's own CPU time per
# request (proxy-cpu, from /proc). Needs nginx and wrk (Debian packages).
#
#   .ci/proxy-bench.sh [duration=20s] [connections=32] [rounds=3] [rate=2000]
#
# LATENCY=0 runs the throughput half only.
#
# AUDIT=1 adds a fourth target, gateway+audit: the same gateway with its
# audit log switched on (`ctl audit on`) for that target's turn and off
# for the gateway's, so the audit's cost is measured in the same run
# (issue 22; the counters are always on).
#
# B=1 adds a target gateway-b: a second gateway process on the same lab
# (same UEM, same Exchange), started from B_BIN (default: this checkout's
# build) with the extra flags B_FLAGS, so that a change (another build,
# or a flag such as --gc-heap-floor 0) is measured against the gateway in
# the same run, interleaved (issue 26). PROFILE_B=file profiles it too.
# RELAY=1 adds a target go-relay: cmd/rawrelay, a Go TLS relay with no
# HTTP library (internal/rawrelay), the floor a proxy written in Go pays
# on this machine for the same TLS and syscalls (issue 26); PROFILE_RELAY=file
# profiles it.
# VEGETA=0 skips the latency part (throughput and proxy-cpu only).
# LAB_FLAGS adds flags to `gatehouse lab` (--http2: the fake Exchange
# offers HTTP/2 and the lab's gateway multiplexes its requests on it).
#
# Two measurements: throughput, wrk's closed loop with that many
# connections (saturation, so its latency is queueing); then latency at a
# fixed open-model rate well below saturation, with vegeta (from the Go
# module proxy), which is what "added latency at p50" means. The targets
# take turns, round after round, so drift on a shared machine spreads over
# all three. docs/gateway.md ("Performance") has the results.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-20s} conns=${2:-32} rounds=${3:-3} rate=${4:-2000}
for tool in nginx wrk openssl curl jq; do
	command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || { echo "proxy-bench: $tool is missing (apt-get install nginx wrk jq)" >&2; exit 2; }
done

work=$(mktemp -d)
gh=$work/gatehouse
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$gh" ./cmd/gatehouse
[[ -z ${RELAY:-} ]] || go build -o "$work/rawrelay" ./cmd/rawrelay
GOBIN=$work go install github.com/tsenart/vegeta/v12@v12.13.0
# Ports away from the lab's defaults so a running lab does not collide.
# shellcheck disable=SC2086 # LAB_FLAGS splits on purpose
"$gh" lab --json --gateway-subprocess --dir "$work/lab" --log-level error ${LAB_FLAGS:-} \
	--gateway-listen 127.0.0.1:18443 --gateway-admin-listen 127.0.0.1:19091 --notify-listen 127.0.0.1:19090 \
	--uem-listen 127.0.0.1:18600 --uem-admin-listen 127.0.0.1:18601 \
	--exchange-listen 127.0.0.1:18700 --exchange-admin-listen 127.0.0.1:18701 \
	>"$work/lab.json" 2>"$work/lab.err" &
pids+=($!)
for _ in $(seq 100); do grep -q '"dir"' "$work/lab.json" 2>/dev/null && break; sleep 0.2; done
grep -q '"dir"' "$work/lab.json" || { echo "proxy-bench: lab did not start:" >&2; cat "$work/lab.err" >&2; exit 1; }

# labgateway: the pid of the lab's gateway subprocess (gateway-b, run
# from the same binary by default, is not it).
labgateway() { pgrep -f "$gh gateway" | grep -vx "${gwbpid:-none}" | head -1; }
if [[ -n ${B:-} ]]; then
	# The second gateway: the lab gateway's own settings, its own ports and
	# data directory, the lab's UEM credential.
	export GATEHOUSE_UEM_TOKEN GATEHOUSE_UEM_NOTIFY_SECRET GATEHOUSE_ADMIN_TOKEN=bench-b-$RANDOM$RANDOM
	GATEHOUSE_UEM_TOKEN=$(jq -r .uem.gateway_token "$work/lab.json") GATEHOUSE_UEM_NOTIFY_SECRET=$(jq -r .uem.notify_secret "$work/lab.json")
	# shellcheck disable=SC2086 # B_FLAGS splits on purpose
	"${B_BIN:-$gh}" gateway --listen 127.0.0.1:18445 --notify-listen 127.0.0.1:19092 --admin-listen 127.0.0.1:19093 \
		--data-dir "$work/gateway-b" --uem-url "$(jq -r .uem.gateway_api_url "$work/lab.json")" --uem-insecure --upstream-insecure \
		--fail-open=true --upstream-http2=false --check-interval 2s --resync-interval 5s --last-seen-interval 5s \
		--persist-interval 10s --stats-interval 1m0s --log-level error ${B_FLAGS:-} >"$work/gateway-b.out" 2>"$work/gateway-b.log" &
	pids+=($!)
	gwbpid=$!
	for _ in $(seq 300); do grep -q '^admin URL' "$work/gateway-b.out" 2>/dev/null && break; sleep 0.2; done
	grep -q '^admin URL' "$work/gateway-b.out" || { echo "proxy-bench: gateway-b did not start:" >&2; cat "$work/gateway-b.log" >&2; exit 1; }
fi

if [[ -n ${RELAY:-} ]]; then
	"$work/rawrelay" --listen 127.0.0.1:18446 --upstream 127.0.0.1:18700 --pprof 127.0.0.1:18447 >"$work/rawrelay.out" 2>&1 &
	pids+=($!)
	relaypid=$!
	for _ in $(seq 50); do grep -q '^listening' "$work/rawrelay.out" 2>/dev/null && break; sleep 0.1; done
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" \
	-out "$work/cert.pem" -days 1 -subj /CN=127.0.0.1 2>/dev/null
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  upstream exchange { server 127.0.0.1:18700; keepalive 1024; }
  server {
    listen 127.0.0.1:18444 ssl;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass https://exchange;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_ssl_session_reuse on;
      proxy_buffering off;
    }
  }
}
EOF
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
if [[ -n ${PIN:-} ]]; then
	# PIN=1: the load generator, the fake Exchange (and UEM) share CPU 0, each
	# proxy gets CPU 1 to itself, as it would get its own host: the ratio
	# then says whether the proxy keeps up with the server, not how the
	# three split two cores.
	taskset -a -p 1 "${pids[0]}" >/dev/null
	taskset -a -p 2 "$(labgateway)" >/dev/null
	[[ -z ${B:-} ]] || taskset -a -p 2 "$gwbpid" >/dev/null
	[[ -z ${RELAY:-} ]] || taskset -a -p 2 "$relaypid" >/dev/null
	for p in $(pgrep -f "nginx.*$work"); do taskset -a -p 2 "$p" >/dev/null; done
	pinned="taskset 1"
fi

# eas POSTs one ActiveSync command: eas PORT DEVICE CMD BODY [POLICYKEY].
eas() {
	curl -sk --fail -u alice:alice-pw -H 'MS-ASProtocolVersion: 14.1' \
		-H 'Content-Type: application/vnd.ms-sync.wbxml' ${5:+-H "X-MS-PolicyKey: $5"} \
		--data-binary "@$4" "https://127.0.0.1:$1/Microsoft-Server-ActiveSync?Cmd=$3&User=alice&DeviceId=$2&DeviceType=iPhone"
}
policykey() { "$gh" wbxml decode | sed -n 's/.*<PolicyKey>\([0-9]*\)<.*/\1/p'; }
provision() { # provision PORT DEVICE: the two-phase Provision; prints the final key
	local pol='<Provision xmlns="Provision:"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>'
	echo "$pol</Policy></Policies></Provision>" | "$gh" wbxml encode >"$work/p1"
	local tmp
	tmp=$(eas "$1" "$2" Provision "$work/p1" | policykey)
	echo "$pol<PolicyKey>$tmp</PolicyKey><Status>1</Status></Policy></Policies></Provision>" | "$gh" wbxml encode >"$work/p2"
	eas "$1" "$2" Provision "$work/p2" "$tmp" | policykey
}
printf '\x03\x01\x6a\x00\x00\x07\x56\x52\x03\x30\x00\x01\x01' >"$work/foldersync" # FolderSync, SyncKey 0

cat >"$work/eas.lua" <<'EOF'
function init(args)
  local f = assert(io.open(args[3], "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*all")
  f:close()
  wrk.path = "/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=" .. args[1] .. "&DeviceType=iPhone"
  wrk.headers["Authorization"] = "Basic YWxpY2U6YWxpY2UtcHc="
  wrk.headers["MS-ASProtocolVersion"] = "14.1"
  wrk.headers["Content-Type"] = "application/vnd.ms-sync.wbxml"
  wrk.headers["X-MS-PolicyKey"] = args[2]
end
function done(summary, latency, requests)
  io.write(string.format("rps=%.0f p50=%.0fus p99=%.0fus errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
EOF

declare -A port=([direct]=18700 [nginx]=18444 [gateway]=18443 [gateway+audit]=18443 [gateway-b]=18445 [go-relay]=18446) key=()
targets=(direct nginx gateway)
[[ -n ${AUDIT:-} ]] && targets+=(gateway+audit)
[[ -n ${B:-} ]] && targets+=(gateway-b)
[[ -n ${RELAY:-} ]] && targets+=(go-relay)
# audit on|off: the gateway's audit log, through its admin API.
audit() {
	GATEHOUSE_ADMIN_TOKEN="$(jq -r .gateway.admin_token "$work/lab.json")" "$gh" ctl --admin "$(jq -r .gateway.admin_url "$work/lab.json")" --insecure audit "$1" >/dev/null
}
setaudit() { [[ -z ${AUDIT:-} ]] || { [[ $1 == gateway+audit ]] && audit on || audit off; }; }
dev() {
	case $1 in
	nginx | go-relay) echo BENCHdirect ;;
	gateway+audit) echo BENCHgateway ;;
	gateway-b) echo BENCHgatewayb ;;
	*) echo "BENCH$1" ;;
	esac
}
provisioned=(direct gateway)
[[ -n ${B:-} ]] && provisioned+=(gateway-b)
for t in "${provisioned[@]}"; do
	key[$t]=$(provision "${port[$t]}" "$(dev "$t")")
	[[ -n ${key[$t]} ]] || { echo "proxy-bench: provisioning through $t failed" >&2; exit 1; }
done
key[nginx]=${key[direct]} # nginx relays to the same Exchange: the same device
key[go-relay]=${key[direct]}
key[gateway+audit]=${key[gateway]}
for t in "${targets[@]}"; do # warm up each path and check it answers 200
	eas "${port[$t]}" "$(dev $t)" FolderSync "$work/foldersync" "${key[$t]}" >/dev/null
done

# cputicks PID...: the CPU time the processes have used, in clock ticks.
cputicks() {
	local sum=0 p
	for p in "$@"; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
	echo "$sum"
}
gwpid=$(labgateway)
mapfile -t nginxpids < <(pgrep -f "nginx.*$work"; pgrep -P "$(pgrep -f "nginx -c $work" | head -1)")
declare -A cpupids=([direct]="" [nginx]="${nginxpids[*]}" [gateway]=$gwpid [gateway+audit]=$gwpid [gateway-b]=${gwbpid:-} [go-relay]=${relaypid:-})
hz=$(getconf CLK_TCK)

echo "wrk -t1 -c$conns -d$duration, FolderSync (290-byte response), $rounds rounds"
echo "(proxy-cpu: the proxy's CPU time per request, its efficiency whatever the other core does)"
for r in $(seq "$rounds"); do
	for t in "${targets[@]}"; do
		setaudit "$t"
		printf 'round %d %-13s ' "$r" "$t"
		# shellcheck disable=SC2086 # the pid list splits on purpose
		before=$(cputicks ${cpupids[$t]})
		out=$(${pinned:-} wrk -t1 -c"$conns" -d"$duration" -s "$work/eas.lua" "https://127.0.0.1:${port[$t]}" -- "$(dev $t)" "${key[$t]}" "$work/foldersync" | tail -1)
		# shellcheck disable=SC2086
		used=$(($(cputicks ${cpupids[$t]}) - before))
		requests=$(awk -v d="${duration%s}" '{sub("rps=", "", $1); print int($1 * d)}' <<<"$out")
		if [[ $t == direct ]]; then
			echo "$out"
		else
			echo "$out proxy-cpu=$((used * 1000000 / hz / (requests > 0 ? requests : 1)))us"
		fi
	done
done
# LATENCY=0 skips the latency half (the CPU-per-request comparison needs
# only the throughput half).
[[ ${LATENCY:-1} == 0 ]] && rounds=0
echo
echo "vegeta attack -rate=$rate/s -duration=$duration, FolderSync, $rounds rounds (latency in µs)"
[[ ${VEGETA:-1} == 0 ]] && rounds=0 # VEGETA=0: throughput and CPU only
for r in $(seq "$rounds"); do
	for t in "${targets[@]}"; do
		setaudit "$t"
		printf '{"method":"POST","url":"https://127.0.0.1:%s/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=alice&DeviceId=%s&DeviceType=iPhone","body":"%s","header":{"Authorization":["Basic YWxpY2U6YWxpY2UtcHc="],"MS-ASProtocolVersion":["14.1"],"Content-Type":["application/vnd.ms-sync.wbxml"],"X-MS-PolicyKey":["%s"]}}\n' \
			"${port[$t]}" "$(dev $t)" "$(base64 -w0 "$work/foldersync")" "${key[$t]}" >"$work/target.json"
		printf 'round %d %-13s ' "$r" "$t"
		${pinned:-} "$work/vegeta" attack -format=json -targets="$work/target.json" -rate="$rate/s" -duration="$duration" -insecure |
			"$work/vegeta" report -type=json |
			jq -r '"rate=\(.throughput|floor) p50=\(.latencies["50th"]/1000|floor)us p90=\(.latencies["90th"]/1000|floor)us p99=\(.latencies["99th"]/1000|floor)us success=\(.success)"'
	done
done
# PROFILE=file: a CPU profile of the gateway under load; written to
# cmd/gatehouse/default.pgo it is the profile-guided build's input.
if [[ -n ${PROFILE:-} ]]; then
	token=$(sed -n 's/.*"admin_token": "\([0-9a-f]*\)".*/\1/p' "$work/lab.json" | head -1)
	wrk -t1 -c"$conns" -d35s -s "$work/eas.lua" "https://127.0.0.1:18443" -- BENCHgateway "${key[gateway]}" "$work/foldersync" >/dev/null &
	curl -sk -H "Authorization: Bearer $token" -o "$PROFILE" "https://127.0.0.1:19091/debug/pprof/profile?seconds=30"
	wait $!
	echo "gateway CPU profile: $PROFILE (go tool pprof $gh $PROFILE)"
fi
if [[ -n ${PROFILE_RELAY:-} && -n ${RELAY:-} ]]; then
	wrk -t1 -c"$conns" -d35s -s "$work/eas.lua" "https://127.0.0.1:18446" -- BENCHdirect "${key[direct]}" "$work/foldersync" >/dev/null &
	curl -s -o "$PROFILE_RELAY" "http://127.0.0.1:18447/debug/pprof/profile?seconds=30"
	wait $!
	echo "go-relay CPU profile: $PROFILE_RELAY"
fi
if [[ -n ${PROFILE_B:-} && -n ${B:-} ]]; then
	wrk -t1 -c"$conns" -d35s -s "$work/eas.lua" "https://127.0.0.1:18445" -- BENCHgatewayb "${key[gateway-b]}" "$work/foldersync" >/dev/null &
	curl -sk -H "Authorization: Bearer $GATEHOUSE_ADMIN_TOKEN" -o "$PROFILE_B" "https://127.0.0.1:19093/debug/pprof/profile?seconds=30"
	wait $!
	echo "gateway-b CPU profile: $PROFILE_B"
fi
