#!/usr/bin/env bash
# Idle AppTunnel tunnels at scale (issue 21), nightly / manual, not in
# .ci/run (like .ci/ping-scale.sh): GATEWAYS full `gatehouse gateway`
# processes share one tunnel port (--reuse-port: the kernel spreads new
# connections over them), on the lab's UEM, which turns AppTunnel on
# (<TCP_ANY>, identity certificates from its CA). CLIENTS app processes
# (the apptunnel bench helper, TestBenchIdleTunnelsHelper, built with
# go test -c) each open their share of TUNNELS idle CONNECT tunnels to
# their own TCP echo server and reopen any the gateway closes. A tunnel
# holds two of a gateway's files and two of a client's, so the open-file
# limit (raised to the hard limit, per process) bounds each process.
#
#   .ci/tunnel-scale.sh [tunnels=11000] [gateways=3] [clients=2]
#
# GATEWAYS - 1 processes must hold every tunnel once one is killed (two
# files per tunnel each): 3 for 11,000 under a hard limit of 20,000.
#
# Prints: tunnels held per gateway process at the plateau, the gateways'
# RSS at the plateau against their idle RSS (per tunnel), then kills one
# gateway with SIGKILL and reports the tunnels its apps reopened through
# the shared port on the others, and probes that an app the UEM does not
# authorise on the device (blocked, FLOW-06) is refused (403) 40 times
# through the shared port by every gateway left. Results stay in $WORK
# (default: a temporary directory, kept). The lab start-up is
# .ci/lib/lab.sh's (GATEHOUSE_BIN: a prebuilt binary).
set -euo pipefail
cd "$(dirname "$0")/.."
tunnels=${1:-11000} gws=${2:-3} clients=${3:-2}
. .ci/lib/lab.sh
lab_setup tunnel-scale
echo "open-file limit per process: $(ulimit -n)"
go test -c -o "$work/apptunnel.test" ./gateway/apptunnel/
lab_start --users 4
uemadm=$uemadm/admin/v1 gwid=$(ep .uem.gateway_id)
user=$(ep '.users[0].name')
uem() { curl -sfk -H "Authorization: Bearer $uemtok" -H 'Content-Type: application/json' "$@"; }

# AppTunnel on at the UEM: identity certificates from its CA, <TCP_ANY>.
ca=$(uem "$uemadm/ca" | jq -r .cert_pem)
uem "$uemadm/gateways/$gwid" | jq --arg ca "$ca" '.config
	| .device_auth = {mode: "identity_certificate", trusted_certs_pem: $ca}
	| .apptunnel = {enabled: true, ip_tunnel_subnet: .apptunnel.ip_tunnel_subnet,
		services: [{name: "<TCP_ANY>", server_auth: "pass_through"}, {name: "<ANY>", server_auth: "pass_through"}]}' >"$work/config.json"
uem -X PUT --data-binary @"$work/config.json" "$uemadm/gateways/$gwid/config" >/dev/null
# The apps' device: com.idle is authorised on it, nothing else.
uuid=$(python3 -c 'import uuid; print(uuid.uuid4())')
uem -X POST -d "{\"uuid\":\"$uuid\",\"user_id\":\"$user\",\"platform\":\"iOS\",\"model\":\"iPhone\",\"authorized_apps\":[\"com.idle\"]}" "$uemadm/devices" >/dev/null
uem -X POST -d '{}' "$uemadm/devices/$uuid/certificate" >"$work/cert.json"
jq -r .cert_pem "$work/cert.json" >"$work/app.pem"
jq -r .key_pem "$work/cert.json" >"$work/app.key"

port=$(free_port)
tport=$(free_port)
gwpid=()
for i in $(seq 0 $((gws - 1))); do
	lab_gateway "gw$i" --reuse-port --listen "127.0.0.1:$port" --apptunnel-listen "127.0.0.1:$tport" --resync-interval 60s
	gwpid+=("$gwlast")
done
for i in $(seq 0 $((gws - 1))); do lab_wait_gateway "gw$i"; done
echo "$gws gateways, tunnel listener 127.0.0.1:$tport (device port $port)"
# Wait until the UEM's AppTunnel configuration reached every gateway: a
# tunnel through the shared port answers 200 several times in a row.
probe() { # $1: app id; prints the count of each HTTP code over 40 CONNECTs
	for _ in $(seq 40); do
		curl -sk -o /dev/null -w '%{http_connect}\n' --max-time 10 --proxy "https://127.0.0.1:$tport" --proxy-insecure \
			--proxy-cert "$work/app.pem" --proxy-key "$work/app.key" --proxy-header "X-Gatehouse-App-Id: $1" \
			--proxytunnel "http://127.0.0.1:$port/" || true
	done | sort | uniq -c | tr -s ' \n' ' '
}
for _ in $(seq 120); do
	[[ $(probe com.idle) =~ ^\ ?40\ 200\ ?$ ]] && break
	sleep 1
done

declare -A adm
for i in $(seq 0 $((gws - 1))); do adm[${gwpid[$i]}]=$(gw_admin "gw$i"); done
held() { # tunnels a gateway process holds open (gatehouse_apptunnel_open_tunnels)
	curl -sk -H "Authorization: Bearer $GATEHOUSE_ADMIN_TOKEN" "${adm[$1]}/metrics" | awk '/^gatehouse_apptunnel_open_tunnels / {print $2; f=1} END {if (!f) print 0}'
}
idle=$(rss_all "${gwpid[@]}")
cpid=()
cin=()
start=$SECONDS
for i in $(seq 0 $((clients - 1))); do
	n=$((tunnels / clients + (i == 0 ? tunnels % clients : 0)))
	mkfifo "$work/client$i.in"
	GATEHOUSE_BENCH_HELPER=127.0.0.1:$tport GATEHOUSE_BENCH_HELPER_DIR=$work GATEHOUSE_BENCH_TUNNELS=$n GATEHOUSE_BENCH_RECONNECT=1 \
		"$work/apptunnel.test" -test.run '^TestBenchIdleTunnelsHelper$' -test.v -test.timeout 60m \
		<"$work/client$i.in" >"$work/client$i.out" 2>"$work/client$i.log" &
	cpid+=($!)
	pids+=($!)
	exec {fd}>"$work/client$i.in"
	cin+=("$fd")
done
for i in $(seq 0 $((clients - 1))); do
	for _ in $(seq 3000); do grep -q '^READY' "$work/client$i.out" 2>/dev/null && break; sleep 0.2; done
done
took=$((SECONDS - start))
opened=0
for i in $(seq 0 $((clients - 1))); do opened=$((opened + $(awk '/^READY/ {print $2}' "$work/client$i.out"))); done
sleep 5 # the last splices start just after their 200
per=() total=0
for p in "${gwpid[@]}"; do h=$(held "$p"); per+=("$h"); total=$((total + h)); done
plateau=$(rss_all "${gwpid[@]}")
echo "tunnels opened by $clients client processes: $opened of $tunnels in ${took} s"
echo "tunnels held per gateway process: ${per[*]} (total $total)"
echo "gateways' RSS: idle $((idle / 1024)) MiB, plateau $((plateau / 1024)) MiB ($gws processes)"
((total > 0)) && echo "RSS per idle tunnel: $(((plateau - idle) * 1024 / total)) B ($(((plateau - idle) / total)) KiB)"

victim=${gwpid[0]} lost=${per[0]}
echo "killing gateway 0 (pid $victim, $lost tunnels)"
kill -9 "$victim"
gwpid=("${gwpid[@]:1}")
stat() { # live reconnects failed, summed over the clients
	local l=0 r=0 f=0 i fd
	for i in $(seq 0 $((clients - 1))); do
		fd=${cin[$i]}
		echo STAT >&"$fd"
	done
	sleep 1
	for i in $(seq 0 $((clients - 1))); do
		read -r _ a b c < <(grep '^STAT' "$work/client$i.out" | tail -1)
		l=$((l + a)) r=$((r + b)) f=$((f + c))
	done
	echo "$l $r $f"
}
for _ in $(seq 120); do
	read -r live recon failed < <(stat)
	((recon >= lost && live >= opened || failed > 0)) && break
done
per=() total=0
for p in "${gwpid[@]}"; do h=$(held "$p"); per+=("$h"); total=$((total + h)); done
echo "after the kill: $live tunnels live at the apps ($recon reopened, $failed given up), held per gateway left: ${per[*]}"
blocked=$(probe com.blocked)
allowed=$(probe com.idle)
echo "probe through the shared tunnel port after the kill, HTTP codes (count code): authorised app: $allowed; app not authorised (blocked): $blocked"
[[ $allowed =~ ^\ ?40\ 200\ ?$ ]] || { echo "FAIL: the authorised app was refused"; exit 1; }
[[ $blocked =~ ^\ ?40\ 403\ ?$ ]] || { echo "FAIL: a blocked app got a tunnel"; exit 1; }
((recon >= lost)) || { echo "FAIL: $recon of the $lost tunnels of the killed gateway reopened"; exit 1; }
