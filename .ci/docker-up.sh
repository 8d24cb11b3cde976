#!/usr/bin/env bash
# Starts a Docker engine usable by the container tests on a machine without
# a registry, such as this repository's CI machines (.ci/run; see
# docs/containers.md): installs docker.io when missing, then
# runs dockerd with the vfs storage driver and without iptables, in the
# background, logging to $DOCKERD_LOG. Idempotent: does nothing when an
# engine already answers. Fails (exit 1) with the log tail when the engine
# does not answer within DOCKER_UP_TIMEOUT seconds (default 60).
set -euo pipefail

log=${DOCKERD_LOG:-/var/log/gatehouse-dockerd.log}
timeout=${DOCKER_UP_TIMEOUT:-60}

if docker info >/dev/null 2>&1; then
	echo "docker: engine already answers ($(docker version --format '{{.Server.Version}}'))"
	exit 0
fi

if ! command -v dockerd >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq docker.io >/dev/null
fi

if ! pgrep -x dockerd >/dev/null; then
	# vfs: no overlay mounts needed; --iptables=false: no NAT rules (we
	# never leave the machine). Bridge networking between containers and
	# the host still works: it is plain routing on docker0.
	nohup dockerd --storage-driver=vfs --iptables=false >>"$log" 2>&1 &
	echo "docker: started dockerd (pid $!, log $log)"
fi

for ((i = 0; i < timeout * 2; i++)); do
	if docker info >/dev/null 2>&1; then
		echo "docker: engine answers ($(docker version --format '{{.Server.Version}}'), API $(docker version --format '{{.Server.APIVersion}}'))"
		exit 0
	fi
	sleep 0.5
done
echo "docker: the engine did not answer within ${timeout}s; last lines of $log:" >&2
tail -n 30 "$log" >&2 || true
exit 1
