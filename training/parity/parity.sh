#!/usr/bin/env bash
# `make parity`: the notebook's five configurations in scikit-learn (Debian's /usr/bin/python3
# with python3-sklearn) beside the Go trainer's reference mode, on data/train.tsv.gz → scored on
# data/validation.tsv.gz. Prints both side by side and fails if any Go score is more than 0.01
# from scikit-learn's.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
CONFIGS=${PARITY_CONFIGS:-"bow-l1-1 tfidf-l1-1 bow-l2-1 tfidf-l2-1 tfidf-l2-10"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$PY" -c 'import sklearn' 2>/dev/null || { echo "parity: $PY cannot import sklearn; run: apt-get install -y python3-sklearn" >&2; exit 1; }
echo "[parity] building bin/remla-train" >&2
CGO_ENABLED=0 go build -trimpath -o bin/remla-train ./cmd/remla-train

for c in $CONFIGS; do
  echo "[parity] Go: $c" >&2
  bin/remla-train train --data data --out "$work/$c" --config "$c" --created 2026-01-01T00:00:00Z >/dev/null 2>"$work/$c.log" \
    || { cat "$work/$c.log" >&2; exit 1; }
  bin/remla-train evaluate --model "$work/$c/latest.model" --data data/validation.tsv.gz --json | \
    "$PY" -c 'import json,sys; d=json.load(sys.stdin); d["config"]=sys.argv[1]; print(json.dumps(d))' "$c" >>"$work/go.jsonl"
done
echo "[parity] scikit-learn $("$PY" -c 'import sklearn; print(sklearn.__version__)'): $CONFIGS" >&2
# shellcheck disable=SC2086
"$PY" training/parity/sklearn_ref.py data $CONFIGS >"$work/sk.jsonl"

"$PY" - "$work/go.jsonl" "$work/sk.jsonl" <<'PYEOF'
import json, sys
go = {d['config']: d for d in map(json.loads, open(sys.argv[1]))}
sk = {d['config']: d for d in map(json.loads, open(sys.argv[2]))}
keys = ['accuracy', 'f1_weighted', 'f1_macro', 'f1_micro', 'average_precision_macro', 'roc_auc_macro']
short = {'accuracy': 'acc', 'f1_weighted': 'F1w', 'f1_macro': 'F1M', 'f1_micro': 'F1µ', 'average_precision_macro': 'AP', 'roc_auc_macro': 'AUC'}
print('| config | ' + ' | '.join(f'{short[k]} sklearn | {short[k]} Go' for k in keys) + ' | max Δ | ok |')
print('|---|' + '---:|---:|' * len(keys) + '---:|---|')
bad = 0
for c, s in sk.items():
    g = go[c]
    delta = max(abs(g[k] - s[k]) for k in keys)
    ok = abs(g['accuracy'] - s['accuracy']) <= 0.01 and abs(g['f1_weighted'] - s['f1_weighted']) <= 0.01
    bad += not ok
    print(f'| {c} | ' + ' | '.join(f'{s[k]:.4f} | {g[k]:.4f}' for k in keys) + f' | {delta:.4f} | {"yes" if ok else "NO"} |')
sys.exit(1 if bad else 0)
PYEOF
