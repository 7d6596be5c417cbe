# Shared helpers for Baton's scripts (sourced, not run).

# free_port prints a free TCP port on 127.0.0.1.
free_port() {
	python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# wait_ping PORT waits until something answers PING on 127.0.0.1:PORT.
wait_ping() {
	for _ in $(seq 1 100); do
		if [ "$(redis-cli -p "$1" PING 2>/dev/null)" = "PONG" ]; then return 0; fi
		sleep 0.1
	done
	echo "nothing answers PING on port $1" >&2
	return 1
}

# make_workdir creates $work, a temp dir, and $pids, the background
# processes to stop: when the calling script exits (Ctrl-C included) every
# process in $pids is killed and $work removed.
make_workdir() {
	work=$(mktemp -d)
	pids=()
	trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
	trap 'exit 130' INT TERM
}

# start_pair BATON_BINARY starts redis-server (appendonly yes, appendfsync
# everysec) and `baton node --fsync everysec` on free loopback ports, each
# with its data in a new temp dir, sets $rport, $bport and $work, waits for
# both to answer, and removes everything when the calling script exits.
start_pair() {
	make_workdir
	rport=$(free_port)
	redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec \
		--dir "$work" --daemonize no --logfile "$work/redis.log" &
	pids+=($!)
	bport=$(free_port)
	"$1" node --addr "127.0.0.1:$bport" --dir "$work/baton" --fsync everysec --log-level warn \
		>"$work/baton.out" 2>"$work/baton.log" &
	pids+=($!)
	wait_ping "$rport"
	wait_ping "$bport"
}

# run_go_program NAME ARGS... builds the Go program scripts/NAME into $work
# (call make_workdir first) and runs it with ARGS as a child in $pids, so
# that Ctrl-C or the end of the calling script stops it: the benchmark
# programs kill their servers on SIGTERM, and the servers die with them via
# Pdeathsig if they are killed outright. Returns the program's status.
run_go_program() {
	local name=$1
	shift
	(cd "$(dirname "${BASH_SOURCE[0]}")/.." && go build -o "$work/$name" "./scripts/$name") ||
		{ echo "building scripts/$name failed" >&2; return 1; }
	"$work/$name" "$@" &
	pids+=($!)
	wait $!
}

# abs_executable PATH prints PATH made absolute (the Go programs run from
# another directory), or fails when PATH is not an executable.
abs_executable() {
	[ -x "$1" ] || { echo "$1 is not an executable" >&2; return 1; }
	echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
}
