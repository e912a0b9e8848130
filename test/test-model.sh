#!/usr/bin/env bash
# The model the tests and the cluster benchmarks bake into their images,
# trained once per content of what makes it and cached outside the repository.
# Usage: test/test-model.sh   prints the model's directory (latest.model in it)
#                             on the last line, training it first on a miss
# The key is a SHA-256 over the training data, the sources of model/,
# training/ and cmd/remla-train (tests excluded: they do not change the
# model), go.mod, go.sum, the Go version and the preset, so a warm run that
# changed none of them does not retrain, and one that changed any does.
# REMLA_MODEL_CACHE overrides the cache directory
# (${XDG_CACHE_HOME:-$HOME/.cache}/remla/test-model); a lock in it makes a
# second caller wait for the first instead of training twice.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=default
cache=${REMLA_MODEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/remla/test-model}
log() { printf '[test-model] %s\n' "$*" >&2; }

key=$({
  printf 'preset %s\n%s\n' "$preset" "$(go env GOVERSION)"
  find data model training cmd/remla-train go.mod go.sum -type f ! -name '*_test.go' -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum
} | sha256sum | cut -c1-16)
dir=$cache/$key
if [ -f "$dir/latest.model" ]; then
  log "cached: $dir (key $key)"
  echo "$dir"
  exit
fi
mkdir -p "$cache"
exec 9>"$cache/train.lock"
flock 9
if [ ! -f "$dir/latest.model" ]; then
  log "training the test model (key $key): about 2 minutes"
  start=$SECONDS
  tmp=$(mktemp -d "$cache/train.XXXXXX") # same file system, so the mv below is atomic
  bin=$tmp/remla-train
  CGO_ENABLED=0 go build -trimpath -ldflags "-X github.com/remla/tagger/model.CodeVersion=test-model-$key" -o "$bin" ./cmd/remla-train
  "$bin" train --config "$preset" --data data --out "$tmp/model" </dev/null >&2
  rm -f "$bin"
  mv "$tmp/model" "$dir"
  rmdir "$tmp"
  log "trained in $((SECONDS - start))s: $dir"
  # Keep the newest few: a key per content, so old ones are never used again.
  ls -1dt "$cache"/*/ 2>/dev/null | tail -n +6 | xargs -r rm -rf
fi
echo "$dir"
