#!/usr/bin/env bash
# Side-by-side prediction benchmarks of two builds of the model package on the
# same model: the test binaries (`go test -c -o X ./model`) run in alternating
# short rounds, so that both see the same load on a shared machine, and the
# median over the rounds of each benchmark's figure is printed per binary.
# Usage: model/bench/bench-compare.sh OLD.test NEW.test
# Settings (environment): REMLA_TEST_MODEL (the model, as for go test), ROUNDS
# (10), BENCHTIME (0.5s per benchmark and round), BENCH (the -test.bench
# pattern, 'Predict|Vectorize|PrepareText'), CPU (pin with taskset -c CPU; empty: no pin).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OLD.test NEW.test ..." >&2; exit 2; }
bins=()
for b in "$@"; do bins+=("$(realpath "$b")"); done
cd "$(dirname "$0")/.." # the benchmarks read ../data
rounds=${ROUNDS:-10}
pin=()
[ -z "${CPU:-}" ] || pin=(taskset -c "$CPU")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
  for b in "${bins[@]}"; do
    ${pin[@]+"${pin[@]}"} "$b" -test.run '^$' -test.bench "${BENCH:-Predict|Vectorize|PrepareText}" -test.benchmem \
      -test.benchtime "${BENCHTIME:-0.5s}" | awk -v bin="$(basename "$b")" -v r="$r" '/^Benchmark/ {
        for (i = 3; i < NF; i += 2) print bin, $1, $(i + 1), $i, r }' >>"$out"
  done
done
# One line per binary, benchmark and unit: median (min-max) over the rounds.
sort -k1,1 -k2,2 -k3,3 -k4,4g "$out" | awk '
  function flush() { if (n) printf "%-16s %-26s %-10s median %10.1f  (%.1f-%.1f, %d rounds)\n", key[1], key[2], key[3], v[int((n + 1) / 2)], v[1], v[n], n }
  { k = $1 " " $2 " " $3; if (k != last) { flush(); n = 0; last = k; split(k, key, " ") } v[++n] = $4 }
  END { flush() }' | sort -k2,2 -k3,3 -s
