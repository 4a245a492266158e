#!/usr/bin/env bash
# The default load suite (make bench-load): each scenario against a fresh
# `rtd serve --echo`, writing OUT/SCENARIO.json and OUT/SCENARIO.html. About
# 1.5 minutes on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/scripts/lib.sh
mkdir -p "$OUT"
run() { # NAME SCENARIO FLAGS…
	local name=$1; shift
	start_server rtd
	echo "== $name"
	"$RTD" bench "$@" --url "$URL" --pid $SPID --src 127.0.1 --json "$OUT/$name.json" --html "$OUT/$name.html"
	stop_server
}
run connect-ws  connect --conns 19000 --transport ws  --duration 5s
run connect-sse connect --conns 19000 --transport sse --duration 5s
run fanout      fanout  --conns 10000 --channels 1 --size 64 --duration 15s --window 16
run fanout-sse  fanout  --conns 5000 --channels 10 --transport sse --rate 500 --duration 10s
run echo        echo    --conns 1000 --size 64 --duration 10s
run slow        slow    --conns 2000 --slow-fraction 0.1 --rate 200 --size 512 --duration 15s
run churn       churn   --conns 2000 --churn-rate 200 --rate 100 --duration 10s
echo "results in $OUT/"
