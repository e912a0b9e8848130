#!/usr/bin/env bash
# The feedback store under load, as `make bench-serve` runs it after
# bench-serve.sh: the same remla-app binary and model with the SQLite store
# and with a PostgreSQL store, side by side in one run.
#   1. predict: wrk POST /api/v1/predict (predict.lua) in alternating rounds
#      (sqlite, postgres, sqlite, ...), req/s and p99 of each round, then the
#      median per store and the ratio. Predictions never touch the store (the
#      id is signed, not stored), so the ratio should be 1 within the noise.
#      BASELINE=<git ref> adds that ref's remla-app to the rounds (built from
#      git archive), e.g. BASELINE=02e975a, the in-memory predictions before
#      the signed ids, for "within 10% of today's".
#   2. feedback: ids from predict-ids.lua, then wrk POST /api/v1/feedback
#      (feedback.lua, every request a new answer, 201) at 16 connections for
#      each store: writes/s and latency. Both stores commit durably: SQLite
#      with synchronous=FULL, PostgreSQL with its default synchronous_commit.
# PostgreSQL is Debian's (test/deps.sh installs it), initdb'd into
# .run/bench-store and stopped at the end; it listens on a Unix socket only.
#
# Settings (environment): MODEL (default models/latest.model, else trained
# into .run/bench-model), DURATION (10s per round), ROUNDS (3),
# FEEDBACK_DURATION (10s), CONNECTIONS (16), SPLIT (1 with 2 or more cores:
# the servers on CPU 0 with GOMAXPROCS=1, wrk and PostgreSQL on CPU 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
duration=${DURATION:-10s}
rounds=${ROUNDS:-3}
fb_duration=${FEEDBACK_DURATION:-10s}
connections=${CONNECTIONS:-16}
split=${SPLIT:-$([ "$(nproc)" -ge 2 ] && echo 1 || echo 0)}
server_pin=() load_pin=()
if [ "$split" = 1 ]; then
  command -v taskset >/dev/null || { echo "SPLIT=1 needs taskset (util-linux); or run with SPLIT=0" >&2; exit 1; }
  server_pin=(env GOMAXPROCS=1 taskset -c 0) load_pin=(taskset -c 1)
fi
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk (make bench-serve does)" >&2; exit 1; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/postgres" ] || { echo "PostgreSQL is not installed: apt-get install postgresql-15 (test/deps.sh does)" >&2; exit 1; }

work=$root/.run/bench-store
rm -rf "$work"
mkdir -p "$work"
make --no-print-directory build >/dev/null
model=${MODEL:-models/latest.model}
if [ ! -f "$model" ]; then
  model=$root/.run/bench-model/latest.model
  [ -f "$model" ] || bin/remla-train train --data data --out "$root/.run/bench-model" >/dev/null
fi

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# PostgreSQL refuses to run as root: run it as the postgres user then.
pgdir=$(mktemp -d /tmp/remla-bench-pg-XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$pgdir"
  as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -U remla -A trust -E UTF8 --locale C >/dev/null
${load_pin[@]+"${load_pin[@]}"} "${as_pg[@]}" "$pgbin/postgres" -D "$pgdir/data" -c listen_addresses= \
  -c unix_socket_directories="$pgdir" -c port=5432 -c max_connections=50 >"$work/postgres.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do "$pgbin/pg_isready" -q -h "$pgdir" -p 5432 && break; sleep 0.1; done
"$pgbin/pg_isready" -q -h "$pgdir" -p 5432 || { cat "$work/postgres.log" >&2; exit 1; }
"$pgbin/psql" -X -q -h "$pgdir" -p 5432 -U remla -d postgres -c 'CREATE DATABASE remla'
dsn="host=$pgdir port=5432 user=remla dbname=remla sslmode=disable"
trap 'cleanup; rm -rf "$pgdir"' EXIT

head -c 32 /dev/urandom | base64 >"$work/signing.key"
declare -A port=([sqlite]=18291 [postgres]=18292 [baseline]=18293)
start() { # name, binary, store flags...
  local name=$1 binary=$2; shift 2
  ${server_pin[@]+"${server_pin[@]}"} "$binary" -model "$model" -addr "127.0.0.1:${port[$name]}" -color blue \
    -signing-key-file "$work/signing.key" -log-format json "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:${port[$name]}/readyz" >/dev/null 2>&1 && return; sleep 0.1; done
  cat "$work/$name.log" >&2
  exit 1
}
start sqlite bin/remla-app -feedback-db "$work/feedback.db"
start postgres bin/remla-app -feedback-dsn "$dsn"
stores=(sqlite postgres)
if [ -n "${BASELINE:-}" ]; then
  src=$(mktemp -d)
  git archive "$BASELINE" | tar -x -C "$src"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$work/remla-app-baseline" ./cmd/remla-app)
  rm -rf "$src"
  # The baseline may predate -signing-key-file and -feedback-dsn.
  ${server_pin[@]+"${server_pin[@]}"} "$work/remla-app-baseline" -model "$model" -addr "127.0.0.1:${port[baseline]}" -color blue \
    -feedback-db "$work/baseline.db" -log-format json >"$work/baseline.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:${port[baseline]}/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  stores+=(baseline)
fi

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
bench() { # name, script, duration, path -> the BENCH line
  ${load_pin[@]+"${load_pin[@]}"} wrk -t1 -c"$connections" -d"$3" --latency -s "app/bench/$2" \
    "http://127.0.0.1:${port[$1]}$4" | grep '^BENCH '
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

for s in "${stores[@]}"; do bench "$s" predict.lua 3s /api/v1/predict >/dev/null; done # warm up
declare -A rps p99
echo "== predict rounds ($rounds x $duration each, alternating) =="
for r in $(seq "$rounds"); do
  for s in "${stores[@]}"; do
    line=$(bench "$s" predict.lua "$duration" /api/v1/predict)
    rps[$s]+="$(field "$line" rps) " p99[$s]+="$(field "$line" p99_ms) "
    printf 'round %d %-9s %9s req/s  p99 %7s ms  non-2xx %s\n' "$r" "$s" "$(field "$line" rps)" "$(field "$line" p99_ms)" "$(field "$line" errors_status)"
  done
done

echo "== feedback writes ($connections connections, $fb_duration each) =="
IDS=$work/ids.txt ${load_pin[@]+"${load_pin[@]}"} wrk -t1 -c"$connections" -d8s -s app/bench/predict-ids.lua \
  "http://127.0.0.1:${port[sqlite]}/api/v1/predict" >/dev/null
echo "prediction ids to answer: $(wc -l <"$work/ids.txt")"
declare -A fb
for s in sqlite postgres; do
  fb[$s]=$(IDS=$work/ids.txt bench "$s" feedback.lua "$fb_duration" /api/v1/feedback)
done

echo
echo "== bench-store: SQLite beside PostgreSQL, one run =="
echo "machine:   $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cpus:      $([ "$split" = 1 ] && echo "servers on CPU 0 (GOMAXPROCS=1), wrk and PostgreSQL on CPU 1" || echo "everything shares every core (SPLIT=0)")"
echo "model:     $model"
printf '%-22s %12s %12s\n' "predict, median of $rounds" "req/s" "p99 ms"
for s in "${stores[@]}"; do
  printf '%-22s %12s %12s\n' "$s" "$(tr ' ' '\n' <<<"${rps[$s]}" | grep . | median)" "$(tr ' ' '\n' <<<"${p99[$s]}" | grep . | median)"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
sq=$(tr ' ' '\n' <<<"${rps[sqlite]}" | grep . | median) pg=$(tr ' ' '\n' <<<"${rps[postgres]}" | grep . | median)
echo "postgres / sqlite predict throughput: $(ratio "$pg" "$sq")"
if [ -n "${BASELINE:-}" ]; then
  bl=$(tr ' ' '\n' <<<"${rps[baseline]}" | grep . | median)
  echo "sqlite / baseline ($BASELINE) predict throughput: $(ratio "$sq" "$bl")"
fi
printf '%-22s %12s %10s %10s %10s\n' "feedback writes" "writes/s" "p50 ms" "p99 ms" "non-2xx"
for s in sqlite postgres; do
  l=${fb[$s]}
  printf '%-22s %12s %10s %10s %10s\n' "$s" "$(field "$l" rps)" "$(field "$l" p50_ms)" "$(field "$l" p99_ms)" "$(field "$l" errors_status)"
done
