#!/usr/bin/env bash
# make bench-compare: each scenario against rtd and each peer in bench/peers,
# each on a fresh server, then the side-by-side ratios (to rtd). The centrifuge
# peer is talked to in its own protocol (--protocol centrifuge).
#
#   fanout   10,000 WebSocket subscribers, 64 B, as fast as delivery keeps up
#   paced    the same at 1 publication/s (10,000 deliveries/s): latency
#   echo     1,000 connections doing round trips (centrifuge: an RPC)
#   connect  10,000 idle connections: memory per connection
#   recover  10,000 subscribers disconnect, 50 publications, they resubscribe
#            from their positions: time until all caught up (servers with
#            history only: rtd, centrifuge)
#
# KINDS and SCENARIOS narrow the run; SCENARIO_FLAGS runs that one scenario
# instead (e.g. SCENARIO_FLAGS='fanout --conns 2000 --duration 5s').
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/scripts/lib.sh
mkdir -p "$OUT"
(cd bench/peers && go build -o "../../$PEER" ./cmd/peer)
KINDS=${KINDS:-rtd centrifuge gorilla gws nbio}
SCENARIOS=${SCENARIOS:-fanout paced echo connect recover}
declare -A FLAGS=(
	[fanout]='fanout --conns 10000 --channels 1 --size 64 --duration 10s --window 16'
	[paced]='fanout --conns 10000 --channels 1 --size 64 --duration 10s --rate 1'
	[echo]='echo --conns 1000 --size 64 --duration 10s'
	[connect]='connect --conns 10000 --duration 3s'
	[recover]='recover --conns 10000 --channels 1 --size 64 --recover-pubs 50'
)
if [ -n "${SCENARIO_FLAGS:-}" ]; then
	SCENARIOS=custom
	FLAGS[custom]=$SCENARIO_FLAGS
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
summary=()
for sc in $SCENARIOS; do
	files=()
	for kind in $KINDS; do
		if [ "$sc" = recover ] && [ "$kind" != rtd ] && [ "$kind" != centrifuge ]; then
			continue # no history to recover from
		fi
		proto=rtd
		[ "$kind" = centrifuge ] && proto=centrifuge
		start_server "$kind"
		echo "== $sc: $kind (load average $(cut -d' ' -f1-3 /proc/loadavg))"
		mkdir -p "$OUT/compare-$sc"
		json="$OUT/compare-$sc/$kind.json"
		rm -f "$json"
		# shellcheck disable=SC2086
		if ! "$RTD" bench ${FLAGS[$sc]} --protocol "$proto" --url "$URL" --pid "$SPID" --src 127.0.1 \
			--json "$json" --html "$OUT/compare-$sc/$kind.html"; then
			echo "(the $kind run failed)"
		fi
		stop_server
		[ -s "$json" ] && files+=("$json")
	done
	if [ ${#files[@]} -gt 0 ]; then
		summary+=("$sc" "${files[*]}")
	fi
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((i = 0; i < ${#summary[@]}; i += 2)); do
	echo
	echo "== ${summary[i]}: ${FLAGS[${summary[i]}]}"
	# shellcheck disable=SC2086
	"$RTD" bench compare ${summary[i + 1]}
done
