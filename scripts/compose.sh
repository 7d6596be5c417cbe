#!/usr/bin/env bash
# The compose appliance's commands, for `docker compose` and
# `docker-compose` alike (make up, down, logs, chaos-compose, chaos-smoke).
#
#   scripts/compose.sh up                 start it, wait until healthy, print endpoints
#   scripts/compose.sh down               stop it and remove its containers and volumes
#   scripts/compose.sh logs               follow every container's log
#   scripts/compose.sh chaos OUT ARGS...  a fresh appliance in its own project,
#                                         `baton chaos run --target compose ARGS`
#                                         from the chaos service (report in OUT),
#                                         then teardown; exits with the run's code
set -euo pipefail
cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then
	COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
	COMPOSE=(docker-compose)
else
	echo "neither 'docker compose' nor 'docker-compose' is available" >&2
	exit 2
fi
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-baton}"

# wait_healthy waits (up to $1 seconds) until every container of the
# project reports healthy.
wait_healthy() {
	local limit=$1 start=$SECONDS ids states
	while :; do
		ids=$("${COMPOSE[@]}" ps -q)
		states=$(docker inspect -f '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' $ids)
		if [ -n "$ids" ] && ! grep -qv ' healthy$' <<<"$states"; then
			return 0
		fi
		if ((SECONDS - start > limit)); then
			echo "not healthy after ${limit}s:" >&2
			echo "$states" >&2
			return 1
		fi
		sleep 2
	done
}

cmd=${1:-}
shift || true
case "$cmd" in
up)
	"${COMPOSE[@]}" up -d
	wait_healthy 180
	p1=$("${COMPOSE[@]}" port proxy1 6379)
	p2=$("${COMPOSE[@]}" port proxy2 6379)
	echo "baton appliance ($COMPOSE_PROJECT_NAME) is up: proxies on $p1 and $p2"
	echo "  redis-cli -p ${p1##*:} ping"
	echo "  ${COMPOSE[*]} exec c1 /baton ctl status"
	echo "  ${COMPOSE[*]} exec c1 /baton ctl takeover"
	;;
down)
	"${COMPOSE[@]}" down -v --remove-orphans
	;;
logs)
	"${COMPOSE[@]}" logs -f --tail 100
	;;
chaos)
	out=$1
	shift
	mkdir -p "$out"
	export BATON_CHAOS_OUT
	BATON_CHAOS_OUT=$(cd "$out" && pwd)
	# Its own project and any free ports: a `make up` appliance or another
	# run on the machine is not disturbed.
	export COMPOSE_PROJECT_NAME="batonchaos$$"
	export BATON_PROXY1_PUBLISH=127.0.0.1: BATON_PROXY2_PUBLISH=127.0.0.1:
	teardown() {
		"${COMPOSE[@]}" --profile chaos down -v --remove-orphans >/dev/null 2>&1 || true
	}
	trap teardown EXIT
	"${COMPOSE[@]}" up -d
	wait_healthy 180
	rc=0
	"${COMPOSE[@]}" --profile chaos run --rm -T chaos chaos run --target compose --out /out "$@" || rc=$?
	if [ "$rc" != 0 ]; then
		"${COMPOSE[@]}" ps || true
	fi
	exit "$rc"
	;;
*)
	sed -n '2,12p' "$0" >&2
	exit 2
	;;
esac
