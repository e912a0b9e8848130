#!/usr/bin/env bash
# `make bench-train`: end-to-end training time (load data, prepare text, vectorise, fit 100 tags,
# score validation) and peak memory of the Go trainer beside scikit-learn on the same
# configurations, in one run, each measured with /usr/bin/time -v (wall clock, user+system CPU, peak
# resident memory). The Go trainer fits tags on all cores; scikit-learn's OneVsRestClassifier runs
# liblinear on one. The Go default configuration
# (`make train`) has no scikit-learn twin; it is measured alone.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
CONFIGS=${BENCH_CONFIGS:-"tfidf-l2-10 tfidf-l1-1 bow-l1-1"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" -c 'import sklearn' 2>/dev/null || { echo "bench-train: $PY cannot import sklearn; run: apt-get install -y python3-sklearn" >&2; exit 1; }
CGO_ENABLED=0 go build -trimpath -o bin/remla-train ./cmd/remla-train

REPEAT=${BENCH_REPEAT:-3}

measure() { # name, command... → median wall s, median CPU (user+sys) s, max peak RSS MB over REPEAT runs
  local name=$1; shift
  for r in $(seq "$REPEAT"); do
    /usr/bin/time -v "$@" >"$work/$name.out" 2>"$work/$name.$r.time" || { cat "$work/$name.$r.time" >&2; exit 1; }
  done
  "$PY" - "$work" "$name" "$REPEAT" <<'PYEOF'
import statistics, sys
work, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
walls, cpus, rss = [], [], []
for r in range(1, n + 1):
    f = dict(l.strip().split(': ', 1) for l in open(f'{work}/{name}.{r}.time') if ': ' in l)
    w = f['Elapsed (wall clock) time (h:mm:ss or m:ss)'].split(':')
    walls.append(sum(float(x) * 60 ** i for i, x in enumerate(reversed(w))))
    cpus.append(float(f['User time (seconds)']) + float(f['System time (seconds)']))
    rss.append(int(f['Maximum resident set size (kbytes)']) / 1024)
print(f'{statistics.median(walls):.2f} {statistics.median(cpus):.2f} {max(rss):.0f}')
PYEOF
}

echo "machine: $(nproc) cores, $(lscpu | awk -F': +' '/Model name/{print $2}'), Go $(go env GOVERSION), scikit-learn $("$PY" -c 'import sklearn; print(sklearn.__version__)'); median of $REPEAT runs each, alternating; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| configuration | Go wall s | Go CPU s | Go peak MB | scikit-learn wall s | scikit-learn CPU s | scikit-learn peak MB | Go / sklearn wall |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for c in $CONFIGS; do
  read -r gw gc gm < <(measure "go-$c" bin/remla-train train --data data --out "$work/go-$c" --config "$c")
  read -r sw sc sm < <(measure "sk-$c" "$PY" training/parity/sklearn_ref.py data "$c")
  ratio=$("$PY" -c "print(f'{$gw / $sw:.2f}')")
  echo "| $c | $gw | $gc | $gm | $sw | $sc | $sm | $ratio |"
done
read -r gw gc gm < <(measure go-default bin/remla-train train --data data --out "$work/go-default" --config default)
echo "| default (make train) | $gw | $gc | $gm | – | – | – | – |"
