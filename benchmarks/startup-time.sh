#!/usr/bin/env bash
# Times a Ferry command from launch to its first "listening on" line, RUNS times, and prints the
# times sorted (seconds). Each run gets a fresh ledger file and is stopped with SIGTERM once timed.
#   benchmarks/startup-time.sh 7 ./ferry run --config examples/local.yaml
#   benchmarks/startup-time.sh 7 java -jar app/target/ferry.jar run --config examples/local.yaml
set -euo pipefail
runs=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
times=()
for _ in $(seq 1 "$runs"); do
  rm -f "$work/ledger.db"
  start=$(date +%s%N)
  FERRY_LEDGER="$work/ledger.db" "$@" > "$work/out.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 3000); do # 30 s at most
    grep -q "listening on" "$work/out.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/out.log" >&2; exit 1; }
    sleep 0.01
  done
  end=$(date +%s%N)
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  times+=("$(awk -v ns=$((end - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')")
done
printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' '
echo
