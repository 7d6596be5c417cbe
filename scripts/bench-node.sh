#!/usr/bin/env bash
# bench-node.sh BATON_BINARY — redis-benchmark against `baton node --fsync
# everysec` and redis-server (appendonly yes, appendfsync everysec) started by
# this script, same parameters for both, printed as a Markdown table with the
# ratio baton/redis (requests per second).
# Environment: BENCH_N (requests, default 500000), BENCH_C (clients, 50),
# BENCH_TESTS (set,get,incr,lpush,hset), BENCH_PIPELINES ("1 16").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${1:?usage: bench-node.sh path/to/baton}
n=${BENCH_N:-500000}
c=${BENCH_C:-50}
tests=${BENCH_TESTS:-set,get,incr,lpush,hset}
pipelines=${BENCH_PIPELINES:-1 16}
start_pair "$bin"

# bench PORT PIPELINE prints "test,rps" lines.
bench() {
	redis-benchmark -h 127.0.0.1 -p "$1" -c "$c" -n "$n" -P "$2" -t "$tests" --csv -q 2>/dev/null |
		awk -F'","' 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); print $1 "," $2 }'
}

echo "redis-benchmark -c $c -n $n -t $tests; $(redis-server --version | cut -d' ' -f1-3); $(nproc) cores"
echo
echo "| test | pipeline | redis-server rps | baton rps | ratio |"
echo "|---|---:|---:|---:|---:|"
for p in $pipelines; do
	# Interleave the two servers per pipeline depth so drift on a shared
	# machine hits both alike.
	redis-cli -p "$rport" FLUSHALL >/dev/null
	redis-cli -p "$bport" FLUSHALL >/dev/null
	bench "$rport" "$p" >"$work/r.csv"
	bench "$bport" "$p" >"$work/b.csv"
	while IFS=, read -r t rrps; do
		brps=$(awk -F, -v t="$t" '$1 == t { print $2 }' "$work/b.csv")
		ratio=$(awk -v a="${brps:-0}" -v b="$rrps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
		echo "| $t | $p | $rrps | ${brps:-n/a} | $ratio |"
	done <"$work/r.csv"
done
