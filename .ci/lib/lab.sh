# shellcheck shell=bash
# The lab start-up the scale scripts share (.ci/ping-scale.sh,
# .ci/ping-mem.sh, .ci/tunnel-scale.sh): sourced from the module root,
# not run. Every lab port is chosen by the system (no clash with another
# lab on the machine); the lab's dashboard is off (every 500 ms it would
# dump the lab gateway's whole device cache, which the UEM fills with every
# device of the run; DASHBOARD=1 keeps it). Results stay in $WORK (default:
# a temporary directory, kept). GATEHOUSE_BIN: a gatehouse binary to use
# instead of building one.

# lab_setup NAME: checks the tools, raises the open-file limit to the hard
# limit (per process), makes $work, builds $gh, and kills every pid in
# $pids at exit.
lab_setup() {
	local tool
	for tool in curl jq python3; do
		command -v "$tool" >/dev/null || { echo "$1: $tool is missing" >&2; exit 2; }
	done
	ulimit -n "$(ulimit -Hn)"
	work=${WORK:-$(mktemp -d)}
	mkdir -p "$work"
	gh=$work/gatehouse
	pids=()
	trap lab_cleanup EXIT
	if [[ -n ${GATEHOUSE_BIN:-} ]]; then
		cp "$GATEHOUSE_BIN" "$gh"
	else
		go build -o "$gh" ./cmd/gatehouse
	fi
}

lab_cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	echo "files kept in $work"
}

# lab_start [FLAG...]: starts `gatehouse lab` (its gateway a subprocess)
# with the extra flags, waits for its endpoints and sets labpid, uemurl,
# uemadm (admin base URL), uemtok (admin token) and the gateway's
# credentials (GATEHOUSE_UEM_TOKEN, GATEHOUSE_UEM_NOTIFY_SECRET, a fresh
# GATEHOUSE_ADMIN_TOKEN), exported for the gateways started next.
lab_start() {
	local any=127.0.0.1:0 dash=(--no-dashboard) # every lab port chosen by the system
	[[ ${DASHBOARD:-0} == 1 ]] && dash=()
	"$gh" lab --json --gateway-subprocess "${dash[@]}" "$@" --dir "$work/lab" --log-level error \
		--gateway-listen $any --notify-listen $any --gateway-admin-listen $any --uem-listen $any --uem-admin-listen $any \
		--exchange-listen $any --exchange-admin-listen $any >"$work/endpoints.json" 2>"$work/lab.log" &
	labpid=$!
	pids+=("$labpid")
	for _ in $(seq 900); do
		[[ -n $(jq -r '.uem.gateway_api_url // empty' "$work/endpoints.json" 2>/dev/null) ]] && break
		sleep 0.2
	done
	[[ -n $(jq -r '.uem.gateway_api_url // empty' "$work/endpoints.json" 2>/dev/null) ]] || { echo "the lab did not start:"; cat "$work/lab.log"; exit 1; }
	uemurl=$(ep .uem.gateway_api_url) uemadm=$(ep .uem.admin_url) uemtok=$(ep .uem.admin_token)
	export GATEHOUSE_UEM_TOKEN GATEHOUSE_UEM_NOTIFY_SECRET GATEHOUSE_ADMIN_TOKEN
	GATEHOUSE_UEM_TOKEN=$(ep .uem.gateway_token) GATEHOUSE_UEM_NOTIFY_SECRET=$(ep .uem.notify_secret)
	GATEHOUSE_ADMIN_TOKEN=scale-admin-token-$RANDOM$RANDOM
}

# ep JQ: a value of the lab's endpoints document.
ep() { jq -r "$1" "$work/endpoints.json"; }

# free_port: a loopback port free now (for listeners several gateways
# share), below the kernel's ephemeral range as internal/loopback.Port
# picks them: a port from bind(0), released, could be taken by any
# outgoing connection or bind(0) on the machine before the gateways bind
# it; below the range only a caller choosing ports by number can.
free_port() {
	python3 - <<-'PY'
	import random, socket
	try:
	    end = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
	except (OSError, ValueError, IndexError):
	    end = 32768
	for _ in range(200):
	    port = random.randrange(20000, end)
	    try:
	        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
	            with socket.socket(socket.AF_INET, kind) as s:
	                s.bind(("127.0.0.1", port))
	    except OSError:
	        continue
	    print(port)
	    break
	else:
	    raise SystemExit("free_port: no free port below %d" % end)
	PY
}

# lab_gateway NAME [FLAG...]: starts a `gatehouse gateway` on the lab's
# UEM (data in $work/NAME, output in $work/NAME.out and .log) with the
# extra flags; its pid is in gwlast (and in pids).
lab_gateway() {
	local name=$1
	shift
	"$gh" gateway --notify-listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --data-dir "$work/$name" \
		--uem-url "$uemurl" --uem-insecure --upstream-insecure --log-level error "$@" \
		>"$work/$name.out" 2>"$work/$name.log" &
	gwlast=$!
	pids+=("$gwlast")
}

# lab_wait_gateway NAME: waits until the gateway printed its admin URL.
lab_wait_gateway() {
	for _ in $(seq 600); do grep -q '^admin URL' "$work/$1.out" 2>/dev/null && break; sleep 0.2; done
	grep -q '^admin URL' "$work/$1.out" || { echo "gateway $1 did not start:"; cat "$work/$1.log"; exit 1; }
}

# gw_admin NAME: the gateway's admin base URL.
gw_admin() { awk '/^admin URL/ {print $3}' "$work/$1.out"; }

# rss_all PID...: their summed VmRSS (KiB).
rss_all() {
	local t=0 p
	for p in "$@"; do t=$((t + $(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
	echo "$t"
}

# cpu_ticks PID...: their summed user + system CPU time (clock ticks).
cpu_ticks() {
	local t=0 p
	for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
	echo "$t"
}

# ping_spec NAME DEVICES DURATION_S SYNC_RATE RAMP_S writes $work/spec.yaml:
# new native devices arriving over RAMP_S that each hold a Ping (heartbeat
# HEARTBEAT s, default 900; up to MS-ASCMD's 3540, so that a ramp longer
# than 900 s renews no Ping), syncing at SYNC_RATE (e.g. 0/h) and sending
# no mail.
ping_spec() {
	cat >"$work/spec.yaml" <<EOF
name: $1
seed: 26
devices: $2
users: 8
duration: ${3}s
new_share: 1
mix:
  platforms: {iOS: 60, Android: 35, Windows: 5}
  clients: {native: 100}
  versions: {"14.1": 60, "16.1": 40}
profiles:
  default: {ping_heartbeat: ${HEARTBEAT:-900}s, sync_rate: $4, sendmail_rate: 0/h, attachment_share: 0}
arrival:
  shape: ramp
  over: ${5}s
max_in_flight: 20000
late_after: 1s
EOF
}
