#!/usr/bin/env bash
# compat.sh BATON_BINARY — drive redis-cli through a sample of every command
# family against `baton node` and a redis-server started in the same run, and
# compare the replies byte for byte (redis-cli --no-raw shows reply types).
# Lines of scripts/compat/commands.txt starting with "~ " are compared
# ignoring reply order (hash and set iteration order is unspecified); " | "
# separates commands sent on one connection.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bin=${1:?usage: compat.sh path/to/baton}
cmds=${COMPAT_COMMANDS:-$here/compat/commands.txt}
start_pair "$bin"
redis-cli -p "$rport" FLUSHALL >/dev/null
redis-cli -p "$bport" FLUSHALL >/dev/null

pass=0 fail=0 n=0
while IFS= read -r line || [ -n "$line" ]; do
	case "$line" in ''|'#'*) continue ;; esac
	n=$((n + 1))
	unordered=0
	if [ "${line#\~ }" != "$line" ]; then unordered=1; line=${line#\~ }; fi
	# " | " separates commands sent on one connection (MULTI ... EXEC).
	# redis-cli appends "(1.21s)" to a slow reply: timing, not the reply.
	script=$(printf '%s\n' "$line" | sed 's/ | /\n/g')
	want=$(printf '%b\n' "$script" | redis-cli -p "$rport" --no-raw 2>&1 | sed -E '/^\([0-9.]+s\)$/d' || true)
	got=$(printf '%b\n' "$script" | redis-cli -p "$bport" --no-raw 2>&1 | sed -E '/^\([0-9.]+s\)$/d' || true)
	if [ "$unordered" = 1 ]; then
		want=$(printf '%s\n' "$want" | sed 's/^ *[0-9]*) //' | sort)
		got=$(printf '%s\n' "$got" | sed 's/^ *[0-9]*) //' | sort)
	fi
	if [ "$want" == "$got" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		printf 'MISMATCH line %d: %s\n  redis-server: %s\n  baton:        %s\n' "$n" "$line" \
			"$(printf '%s' "$want" | tr '\n' '|')" "$(printf '%s' "$got" | tr '\n' '|')"
	fi
done <"$cmds"
echo "compat: $pass passed, $fail failed"
[ "$fail" = 0 ]
