# Shared by load.sh and compare.sh: start a fresh server of a kind on a free
# port and stop it again. Sourced, not run.
RTD=${RTD:-bin/rtd}
PEER=${PEER:-bin/peer}
OUT=${OUT:-bench-results}
PORT=${PORT:-28090}

# start_server KIND: rtd, centrifuge, gorilla, gws or nbio. Sets SPID and URL.
start_server() {
	if ss -ltn | grep -q ":$PORT "; then
		echo "port $PORT is taken: set PORT=…" >&2; exit 1
	fi
	if [ "$1" = rtd ]; then
		"$RTD" serve --echo --addr 127.0.0.1:$PORT --log-level warn >"$OUT/server-$1.log" 2>&1 &
	else
		"$PEER" --kind "$1" --addr 127.0.0.1:$PORT >"$OUT/server-$1.log" 2>&1 &
	fi
	SPID=$!
	URL=http://127.0.0.1:$PORT
	for _ in $(seq 50); do
		curl -fs "$URL/api/stats" >/dev/null 2>&1 && return 0
		kill -0 $SPID 2>/dev/null || break
		sleep 0.1
	done
	echo "server $1 did not start:" >&2; cat "$OUT/server-$1.log" >&2; exit 1
}

stop_server() {
	kill $SPID 2>/dev/null; wait $SPID 2>/dev/null || true
}
