#!/usr/bin/env bash
# Load test of the JSON API against its own floor, as `make bench-serve` runs
# it: the real remla-app binary serving the real model, and wrk (16
# connections, 1 thread) on GET /healthz and POST /api/v1/predict (bodies from
# predict.lua) in alternating short rounds against that one process. The
# machine is shared, so single figures move a lot, and the load moves within
# seconds; the ratio predict/healthz of each round, its two halves seconds
# apart, and the median over many rounds are the figures to read. Prints each
# round's req/s and p99, the ratios (median, min, max), and the server's
# resident memory (VmRSS from /proc): at start, after the warm-up, at the end,
# and min/max sampled each second across all rounds. With the split, also
# wrk's own CPU per request and how busy it kept its core: a load generator
# below 100 % waited for the server, so the server set the pace.
#
# Settings (environment): MODEL (default models/latest.model, trained into
# .run/bench-model when missing), ROUNDS (10), DURATION (3s per endpoint and
# round), CONNECTIONS (16), THREADS (1: one thread drives 16 connections with
# the least CPU), PORT (18181), SPLIT (1 on a machine with 2 or more cores:
# the server runs on CPU 0 with GOMAXPROCS=1 and wrk on CPU 1, so the load
# generator does not steal the server's core; 0: both share every core).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
rounds=${ROUNDS:-10}
duration=${DURATION:-3s}
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
sampler=
cleanup() {
  [ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
trap cleanup EXIT

for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
rss_start=$(rss_kb)
# Warm up: the pools, the heap at its working size, the connections' buffers.
wrk -t1 -c4 -d3s -s app/bench/predict.lua "http://127.0.0.1:$port/api/v1/predict" >/dev/null
wrk -t1 -c4 -d1s -s app/bench/healthz.lua "http://127.0.0.1:$port/healthz" >/dev/null
rss_before=$(rss_kb)

: >"$work/rss.txt"
( while kill -0 "$pid" 2>/dev/null; do rss_kb >>"$work/rss.txt"; sleep 1; done ) &
sampler=$!

# The server's CPU time (user + system, all threads), and the busy time of
# the CPU it runs on (all of CPU 0 with SPLIT=1, else every CPU), in clock
# ticks (/proc/<pid>/stat, /proc/stat).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
server_cpu=$([ "$split" = 1 ] && echo cpu0 || echo cpu)
busy_ticks() { awk -v c="${1:-$server_cpu}" '$1 == c {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# wrk's CPU: CPU 1 with SPLIT=1 (it runs nowhere else); not told apart from
# the server's with SPLIT=0.
client_cpu=$([ "$split" = 1 ] && echo cpu1 || echo none)
tck=$(getconf CLK_TCK)

# bench script path -> the BENCH line of one wrk run, with the server's CPU
# µs per request (cpu_us) and the share of the server's CPU that other
# processes used meanwhile (others): on a shared machine req/s says how much
# of the core the server got, cpu_us what a request costs it. With SPLIT=1
# also the busy time of wrk's CPU per request (client_us, 0 otherwise) and
# its share of the round (client_busy): below 1, wrk waited for the server.
bench() {
  local c0 w0 k0 c1 w1 k1 line
  c0=$(cpu_ticks) w0=$(busy_ticks) k0=$(busy_ticks "$client_cpu")
  ${wrk_pin[@]+"${wrk_pin[@]}"} wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "app/bench/$1" \
    "http://127.0.0.1:$port$2" >"$work/wrk.txt"
  c1=$(cpu_ticks) w1=$(busy_ticks) k1=$(busy_ticks "$client_cpu")
  line=$(grep '^BENCH ' "$work/wrk.txt")
  awk -v l="$line" -v c=$((c1 - c0)) -v w=$((w1 - w0)) -v k=$((${k1:-0} - ${k0:-0})) -v tck="$tck" 'BEGIN {
    split(l, f, /[ =]/); for (i = 2; i < length(f); i += 2) v[f[i]] = f[i + 1]
    printf "%s cpu_us=%.1f others=%.3f client_us=%.1f client_busy=%.3f\n", l, c / tck * 1e6 / v["requests"],
      (w - c) / tck / v["duration_s"], k / tck * 1e6 / v["requests"], k / tck / v["duration_s"] }'
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
errors() { echo $(( $(field "$1" errors_connect) + $(field "$1" errors_read) + $(field "$1" errors_write) + $(field "$1" errors_status) + $(field "$1" errors_timeout) )); }

: >"$work/rounds.txt"
for r in $(seq "$rounds"); do
  # Alternate which goes first, so a trend in the machine's load does not
  # favour one endpoint.
  order=(healthz predict)
  [ $((r % 2)) = 0 ] && order=(predict healthz)
  for what in "${order[@]}"; do
    case $what in
    healthz) h=$(bench healthz.lua /healthz) ;;
    predict) p=$(bench predict.lua /api/v1/predict) ;;
    esac
  done
  printf '%s %s %s %s %s %s %s %s %s %s %s %s %s %s %s %s\n' "$r" "$(field "$h" rps)" "$(field "$h" p99_ms)" "$(errors "$h")" \
    "$(field "$p" rps)" "$(field "$p" p99_ms)" "$(field "$p" max_ms)" "$(errors "$p")" \
    "$(field "$h" cpu_us)" "$(field "$p" cpu_us)" "$(field "$h" others)" "$(field "$p" others)" \
    "$(field "$h" client_us)" "$(field "$p" client_us)" "$(field "$h" client_busy)" "$(field "$p" client_busy)" >>"$work/rounds.txt"
done
kill "$sampler" 2>/dev/null || true
sampler=
rss_after=$(rss_kb)
# Of it, the server's own memory (RssAnon) and the pages of files it maps
# (RssFile: mostly the executable, whose count follows the page cache's
# state, e.g. 19.5 against 24.2 MB for two copies of one binary).
rss_anon=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status")
rss_file=$(awk '/^RssFile:/ {print $2}' "/proc/$pid/status")
rss_min=$(sort -n "$work/rss.txt" | head -1)
rss_max=$(sort -n "$work/rss.txt" | tail -1)
curl -fsS "http://127.0.0.1:$port/metrics" >"$work/metrics.txt"
num_pred=$(awk '$1 == "num_pred" {print $2}' "$work/metrics.txt")
# The model's own p99 (predict_latency_seconds, warm-up included): the upper
# bound of the first bucket that holds 99 % of the observations.
model_p99=$(awk -F'[{}" ]+' '/^predict_latency_seconds_bucket/ {le[n++] = $3; c[$3] = $NF}
  /^predict_latency_seconds_count/ {total = $NF}
  END {for (i = 0; i < n; i++) if (c[le[i]] >= 0.99 * total) {print le[i]; exit}}' "$work/metrics.txt")
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

cat <<REPORT

== bench-serve: GET /healthz beside POST /api/v1/predict, one server, $rounds rounds of $duration each, $connections connections, $threads wrk threads ==
machine:        $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')
model:          $model
cpus:           $([ "$split" = 1 ] && echo "server on CPU 0 (GOMAXPROCS=1), wrk on CPU 1 (SPLIT=1)" || echo "server and wrk share every core (SPLIT=0)")
load average:   $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min, at the end)

                 healthz                              | predict                                     | predict/healthz
round  req/s  p99 ms  err  CPU µs/req  others    |  req/s  p99 ms  max ms  err  CPU µs/req  others |  req/s  CPU
REPORT
awk '{printf "%5d  %5.0f  %6.2f  %3d  %10.1f  %5.1f %%   |  %5.0f  %6.2f  %6.2f  %3d  %10.1f  %5.1f %% |  %.3f  %.3f\n",
  $1, $2, $3, $4, $9, 100 * $11, $5, $6, $7, $8, $10, 100 * $12, $5 / $2, $9 / $10}' "$work/rounds.txt"
stats() { # awk expression over a round's columns -> "median X, min Y, max Z"
  awk "{print $1}" "$work/rounds.txt" | sort -n | awk -v f="$2" '{v[NR] = $1} END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "median " f ", min " f ", max " f, m, v[1], v[NR] }'
}
cat <<REPORT

ratio req/s:    $(stats '$5 / $2' %.3f) (predict req/s / healthz req/s, per round: the goal's figure)
ratio CPU:      $(stats '$9 / $10' %.3f) (healthz / predict server CPU per request: the req/s ratio the server gets with its core to itself)
healthz:        $(stats '$2' %.0f) req/s; p99 $(stats '$3' %.2f) ms; CPU $(stats '$9' %.1f) µs/req
predict:        $(stats '$5' %.0f) req/s; p99 $(stats '$6' %.2f) ms; CPU $(stats '$10' %.1f) µs/req (wrk, end to end); server counted num_pred=$num_pred, incl. 3 s warm-up
others:         other processes kept the server's CPU busy $(stats '100 * ($11 + $12) / 2' %.1f) % of each round (/proc/stat less the server's own time): the machine's noise
model p99:      <= $model_p99 s (predict_latency_seconds bucket holding 99 % of predictions)
RSS (VmRSS):    start $(mb "$rss_start") MB, after warm-up $(mb "$rss_before") MB, end $(mb "$rss_after") MB, during min $(mb "$rss_min") / max $(mb "$rss_max") MB; at the end anonymous $(mb "$rss_anon") MB, file-backed $(mb "$rss_file") MB
REPORT
if [ "$split" = 1 ]; then
  echo "client:         wrk's CPU 1 per request: healthz $(stats '$13' %.1f) µs, predict $(stats '$14' %.1f) µs; busy healthz $(stats '100 * $15' %.0f) %, predict $(stats '100 * $16' %.0f) % of each round (below 100 %: wrk waited for the server)"
fi
