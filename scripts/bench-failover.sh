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
. "$here/lib.sh"
bin=$(abs_executable "${1:?usage: bench-failover.sh path/to/baton}")
make_workdir
run_go_program benchfailover -baton "$bin" -k "${K:-20}" -clients "${CLIENTS:-20}" \
	-sync-replicas "${SYNC_REPLICAS:-1}" -systems "${FAILOVER_SYSTEMS:-baton,redis-sentinel}"
