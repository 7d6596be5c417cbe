#!/usr/bin/env bash
# bench-proxy.sh BATON_BINARY — what the proxy costs: redis-benchmark against
# one standalone `baton node --fsync everysec` directly, through `baton proxy
# --backend` in front of it, and through twemproxy (nutcracker, redis: true,
# one server) in front of the same node, all on loopback in one run, printed
# as Markdown tables with the ratios proxy/direct.
#
# 1. Throughput: -c CLIENTS -n N -t set,get at -P 1 and -P 16; the three
#    paths run one after another per pipeline depth, so drift on a shared
#    machine hits them alike.
# 2. Latency: -c 1 -n LAT_N -t get -P 1: p50 and p99 of each path and the p50
#    the proxy adds over the direct path.
# Targets (issue 5): added p50 ≤ 100 µs; baton proxy ≥ 0.9× direct rps at
# -P 1 and ≥ 0.8× at -P 16. They are reported, never enforced (the numbers
# of a shared machine are not a test).
#
# twemproxy is installed with apt-get when missing and this runs as root with
# apt-get present; otherwise its column says why it was skipped.
#
# Environment: N (requests, default 500000), CLIENTS (default 50), LAT_N
# (requests of the -c 1 latency runs, default 50000), TWEMPROXY (auto; 0
# skips it), TIMEOUT_S (bound on each redis-benchmark run, default 600).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${1:?usage: bench-proxy.sh path/to/baton}
n=${N:-500000}
c=${CLIENTS:-50}
lat_n=${LAT_N:-50000}
twem=${TWEMPROXY:-auto}
timeout_s=${TIMEOUT_S:-600}

die() {
	echo "bench-proxy: $*" >&2
	exit 1
}

[ -x "$bin" ] || die "$bin is not an executable"
command -v redis-benchmark >/dev/null 2>&1 || die "redis-benchmark is missing (make deps installs it)"

make_workdir

# wait_port PORT waits until 127.0.0.1:PORT accepts connections (twemproxy
# may not answer PING before it has a server connection).
wait_port() {
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

# The node: standalone (no coordinators), persistence as bench-node runs it.
nport=$(free_port)
"$bin" node --addr "127.0.0.1:$nport" --dir "$work/node" --fsync everysec --log-level warn \
	>"$work/node.out" 2>"$work/node.log" &
pids+=($!)
wait_ping "$nport" || die "baton node did not start: $(tail -3 "$work/node.log")"

# The proxy in front of it, with a static backend.
pport=$(free_port)
"$bin" proxy --addr "127.0.0.1:$pport" --backend "127.0.0.1:$nport" --log-level warn \
	>"$work/proxy.out" 2>"$work/proxy.log" &
pids+=($!)
wait_ping "$pport" || die "baton proxy did not start: $(tail -3 "$work/proxy.log")"

# twemproxy, when it is here or can be installed. tport stays empty and
# twem_note says why when it is not.
tport=
twem_note=
start_twemproxy() {
	if [ "$twem" = 0 ]; then
		twem_note="skipped (TWEMPROXY=0)"
		return
	fi
	if ! command -v nutcracker >/dev/null 2>&1; then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
			echo "bench-proxy: installing nutcracker (twemproxy)" >&2
			# Without an update first the package lists may be missing or stale.
			{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nutcracker ||
				{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nutcracker; }; } \
				>"$work/apt.log" 2>&1 || true
			# The package's own service (if any init started it) is not ours.
			(command -v systemctl >/dev/null 2>&1 && systemctl stop nutcracker >/dev/null 2>&1) || true
		fi
		if ! command -v nutcracker >/dev/null 2>&1; then
			twem_note="skipped: nutcracker missing and not installable here (apt-get as root)"
			return
		fi
	fi
	local port sport
	port=$(free_port)
	sport=$(free_port)
	cat >"$work/nutcracker.yml" <<-EOF
		baton:
		  listen: 127.0.0.1:$port
		  redis: true
		  hash: fnv1a_64
		  distribution: ketama
		  auto_eject_hosts: false
		  servers:
		    - 127.0.0.1:$nport:1
	EOF
	# Foreground (no -d), so the pid is ours to kill; the stats port (-s,
	# default 22222 on every address) gets a free loopback port too.
	nutcracker -c "$work/nutcracker.yml" -p "$work/nutcracker.pid" -o "$work/nutcracker.log" \
		-s "$sport" -a 127.0.0.1 >/dev/null 2>&1 &
	pids+=($!)
	if ! wait_port "$port" || [ "$(redis-cli -p "$port" PING 2>/dev/null)" != PONG ]; then
		twem_note="skipped: nutcracker did not serve on :$port ($(tail -2 "$work/nutcracker.log" 2>/dev/null | tr '\n' ' '))"
		return
	fi
	tport=$port
}
start_twemproxy

# processed prints the node's total_commands_processed.
processed() { redis-cli -p "$nport" INFO stats | tr -d '\r' | awk -F: '$1 == "total_commands_processed" { print $2 }'; }

# bench NAME PORT COMMANDS ARGS... runs redis-benchmark against
# 127.0.0.1:PORT and writes $work/NAME.csv as "test,rps,avg,p50,p99" lines
# (latencies in ms; empty where this redis-benchmark's CSV has no such
# column). redis-benchmark counts error replies as answered requests, so a
# proxy failing fast would look fast: the node must have processed at least
# COMMANDS commands during the run, or the run is refused.
bench() {
	local name=$1 port=$2 want=$3 before after
	shift 3
	before=$(processed)
	timeout "$timeout_s" redis-benchmark -h 127.0.0.1 -p "$port" --csv -q "$@" \
		>"$work/$name.raw" 2>"$work/$name.err" ||
		die "redis-benchmark $* on :$port failed: $(tail -3 "$work/$name.err")"
	awk -F'","' '
		{ gsub(/^"|"$/, "") }
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		{ print $1 "," $col["rps"] "," (col["avg_latency_ms"] ? $col["avg_latency_ms"] : "") "," \
			(col["p50_latency_ms"] ? $col["p50_latency_ms"] : "") "," (col["p99_latency_ms"] ? $col["p99_latency_ms"] : "") }
	' "$work/$name.raw" >"$work/$name.csv"
	[ -s "$work/$name.csv" ] || die "no redis-benchmark result for $name ($(head -3 "$work/$name.raw"))"
	after=$(processed)
	[ $((after - before)) -ge "$want" ] ||
		die "$name: the node processed $((after - before)) commands, want at least $want (errors through the proxy?)"
}

# field NAME TEST COLUMN prints one value of $work/NAME.csv (2 = rps, 4 = p50,
# 5 = p99), or nothing.
field() { [ -f "$work/$1.csv" ] && awk -F, -v t="$2" -v k="$3" '$1 == t { print $k }' "$work/$1.csv" || true; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
int() { awk -v a="$1" 'BEGIN { if (a == "") print "–"; else printf "%d", a }'; }
us() { awk -v a="$1" 'BEGIN { if (a == "") print "–"; else printf "%d", a * 1000 + 0.5 }'; }

paths="direct:$nport proxy:$pport"
[ -n "$tport" ] && paths="$paths twem:$tport"
for p in 1 16; do
	for pp in $paths; do
		echo "bench-proxy: ${pp%%:*} -P $p" >&2
		bench "${pp%%:*}.P$p" "${pp#*:}" $((2 * n)) -c "$c" -n "$n" -t set,get -P "$p"
	done
done
for pp in $paths; do
	echo "bench-proxy: ${pp%%:*} latency -c 1" >&2
	bench "${pp%%:*}.lat" "${pp#*:}" "$lat_n" -c 1 -n "$lat_n" -t get -P 1
done

echo "$(redis-benchmark --version | cut -d' ' -f1-2); $(nproc) cores; baton node --fsync everysec, standalone; all on loopback, one machine"
[ -n "$tport" ] && echo "twemproxy: $(nutcracker --version 2>&1 | head -1)"
echo
echo "| test | pipeline | direct rps | baton proxy rps (ratio) | twemproxy rps (ratio) | p50 ms direct / proxy / twemproxy |"
echo "|---|---:|---:|---:|---:|---:|"
for p in 1 16; do
	for t in SET GET; do
		d=$(field "direct.P$p" "$t" 2)
		b=$(field "proxy.P$p" "$t" 2)
		w=$(field "twem.P$p" "$t" 2)
		if [ -n "$tport" ]; then wcell="$(int "$w") ($(ratio "$w" "$d"))"; else wcell="–"; fi
		lat="$(field "direct.P$p" "$t" 4) / $(field "proxy.P$p" "$t" 4) / $(field "twem.P$p" "$t" 4)"
		echo "| $t | $p | $(int "$d") | $(int "$b") ($(ratio "$b" "$d")) | $wcell | ${lat% / } |"
	done
done
echo
echo "| GET, -c 1 -P 1 -n $lat_n | p50 µs | p99 µs | added p50 µs |"
echo "|---|---:|---:|---:|"
dp50=$(field direct.lat GET 4)
for pp in $paths; do
	name=${pp%%:*}
	case $name in direct) label="direct" ;; proxy) label="baton proxy" ;; twem) label="twemproxy" ;; esac
	p50=$(field "$name.lat" GET 4)
	added=$(awk -v a="$p50" -v b="$dp50" 'BEGIN { if (a == "" || b == "") print "–"; else printf "%d", (a - b) * 1000 }')
	[ "$name" = direct ] && added=""
	echo "| $label | $(us "$p50") | $(us "$(field "$name.lat" GET 5)") | $added |"
done
echo
[ -n "$tport" ] || echo "twemproxy $twem_note."

# The issue's targets, judged on the baton proxy's numbers of this run.
verdict() { if awk -v a="$1" -v b="$2" -v op="$3" 'BEGIN { exit !(a != "" && (op == "le" ? a <= b : a >= b)) }'; then echo met; else echo MISSED; fi; }
added=$(awk -v a="$(field proxy.lat GET 4)" -v b="$dp50" 'BEGIN { if (a != "" && b != "") printf "%d", (a - b) * 1000 }')
echo "Targets (issue 5):"
echo "- added p50 ${added:-?} µs ≤ 100 µs: $(verdict "$added" 100 le)"
for p in 1 16; do
	want=0.9
	[ "$p" = 16 ] && want=0.8
	for t in SET GET; do
		r=$(ratio "$(field "proxy.P$p" "$t" 2)" "$(field "direct.P$p" "$t" 2)")
		echo "- $t -P $p: $r× direct ≥ ${want}×: $(verdict "$r" "$want" ge)"
	done
done
echo
echo "Throughput: -c $c clients, -n $n requests per test; latencies as redis-benchmark reports them (ms, 3 decimals, HdrHistogram)."
