#!/usr/bin/env bash
# Trains card-front's own line recogniser from scratch and writes models/card-front-line.onnx:
# a venv of pinned wheels, a training set from the synthetic card generator (training
# typefaces and layouts only; set 1000, which no test or benchmark uses), the training run
# with a fixed seed, and the new model's sha256.
# Not part of setup or CI (about 25 min on a loaded 2-core machine); the model is in the
# repository.
#
#   card-front/scripts/train_line_model.sh [CARDS_A] [CARDS_B] [STEPS]
#   (defaults: as for the committed model, see models/README.md: cards 2000–2345 and
#   3000–3291, where its data-writing run was stopped for time)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/lib.sh
cards_a=${1:-346}
cards_b=${2:-292}
steps=${3:-1600}
seed=1000

venv=.cache/train-venv
if [ ! -x "$venv/bin/python" ]; then
  step "creating the training venv"
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check --require-hashes --only-binary=:all: \
  -r card-front/scripts/requirements-train.txt

step "building card-front"
cargo build -q -p card-front --bin card-front
data=.cache/card-front-lines/set$seed-$cards_a-$cards_b
if [ ! -f "$data/done" ]; then
  step "writing the lines of $cards_a + $cards_b synthetic cards (two processes)"
  rm -rf "$data"
  nice -n 10 ./target/debug/card-front dataset "$data/c" --seed $seed --start 2000 --count "$cards_a" &
  nice -n 10 ./target/debug/card-front dataset "$data/d" --seed $seed --start 3000 --count "$cards_b"
  wait
  touch "$data/done"
fi

step "training ($steps steps)"
alphabet=$(grep -o 'ALPHABET: &str = "[^"]*"' card-front/src/line_input.rs | cut -d'"' -f2)
nice -n 10 "$venv/bin/python" card-front/scripts/train_line_model.py "$data/c" "$data/d" \
  --alphabet "$alphabet" --steps "$steps" --batch 24 --digits-first 400 --report 200 --seed 1 \
  --out models/card-front-line.onnx
sha256sum models/card-front-line.onnx
echo "record this sha256 in models/checksums.sha256 and card-front/src/line_model.rs (MODEL_SHA256)"
