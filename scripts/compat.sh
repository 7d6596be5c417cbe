#!/usr/bin/env bash
# compat.sh BATON_BINARY [MODE...] — drive redis-cli through a sample of
# every command family against Baton and a redis-server started in the same
# run, and compare the replies byte for byte (redis-cli --no-raw shows reply
# types). MODE is "node" (redis-cli talks to `baton node` directly) or
# "proxy" (to `baton proxy --backend` in front of a `baton node`); the
# default runs both, each with fresh servers.
#
# A line of scripts/compat/commands.txt is commands separated by " | ",
# sent on one connection one after the other, optionally after markers (in
# any order, each followed by one space):
#   "~"         compare ignoring reply order (hash and set iteration order
#               is unspecified);
#   "@pipe"     send the commands with `redis-cli --pipe`, all in one write
#               (a pipeline), and compare its summary and error lines;
#   "@bg"       run the first command on a connection of its own (a
#               SUBSCRIBE, a blocking pop), the rest on a second connection
#               once the server shows the first one subscribed or blocked;
#               the output is the first connection's, then the second's;
#   "@noproxy"  skip in proxy mode: the reply legitimately differs through
#               a proxy (each such line has a comment saying why).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${1:?usage: compat.sh path/to/baton [node|proxy]...}
shift
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(node proxy)
cmds=${COMPAT_COMMANDS:-$here/compat/commands.txt}

# start_proxy BATON_BINARY BACKEND_PORT starts `baton proxy --backend` on a
# free port in front of the node, sets $pport and waits until it answers.
start_proxy() {
	pport=$(free_port)
	"$1" proxy --addr "127.0.0.1:$pport" --backend "127.0.0.1:$2" --log-level warn \
		>"$work/proxy.out" 2>"$work/proxy.log" &
	pids+=($!)
	wait_ping "$pport"
}

# cli PORT SCRIPT sends SCRIPT's lines on one connection and prints the
# replies; "(1.21s)" after a slow reply is timing, not the reply.
cli() {
	printf '%b\n' "$2" | redis-cli -p "$1" --no-raw 2>&1 | sed -E '/^\([0-9.]+s\)$/d' || true
}

# pipe PORT SCRIPT sends SCRIPT with redis-cli --pipe and prints its
# summary (stdout), then the error replies (stderr), each in its order.
pipe() {
	{ printf '%b\n' "$2" | redis-cli -p "$1" --pipe 2>"$work/pipe.err" || true; } && cat "$work/pipe.err"
}

# parked DIRECT_PORT counts the clients of the server on DIRECT_PORT that
# are blocked, plus its channels and patterns with subscribers.
parked() {
	local b c n
	b=$(redis-cli -p "$1" INFO clients | tr -d '\r' | sed -n 's/^blocked_clients://p')
	c=$(redis-cli -p "$1" PUBSUB CHANNELS | grep -c . || true)
	n=$(redis-cli -p "$1" PUBSUB NUMPAT)
	echo $((${b:-0} + c + n))
}

# wait_parked DIRECT_PORT WANT waits (up to 5 s) until parked says WANT
# (0: idle; 1: something parked).
wait_parked() {
	for _ in $(seq 1 100); do
		local k
		k=$(parked "$1")
		if { [ "$2" = 0 ] && [ "$k" = 0 ]; } || { [ "$2" != 0 ] && [ "$k" != 0 ]; }; then return 0; fi
		sleep 0.05
	done
	echo "compat.sh: port $1 never reached parked=$2" >&2
}

# bg PORT DIRECT_PORT SCRIPT ROLE runs SCRIPT's first line on its own
# connection and the rest on another once DIRECT_PORT shows the first one
# parked. The first connection's output is taken once its client exits (a
# pop) or, for a subscriber that never does: with ROLE "ref" (redis-server)
# once it has not grown for 0.3 s, and its line count is kept in
# $work/bg.lines; with ROLE "match" (Baton) once it has as many lines; then
# the client is stopped.
bg() {
	local out=$work/bg.out first rest fg size=-1 still=0 p want=0
	first=${3%%$'\n'*}
	rest=${3#*$'\n'}
	wait_parked "$2" 0
	# timeout bounds the client even if this script is killed meanwhile.
	printf '%b\n' "$first" | timeout 20 redis-cli -p "$1" --no-raw >"$out" 2>&1 &
	p=$!
	wait_parked "$2" 1
	fg=$(cli "$1" "$rest")
	[ "$4" = ref ] || want=$(cat "$work/bg.lines")
	for _ in $(seq 1 100); do
		kill -0 "$p" 2>/dev/null || break
		if [ "$4" != ref ]; then
			[ "$(wc -l <"$out")" -ge "$want" ] && break
		elif [ "$(wc -c <"$out")" = "$size" ]; then
			still=$((still + 1))
			[ "$still" -ge 3 ] && break
		else
			still=0
		fi
		size=$(wc -c <"$out")
		sleep 0.1
	done
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	sed -Ei '/^\([0-9.]+s\)$/d' "$out" # timing, as in cli
	[ "$4" != ref ] || wc -l <"$out" >"$work/bg.lines"
	cat "$out"
	printf '%s\n' "$fg"
}

# run_lines MODE PORT DIRECT_PORT runs every line of $cmds against
# redis-server ($rport) and Baton (PORT; DIRECT_PORT is the node behind
# it), prints each mismatch and the totals, and fails on any.
run_lines() {
	local mode=$1 port=$2 direct=$3 pass=0 fail=0 skip=0 n=0
	local line unordered noproxy kind script want got
	while IFS= read -r line || [ -n "$line" ]; do
		case "$line" in ''|'#'*) continue ;; esac
		n=$((n + 1))
		unordered=0 noproxy=0 kind=cli
		while :; do
			case "$line" in
			'~ '*) unordered=1; line=${line#\~ } ;;
			'@noproxy '*) noproxy=1; line=${line#@noproxy } ;;
			'@pipe '*) kind=pipe; line=${line#@pipe } ;;
			'@bg '*) kind=bg; line=${line#@bg } ;;
			*) break ;;
			esac
		done
		if [ "$mode" = proxy ] && [ "$noproxy" = 1 ]; then
			skip=$((skip + 1))
			continue
		fi
		script=$(printf '%s\n' "$line" | sed 's/ | /\n/g')
		case $kind in
		cli) want=$(cli "$rport" "$script"); got=$(cli "$port" "$script") ;;
		pipe) want=$(pipe "$rport" "$script"); got=$(pipe "$port" "$script") ;;
		bg)
			want=$(bg "$rport" "$rport" "$script" ref)
			got=$(bg "$port" "$direct" "$script" match)
			;;
		esac
		if [ "$unordered" = 1 ]; then
			want=$(printf '%s\n' "$want" | sed 's/^ *[0-9]*) //' | sort)
			got=$(printf '%s\n' "$got" | sed 's/^ *[0-9]*) //' | sort)
		fi
		if [ "$want" == "$got" ]; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			printf 'MISMATCH (%s) line %d: %s\n  redis-server: %s\n  baton:        %s\n' "$mode" "$n" "$line" \
				"$(printf '%s' "$want" | tr '\n' '|')" "$(printf '%s' "$got" | tr '\n' '|')"
		fi
	done <"$cmds"
	echo "compat ($mode): $pass passed, $fail failed, $skip skipped"
	[ "$fail" = 0 ]
}

# run_mode MODE starts fresh servers (in a subshell, whose exit stops them
# and removes their data) and runs the lines against them.
run_mode() (
	start_pair "$bin"
	port=$bport
	case "$1" in
	node) ;;
	proxy) start_proxy "$bin" "$bport"; port=$pport ;;
	*) echo "compat.sh: unknown mode $1 (node or proxy)" >&2; exit 2 ;;
	esac
	redis-cli -p "$rport" FLUSHALL >/dev/null
	redis-cli -p "$bport" FLUSHALL >/dev/null
	run_lines "$1" "$port" "$bport"
)

status=0
for mode in "${modes[@]}"; do
	run_mode "$mode" || status=1
done
exit "$status"
