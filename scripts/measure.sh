#!/usr/bin/env bash
# Measures the README's figures on this machine: binary size, cold start
# to ready (fresh SQLite database, migrations included) and idle memory.
set -euo pipefail
cd "$(dirname "$0")/.."
make build >/dev/null
echo "binary: $(stat -c %s verigate) bytes (make build: -trimpath -s -w)"
tmp=$(mktemp -d); trap 'pkill -f "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
export VERIGATE_SECRET_KEY=measure-measure-measure-measure-1
for i in 1 2 3 4 5; do
  port=$((18180 + i))
  start=$(date +%s%N)
  VERIGATE_DATA_DIR="$tmp/d$i" VERIGATE_ADDR=127.0.0.1:$port ./verigate serve --data-dir "$tmp/d$i" 2>/dev/null &
  until curl -sf 127.0.0.1:$port/readyz >/dev/null; do sleep 0.002; done
  echo "cold start to ready #$i: $(( ($(date +%s%N) - start) / 1000000 )) ms"
done
sleep 2
for pid in $(pgrep -f "$tmp"); do echo "idle RSS pid $pid: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"; done
