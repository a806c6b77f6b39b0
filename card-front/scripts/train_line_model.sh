#!/usr/bin/env bash
# Trains card-front's line recogniser from scratch and writes models/card-front-line.onnx:
# a venv of pinned wheels, a training set from the synthetic card generator (set 1000, which no
# test or benchmark uses), the training run with fixed seeds, and the new model's sha256.
# Not part of setup or CI (about 30 min on 2 cores); the model it made is in the repository.
#
#   card-front/scripts/train_line_model.sh [CARDS] [STEPS]     (defaults: 2400 cards, 4000 steps + 600 frozen; as for the committed model)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/lib.sh
cards=${1:-2400}
steps=${2:-4000}
seed=1000

venv=.cache/train-venv
if [ ! -x "$venv/bin/python" ]; then
  step "creating the training venv"
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check --require-hashes --only-binary=:all: \
  -r card-front/scripts/requirements-train.txt

step "building card-front"
cargo build -q --release -p card-front
data=.cache/card-front-lines/set$seed-$cards
if [ ! -f "$data/done" ]; then
  step "writing the lines of $cards synthetic cards (two processes)"
  rm -rf "$data"
  half=$((cards / 2))
  ./target/release/card-front dataset "$data/a" --seed $seed --start 0 --count $half &
  ./target/release/card-front dataset "$data/b" --seed $seed --start $half --count $((cards - half))
  wait
  touch "$data/done"
fi

step "training ($steps steps)"
alphabet=$(grep -o 'ALPHABET: &str = "[^"]*"' card-front/src/line_input.rs | cut -d'"' -f2)
"$venv/bin/python" card-front/scripts/train_line_model.py "$data/a" "$data/b" \
  --alphabet "$alphabet" --steps "$steps" --seed 1 --out models/card-front-line.onnx
sha256sum models/card-front-line.onnx
echo "record this sha256 in models/checksums.sha256 and card-front/src/line_model.rs (MODEL_SHA256)"
