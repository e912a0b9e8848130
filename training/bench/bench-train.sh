#!/usr/bin/env bash
# `make bench-train`: end-to-end training time (load data, prepare text, vectorise, fit 100 tags,
# score validation) and peak memory of the Go trainer beside scikit-learn on the same
# configurations, in one run, each measured with /usr/bin/time -v. The Go default configuration
# (`make train`) has no scikit-learn twin; it is measured alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
CONFIGS=${BENCH_CONFIGS:-"tfidf-l2-10 tfidf-l1-1 bow-l1-1"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" -c 'import sklearn' 2>/dev/null || { echo "bench-train: $PY cannot import sklearn; run: apt-get install -y python3-sklearn" >&2; exit 1; }
CGO_ENABLED=0 go build -trimpath -o bin/remla-train ./cmd/remla-train

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -v "$@" >"$work/$name.out" 2>"$work/$name.time" || { cat "$work/$name.time" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/{print $2}' "$work/$name.time")
  rss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$work/$name.time")
  "$PY" -c 'import sys
w = sys.argv[1].split(":"); s = sum(float(x) * 60 ** i for i, x in enumerate(reversed(w)))
print(f"{s:.2f} {int(sys.argv[2]) / 1024:.0f}")' "$wall" "$rss"
}

echo "machine: $(nproc) cores, $(lscpu | awk -F': +' '/Model name/{print $2}'), Go $(go env GOVERSION), scikit-learn $("$PY" -c 'import sklearn; print(sklearn.__version__)')"
echo
echo "| configuration | Go wall s | Go peak MB | scikit-learn wall s | scikit-learn peak MB | Go / sklearn time |"
echo "|---|---:|---:|---:|---:|---:|"
for c in $CONFIGS; do
  read -r gs gm < <(measure "go-$c" bin/remla-train train -data data -out "$work/go-$c" -config "$c")
  read -r ss sm < <(measure "sk-$c" "$PY" training/parity/sklearn_ref.py data "$c")
  ratio=$("$PY" -c "print(f'{$gs / $ss:.2f}')")
  echo "| $c | $gs | $gm | $ss | $sm | $ratio |"
done
read -r gs gm < <(measure go-default bin/remla-train train -data data -out "$work/go-default" -config default)
echo "| default (make train) | $gs | $gm | – | – | – |"
