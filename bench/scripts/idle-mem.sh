#!/bin/bash
# usage: bench/scripts/idle-mem.sh BIN ws|sse N [rtd serve flags…]
# Memory per idle connection of a fresh rtd serve, read from /proc/PID/status:
# 3 s after N connections are open (no forced GC), then after /api/stats?gc=1.
# N > 9000 uses 3 client processes on 127.0.X.* source addresses.
# prints: base, rss no-gc (3s after ready), rss after gc, per-conn both
BIN=$1; T=$2; N=$3; shift 3
PORT=$((18100 + RANDOM % 800))
$BIN serve --addr 127.0.0.1:$PORT --log-level error "$@" >${TMPDIR:-/tmp}/rtd-idle-serve.log 2>&1 &
SP=$!
sleep 0.7
curl -s "127.0.0.1:$PORT/api/stats?gc=1" >/dev/null
BASE=$(awk '/VmRSS/{print $2}' /proc/$SP/status)
PROCS=1; [ $N -gt 9000 ] && PROCS=3
$BIN bench connect --url http://127.0.0.1:$PORT --conns $N --procs $PROCS --src 127.0.$((RANDOM%200+20)) --transport $T --duration 12s --drain 0s >${TMPDIR:-/tmp}/rtd-idle-bench.log 2>&1 &
BP=$!
# wait until N connections
for i in $(seq 1 600); do
  c=$(curl -s "127.0.0.1:$PORT/api/stats" | sed -n 's/.*"total":\([0-9]*\).*/\1/p')
  [ "${c:-0}" -ge $N ] && break
  sleep 0.1
done
sleep 3
NOGC=$(awk '/VmRSS/{print $2}' /proc/$SP/status)
ST=$(curl -s "127.0.0.1:$PORT/api/stats?gc=1")
GC=$(awk '/VmRSS/{print $2}' /proc/$SP/status)
HEAP=$(echo "$ST" | sed -n 's/.*"heap_inuse_bytes":\([0-9]*\).*/\1/p')
echo "$T n=$c base=${BASE}kB nogc=${NOGC}kB gc=${GC}kB perconn_nogc=$(( (NOGC-BASE)*1024/c ))B perconn_gc=$(( (GC-BASE)*1024/c ))B heapinuse/conn=$((HEAP/c))"
wait $BP
kill $SP; wait $SP 2>/dev/null
