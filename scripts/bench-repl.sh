#!/usr/bin/env bash
# bench-repl.sh BATON_BINARY — replication benchmark of `baton node` against
# redis-server, both started by this script on loopback and measured in the
# same run, printed as a Markdown table with ratios baton/redis.
#
# 1. Throughput and lag: a primary and two replicas per system;
#    `redis-benchmark -t set -P 16 -c 50 -n N -r 100000 -d 64` against the
#    primary while scripts/benchrepl samples every node's offset every 10 ms.
#    Lag in offsets is each system's own unit (Baton: LSNs, one per write;
#    Redis: bytes of the replication stream); lag in ms is comparable.
# 2. Full sync: a primary loaded with FULLSYNC_MB MiB of 1000-byte random
#    values (redis-cli --pipe), then a fresh, empty replica: seconds from
#    REPLICAOF to link up, no sync in progress and its offset equal to the
#    primary's.
#
# Persistence is on for both, matched: redis-server --appendonly yes
# --appendfsync everysec --save '' and baton node --fsync everysec, on every
# node. Redis' primaries use --repl-diskless-sync yes --repl-diskless-sync-delay 0
# (Redis' default delay is 5 s, which would add 5 s to its full sync); its
# replicas load the RDB from disk (repl-diskless-load disabled, the default).
# For phase 2 the primaries' background rewrites are off (Redis
# --auto-aof-rewrite-percentage 0, Baton --snapshot-interval 0), so a rewrite
# triggered by the load does not overlap the sync being timed.
#
# Environment: BENCH_N (requests, default 1000000), FULLSYNC_MB (default 1024),
# FULLSYNC_VALUE (value bytes, default 1000), BACKLOG_BYTES (replication
# backlog of both systems, default 1048576 = Redis' default),
# REPL_SYSTEMS ("redis baton"; "redis" alone checks the script without a
# replicating Baton), REPL_PHASES ("lag steady fullsync"), STEADY_N (200000), TIMEOUT_S (bound on every
# wait, default 900).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${1:?usage: bench-repl.sh path/to/baton}
n=${BENCH_N:-1000000}
mb=${FULLSYNC_MB:-1024}
vsize=${FULLSYNC_VALUE:-1000}
backlog=${BACKLOG_BYTES:-1048576}
systems=${REPL_SYSTEMS:-redis baton}
phases=${REPL_PHASES:-lag steady fullsync}
steady_n=${STEADY_N:-200000}
timeout_s=${TIMEOUT_S:-900}
keys=$((mb * 1048576 / vsize))

die() {
	echo "bench-repl: $*" >&2
	exit 1
}

case " $systems " in *" baton "*)
	# Not `| grep -q`: under pipefail, grep quitting early fails the pipe.
	case "$("$bin" node --help 2>&1)" in *--backlog-size*) ;; *) false ;; esac ||
		die "$bin has no replication (no --backlog-size flag in 'baton node --help'); REPL_SYSTEMS=redis runs the Redis side alone"
	;;
esac

make_workdir

go build -o "$work/benchrepl" "$here/benchrepl" || die "building scripts/benchrepl failed"
br="$work/benchrepl"

# start SYSTEM NAME [extra flags...] starts one server on a free port with its
# data in $work/NAME, records its pid in pids and in $work/NAME.pid, waits
# until it answers PING and sets $port. (Not run in $(...): the subshell would
# lose pids and wait for the server's stdout to close.)
start() {
	local sys=$1 name=$2
	shift 2
	port=$(free_port)
	mkdir -p "$work/$name"
	if [ "$sys" = redis ]; then
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec \
			--repl-diskless-sync yes --repl-diskless-sync-delay 0 --repl-backlog-size "$backlog" \
			--dir "$work/$name" --daemonize no --logfile "$work/$name.log" "$@" >/dev/null 2>&1 &
	else
		"$bin" node --addr "127.0.0.1:$port" --dir "$work/$name" --fsync everysec --backlog-size "$backlog" \
			--log-level warn "$@" >"$work/$name.out" 2>"$work/$name.log" &
	fi
	pids+=($!)
	echo $! >"$work/$name.pid"
	wait_ping "$port" || die "$sys $name did not start (log: $(tail -3 "$work/$name.log" 2>/dev/null))"
}

# stop NAME ends one server started by start: SIGTERM, then SIGKILL after
# 10 s (a Redis primary may wait that long for its replicas on shutdown; the
# data is thrown away anyway), and reaps it quietly.
stop() {
	local p
	p=$(cat "$work/$1.pid")
	kill "$p" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}

# attach PRIMARY_PORT REPLICA_PORT makes the replica follow the primary, waits
# until it is in sync and prints "seconds=… offset=…" lines.
attach() {
	"$br" attach -primary "127.0.0.1:$1" -replica "127.0.0.1:$2" -timeout "${timeout_s}s"
}

val() { awk -F= -v k="$1" '$1 == k { print $2 }' "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# run_lag SYSTEM TAG REDIS-BENCHMARK-ARGS...: primary + two replicas,
# redis-benchmark SET with those arguments, lag sampling. Results in
# $work/SYSTEM.TAG (benchrepl key=value lines plus rps=…).
run_lag() {
	local s=$1 tag=$2 p r1 r2
	shift 2
	start "$s" "$s-p"
	p=$port
	start "$s" "$s-r1"
	r1=$port
	start "$s" "$s-r2"
	r2=$port
	attach "$p" "$r1" >/dev/null || die "$s: replica 1 did not sync"
	attach "$p" "$r2" >/dev/null || die "$s: replica 2 did not sync"
	echo "$s: primary :$p, replicas :$r1 :$r2 in sync; redis-benchmark $*" >&2
	"$br" lag -primary "127.0.0.1:$p" -replicas "127.0.0.1:$r1,127.0.0.1:$r2" \
		-timeout "${timeout_s}s" -catchup-timeout "${timeout_s}s" -- \
		redis-benchmark -h 127.0.0.1 -p "$p" -t set -r 100000 -d 64 --csv -q "$@" \
		>"$work/$s.$tag.raw" || die "$s: lag measurement failed"
	awk -F'","' '/^"SET"/ { gsub(/"/, "", $2); print "rps=" $2 }' "$work/$s.$tag.raw" >"$work/$s.$tag"
	grep -v '^"' "$work/$s.$tag.raw" >>"$work/$s.$tag"
	[ -n "$(val rps "$work/$s.$tag")" ] || die "$s: no redis-benchmark result ($(head -3 "$work/$s.$tag.raw"))"
	for x in p r1 r2; do stop "$s-$x"; done
}

# phase_lag SYSTEM: saturating load (the throughput ratio).
phase_lag() { run_lag "$1" lag -P 16 -c 50 -n "$n"; }

# phase_steady SYSTEM: a steady load that leaves the machine headroom (four
# clients, no pipelining): the lag a replica has when it is not starved of
# CPU.
phase_steady() { run_lag "$1" steady -P 1 -c 4 -n "$steady_n"; }

# phase_fullsync SYSTEM: load a primary, then time a fresh replica's full sync.
# Results in $work/SYSTEM.sync.
phase_fullsync() {
	local s=$1 p r dbsize mem
	if [ "$s" = redis ]; then
		start redis redis-fp --auto-aof-rewrite-percentage 0
	else
		start baton baton-fp --snapshot-interval 0
	fi
	p=$port
	echo "$s: loading $keys keys x $vsize B into :$p" >&2
	"$br" gen -keys "$keys" -size "$vsize" | redis-cli -p "$p" --pipe --pipe-timeout 60 >"$work/$s.pipe" 2>&1 ||
		die "$s: loading failed: $(tail -3 "$work/$s.pipe")"
	dbsize=$(redis-cli -p "$p" DBSIZE)
	[ "$dbsize" -ge "$keys" ] 2>/dev/null || die "$s: DBSIZE $dbsize after loading, want $keys"
	mem=$(redis-cli -p "$p" INFO memory | awk -F: '/^used_memory:/ { printf "%d", $2 / 1048576 }')
	start "$s" "$s-fr"
	r=$port
	echo "$s: DBSIZE $dbsize (used_memory ${mem:-?} MiB); full sync to fresh replica :$r" >&2
	attach "$p" "$r" >"$work/$s.sync" || die "$s: full sync failed"
	dbsize=$(redis-cli -p "$r" DBSIZE)
	[ "$dbsize" -ge "$keys" ] 2>/dev/null || die "$s: replica DBSIZE $dbsize after full sync, want $keys"
	echo "dbsize=$dbsize" >>"$work/$s.sync"
	echo "mem=${mem:-?}" >>"$work/$s.sync"
	stop "$s-fp"
	stop "$s-fr"
	rm -rf "${work:?}/$s-fr" "${work:?}/$s-fp"
}

for ph in $phases; do
	for s in $systems; do "phase_$ph" "$s"; done
done

# get SYSTEM FILE KEY prints a result or nothing when that system did not run.
get() { [ -f "$work/$1.$2" ] && val "$3" "$work/$1.$2" || true; }
row() { # row LABEL KEY FILE [ratio]
	local r b
	r=$(get redis "$3" "$2")
	b=$(get baton "$3" "$2")
	if [ "${4:-}" = ratio ]; then
		echo "| $1 | ${r:-–} | ${b:-–} | $(ratio "$b" "$r") |"
	else
		echo "| $1 | ${r:-–} | ${b:-–} | |"
	fi
}

echo "$(redis-server --version | cut -d' ' -f1-3); $(nproc) cores; all nodes on loopback, one machine"
echo
echo "| measurement | redis-server | baton | baton/redis |"
echo "|---|---:|---:|---:|"
case " $phases " in *" lag "*)
	row "SET rps, primary with 2 replicas (-P 16 -c 50 -n $n -r 100000 -d 64)" rps lag ratio
	row "max replica lag, offsets (Redis: bytes; Baton: LSNs)" max_offset_lag lag
	row "replica lag ms, max" lag_ms_max lag ratio
	row "replica lag ms, p99" lag_ms_p99 lag ratio
	row "replica lag ms, p50" lag_ms_p50 lag ratio
	;;
esac
case " $phases " in *" steady "*)
	row "SET rps, steady load (-P 1 -c 4 -n $steady_n)" rps steady ratio
	row "steady: replica lag ms, max" lag_ms_max steady ratio
	row "steady: replica lag ms, p99" lag_ms_p99 steady ratio
	row "steady: replica lag ms, p50" lag_ms_p50 steady ratio
	;;
esac
case " $phases " in *" fullsync "*)
	row "full sync s, $keys keys x $vsize B (~$mb MiB of values)" seconds sync ratio
	row "primary used_memory MiB" mem sync ratio
	;;
esac
echo
echo "Lag sampled every 10 ms on each node (INFO replication); lag ms = replica sample time minus the"
echo "first primary sample showing that offset (resolution ~10 ms), over both replicas, from the first"
echo "write until both caught up. Persistence: Redis appendonly everysec, Baton --fsync everysec."
echo "Redis full sync: diskless send, repl-diskless-sync-delay 0 (default 5 s would add 5 s), disk load."
