#!/usr/bin/env bash
# Load test of the JSON API, as `make bench-serve` runs it:
#   wrk, 16 connections, 1 thread, 30 s, POST /api/v1/predict (body from predict.lua)
# against the real remla-app binary serving the real model. Prints req/s,
# latency percentiles, errors and the server's resident memory (VmRSS from
# /proc) before, during (min/max, sampled each second) and after the run.
#
# Settings (environment): MODEL (default models/latest.model, trained into
# .run/bench-model when missing), DURATION (30s), CONNECTIONS (16),
# THREADS (1: wrk shares the 2 cores with the server, and one thread drives 16
# connections with the least CPU taken from it), PORT (18181),
# SPLIT (1 on a machine with 2 or more cores: the server runs on CPU 0 with
# GOMAXPROCS=1 and wrk on CPU 1, so the load generator does not steal the
# server's core and inflate its tail latency; 0: both share every core).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
duration=${DURATION:-30s}
connections=${CONNECTIONS:-16}
threads=${THREADS:-1}
port=${PORT:-18181}
split=${SPLIT:-$([ "$(nproc)" -ge 2 ] && echo 1 || echo 0)}
server_pin=() wrk_pin=()
if [ "$split" = 1 ]; then
  command -v taskset >/dev/null || { echo "SPLIT=1 needs taskset (util-linux); or run with SPLIT=0" >&2; exit 1; }
  server_pin=(env GOMAXPROCS=1 taskset -c 0) wrk_pin=(taskset -c 1)
fi
work=$root/.run/bench-serve
mkdir -p "$work"
rm -f "$work"/feedback.db*

command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk (make bench-serve does)" >&2; exit 1; }

make --no-print-directory build >/dev/null
model=${MODEL:-models/latest.model}
if [ ! -f "$model" ]; then
  model=$root/.run/bench-model/latest.model
  if [ ! -f "$model" ]; then
    echo "no model at ${MODEL:-models/latest.model}; training one into .run/bench-model" >&2
    bin/remla-train train --data data --out "$root/.run/bench-model" >/dev/null
  fi
fi

${server_pin[@]+"${server_pin[@]}"} bin/remla-app -model "$model" -addr "127.0.0.1:$port" -color blue -feedback-db "$work/feedback.db" \
  -log-format json >"$work/server.log" 2>&1 &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap cleanup EXIT

for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
rss_start=$(rss_kb)
# Warm up (JIT-free Go, but fills the prediction cache and the pools).
wrk -t1 -c4 -d3s -s app/bench/predict.lua "http://127.0.0.1:$port/api/v1/predict" >/dev/null
rss_before=$(rss_kb)

: >"$work/rss.txt"
( while kill -0 "$pid" 2>/dev/null; do rss_kb >>"$work/rss.txt"; sleep 1; done ) &
sampler=$!
${wrk_pin[@]+"${wrk_pin[@]}"} wrk -t"$threads" -c"$connections" -d"$duration" --latency -s app/bench/predict.lua \
  "http://127.0.0.1:$port/api/v1/predict" | tee "$work/wrk.txt"
kill "$sampler" 2>/dev/null || true
rss_after=$(rss_kb)
rss_min=$(sort -n "$work/rss.txt" | head -1)
rss_max=$(sort -n "$work/rss.txt" | tail -1)
curl -fsS "http://127.0.0.1:$port/metrics" >"$work/metrics.txt"
num_pred=$(awk '$1 == "num_pred" {print $2}' "$work/metrics.txt")
# The model's own p99 (predict_latency_seconds, warm-up included): the upper
# bound of the first bucket that holds 99 % of the observations.
model_p99=$(awk -F'[{}" ]+' '/^predict_latency_seconds_bucket/ {le[n++] = $3; c[$3] = $NF}
  /^predict_latency_seconds_count/ {total = $NF}
  END {for (i = 0; i < n; i++) if (c[le[i]] >= 0.99 * total) {print le[i]; exit}}' "$work/metrics.txt")

line=$(grep '^BENCH ' "$work/wrk.txt")
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $line"; }
errors=$(( $(field errors_connect) + $(field errors_read) + $(field errors_write) + $(field errors_status) + $(field errors_timeout) ))
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

cat <<REPORT

== bench-serve: POST /api/v1/predict, $connections connections, $threads wrk threads, $duration ==
machine:        $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')
model:          $model
cpus:           $([ "$split" = 1 ] && echo "server on CPU 0 (GOMAXPROCS=1), wrk on CPU 1 (SPLIT=1)" || echo "server and wrk share every core (SPLIT=0)")
requests:       $(field requests) in $(field duration_s) s (server counted num_pred=$num_pred, incl. 3 s warm-up)
throughput:     $(field rps) req/s
latency:        p50 $(field p50_ms) ms, p90 $(field p90_ms) ms, p99 $(field p99_ms) ms, max $(field max_ms) ms (wrk, end to end)
model p99:      <= $model_p99 s (predict_latency_seconds bucket holding 99 % of predictions)
load average:   $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min, at the end)
errors:         $errors (connect $(field errors_connect), read $(field errors_read), write $(field errors_write), non-2xx $(field errors_status), timeout $(field errors_timeout))
RSS (VmRSS):    start $(mb "$rss_start") MB, before $(mb "$rss_before") MB, after $(mb "$rss_after") MB, during min $(mb "$rss_min") / max $(mb "$rss_max") MB
REPORT
