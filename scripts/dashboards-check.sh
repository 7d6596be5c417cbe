#!/usr/bin/env bash
# dashboards-check.sh BATON_BINARY: starts a local appliance (3 coordinators,
# 3 nodes, 1 proxy, each with --http-addr) and Debian's prometheus scraping
# it every second, drives load through the proxy and one takeover, then
# evaluates every dashboard query through Prometheus' HTTP API
# (scripts/dashcheck): exit 1 if any query fails or returns no series.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bin=$(abs_executable "$1")
command -v prometheus >/dev/null || { echo "prometheus is not installed" >&2; exit 1; }
make_workdir
secret=dashboards-check
port() { free_port; }

raft=() api=() peers=()
for i in 1 2 3; do raft+=("127.0.0.1:$(port)"); api+=("127.0.0.1:$(port)"); done
for i in 1 2 3; do peers+=("c$i=${raft[$((i - 1))]}/${api[$((i - 1))]}"); done
coords=$(IFS=,; echo "${api[*]}")
peerlist=$(IFS=,; echo "${peers[*]}")
declare -A web
start() { # start NAME SUBCOMMAND ARGS...: a process with --http-addr, logs in $work
	local name=$1 sub=$2
	shift 2
	web[$name]="127.0.0.1:$(port)"
	"$bin" "$sub" "$@" --http-addr "${web[$name]}" --cluster-secret "$secret" --log-level warn \
		>"$work/$name.out" 2>"$work/$name.log" &
	pids+=($!)
}
for i in 1 2 3; do
	start "c$i" coordinator --id "c$i" --raft-addr "${raft[$((i - 1))]}" --addr "${api[$((i - 1))]}" \
		--dir "$work/c$i" --peers "$peerlist"
done
for i in 1 2 3; do
	start "n$i" node --addr "127.0.0.1:$(port)" --dir "$work/n$i" --coordinators "$coords" --node-id "n$i" --sync-replicas 1
done
pport=$(port)
start proxy proxy --addr "127.0.0.1:$pport" --coordinators "$coords"
wait_ping "$pport"
for _ in $(seq 1 150); do # the appliance is writable once a primary is elected
	[ "$(redis-cli -p "$pport" SET dashboards:ready 1 2>/dev/null)" = "OK" ] && break
	sleep 0.2
done
[ "$(redis-cli -p "$pport" SET dashboards:ready 1 2>/dev/null)" = "OK" ] || { echo "appliance not writable; logs:" >&2; tail -n 5 "$work"/*.log >&2; exit 1; }

targets() { local out=() n; for n in "$@"; do out+=("\"${web[$n]}\""); done; (IFS=,; echo "${out[*]}"); }
cat >"$work/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - {job_name: baton-coordinator, static_configs: [{targets: [$(targets c1 c2 c3)]}]}
  - {job_name: baton-node, static_configs: [{targets: [$(targets n1 n2 n3)]}]}
  - {job_name: baton-proxy, static_configs: [{targets: [$(targets proxy)]}]}
YML
promport=$(port)
prometheus --config.file "$work/prometheus.yml" --storage.tsdb.path "$work/prom" \
	--web.listen-address "127.0.0.1:$promport" >"$work/prometheus.log" 2>&1 &
pids+=($!)

echo "== load through the proxy, a takeover under load, more load"
redis-benchmark -p "$pport" -n 20000 -c 8 -r 1000 -t set,get,rpush,lpop,incr -q >/dev/null
redis-benchmark -p "$pport" -n 30000 -c 8 -r 1000 -t set,get -q >/dev/null &
load=$!
sleep 1
"$bin" ctl takeover --coordinators "$coords" --cluster-secret "$secret" --proxy "127.0.0.1:$pport" | tail -n 3
wait "$load"
sleep 6 # a few more scrapes after the takeover
run_go_program dashcheck --prometheus "http://127.0.0.1:$promport" --window 5m
