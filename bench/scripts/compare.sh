#!/usr/bin/env bash
# make bench-compare: the same scenario against rtd and each peer in
# bench/peers, each on a fresh server, then the side-by-side ratios.
# SCENARIO_FLAGS overrides the run (default: fan-out to 10,000 WebSocket
# subscribers, 64-byte payloads, as fast as delivery keeps up).
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/scripts/lib.sh
mkdir -p "$OUT"
(cd bench/peers && go build -o "../../$PEER" ./cmd/peer)
FLAGS=${SCENARIO_FLAGS:-fanout --conns 10000 --channels 1 --size 64 --duration 10s --window 16}
files=()
for kind in rtd gorilla gws nbio; do
	start_server $kind
	echo "== $kind"
	# shellcheck disable=SC2086
	"$RTD" bench $FLAGS --url "$URL" --pid $SPID --src 127.0.1 --json "$OUT/compare-$kind.json" --html "$OUT/compare-$kind.html"
	stop_server
	files+=("$OUT/compare-$kind.json")
done
echo
"$RTD" bench compare "${files[@]}"
