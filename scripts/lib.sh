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
