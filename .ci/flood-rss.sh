#!/usr/bin/env bash
# Repository-only measurement (issue 18): N unauthenticated requests with
# random device ids against a subprocess gateway in the lab; prints the
# gateway's RSS before and after, and what the cache, the persistent list
# and the UEM hold. Needs curl and jq. With MAX_GROWTH_MIB set it is a
# check: it fails when the RSS grew by more, when the cache or the UEM
# gained an entry, or when any answer was not 401 or 429.
#
#   [MAX_GROWTH_MIB=47] .ci/flood-rss.sh [N=30000] [PARALLEL=16]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-30000} par=${2:-16}
dir=$(mktemp -d)
trap 'kill "$lab" 2>/dev/null; wait "$lab" 2>/dev/null; rm -rf "$dir"' EXIT

# GATEHOUSE_BIN: a gatehouse built already (.ci/run builds it once).
gh=${GATEHOUSE_BIN:-$dir/gatehouse}
[[ -n ${GATEHOUSE_BIN:-} ]] || go build -o "$gh" ./cmd/gatehouse
"$gh" lab --gateway-subprocess --json --dir "$dir/lab" >"$dir/endpoints.json" 2>"$dir/lab.log" &
lab=$!
eas=
for _ in $(seq 300); do
	eas=$(jq -r '.gateway.activesync_url // empty' "$dir/endpoints.json" 2>/dev/null || true)
	[[ -n $eas ]] && break
	sleep 0.2
done
[[ -n $eas ]] || { echo "the lab did not start; see its log:"; cat "$dir/lab.log"; exit 1; }
adm=$(jq -r .gateway.admin_url "$dir/endpoints.json") tok=$(jq -r .gateway.admin_token "$dir/endpoints.json")
uem=$(jq -r .uem.admin_url "$dir/endpoints.json") utok=$(jq -r .uem.admin_token "$dir/endpoints.json")
gw=$(pgrep -f "$gh gateway .*--data-dir $dir/" | head -1)

rss() { awk '/VmRSS/ {print $2}' "/proc/$gw/status"; }
devices() { curl -sk -H "Authorization: Bearer $tok" "$adm/admin/v1/device-cache/status" | jq .in_memory; }
assocs() { curl -sk -H "Authorization: Bearer $utok" "$uem/admin/v1/associations?limit=1000" | jq ".items | length"; }

before=$(rss) cache0=$(devices) uem0=$(assocs)
start=$SECONDS
# One curl with a request per device id: keep-alive connections, so the
# measurement is the gateway's, not the cost of starting curl 30,000 times.
for i in $(seq "$n"); do
	printf 'url = "%s?Cmd=Sync&User=flood&DeviceId=FLOOD%d%d&DeviceType=iPhone"\noutput = /dev/null\n' "$eas" "$RANDOM" "$i"
done >"$dir/urls"
curl -sk --no-progress-meter --parallel --parallel-max "$par" -K "$dir/urls" -X POST -u flood:wrong \
	-H 'MS-ASProtocolVersion: 14.1' -H 'Content-Type: application/vnd.ms-sync.wbxml' \
	-w '%{http_code}\n' | sort | uniq -c >"$dir/codes"
after=$(rss) cache1=$(devices) uem1=$(assocs)
echo "requests: $n in $((SECONDS - start)) s; answers:"; cat "$dir/codes"
echo "gateway RSS: before $((before / 1024)) MiB, after $((after / 1024)) MiB, growth $(((after - before) / 1024)) MiB"
echo "device cache entries: before $cache0, after $cache1"
echo "UEM associations: before $uem0, after $uem1"
if [[ -n ${MAX_GROWTH_MIB:-} ]]; then
	bad=$(awk '$2 != 401 && $2 != 429 {print $2}' "$dir/codes")
	[[ -z $bad ]] || { echo "FAIL: answers other than 401/429: $bad"; exit 1; }
	[[ $cache1 == "$cache0" && $uem1 == "$uem0" ]] || { echo "FAIL: the flood added devices (cache $cache0 -> $cache1, UEM $uem0 -> $uem1)"; exit 1; }
	((after - before <= MAX_GROWTH_MIB * 1024)) || { echo "FAIL: RSS grew by $(((after - before) / 1024)) MiB, over $MAX_GROWTH_MIB MiB"; exit 1; }
	echo "ok: growth within $MAX_GROWTH_MIB MiB"
fi
