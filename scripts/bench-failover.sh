#!/usr/bin/env bash
# bench-failover.sh BATON_BINARY — write unavailability on kill -9 of the
# primary: Baton (3 coordinators + 3 nodes, --down-after 1s, --lease 1s,
# --sync-replicas 1) and, as an anchor, Redis Sentinel (3 redis-servers, 3
# sentinels, down-after-milliseconds 1000) on loopback, under the same
# write load and the same number of kills. scripts/benchfailover does the
# work and prints a Markdown table; see its doc comment for the definitions.
#
# Environment: K (kills per system, default 20), CLIENTS (writers, default
# 20), SYNC_REPLICAS (baton node --sync-replicas, default 1),
# FAILOVER_SYSTEMS ("baton,redis-sentinel"; "baton" alone skips the anchor).
# The Sentinel anchor is skipped, and said so, when redis-server is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: bench-failover.sh path/to/baton}
[ -x "$bin" ] || { echo "bench-failover: $bin is not an executable" >&2; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

work=$(mktemp -d)
child=
cleanup() {
	# The Go program kills its servers on SIGTERM (and they die with it via
	# Pdeathsig if it is killed outright).
	if [ -n "$child" ]; then kill "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$here/.." && go build -o "$work/benchfailover" ./scripts/benchfailover) ||
	{ echo "bench-failover: building scripts/benchfailover failed" >&2; exit 1; }

"$work/benchfailover" -baton "$bin" -k "${K:-20}" -clients "${CLIENTS:-20}" \
	-sync-replicas "${SYNC_REPLICAS:-1}" -systems "${FAILOVER_SYSTEMS:-baton,redis-sentinel}" &
child=$!
rc=0
wait "$child" || rc=$?
child=
exit "$rc"
