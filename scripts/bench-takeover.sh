#!/usr/bin/env bash
# bench-takeover.sh BATON_BINARY — write pause of coordinated takeovers
# (BATON.TAKEOVER) under load: Baton (3 coordinators + 3 nodes,
# --sync-replicas 1, one baton proxy in front) with writers appending
# through the proxy while the primary moves n1 → n2 → n1 …, without and
# with hung clients on the primary; and, as an anchor, Redis 7 FAILOVER
# between a primary and its replica under the same load written straight
# to the primary. scripts/benchtakeover does the work and prints a
# Markdown table; see its doc comment for the definitions.
#
# Environment: K (switches per scenario, default 20), CLIENTS (writers,
# default 50), HUNG (hung clients per takeover, default 20), GRACE
# (takeover GRACE with hung clients, default 300ms), SYNC_REPLICAS (default
# 1), TAKEOVER_SYSTEMS ("baton,baton-hung,redis-failover"; leave out
# redis-failover to skip the anchor). The anchor is skipped, and said so,
# when redis-server is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=$(abs_executable "${1:?usage: bench-takeover.sh path/to/baton}")
make_workdir
run_go_program benchtakeover -baton "$bin" -k "${K:-20}" -clients "${CLIENTS:-50}" -hung "${HUNG:-20}" \
	-grace "${GRACE:-300ms}" -sync-replicas "${SYNC_REPLICAS:-1}" \
	-systems "${TAKEOVER_SYSTEMS:-baton,baton-hung,redis-failover}"
