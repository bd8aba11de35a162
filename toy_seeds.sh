#!/usr/bin/env bash
# The toy experiment over seeds: toy.sh once per seed (seed 0 in data/toy, models/toy, runs/toy; seed N in
# data/toyN, models/toyN, runs/toyN), then the table over seeds (mgsd_eval.toy_seeds) in runs/toy_seeds/.
#
#   make toy-seeds               # SEEDS="0 1 2": about 36 minutes per seed on 2 CPU cores; finished stages are reused
#   PUBLISH=1 make toy-seeds     # also rewrite README.md's toy sections (seed 0's table and the one over seeds)
# Every other toy.sh knob passes through and applies to every seed.
set -euo pipefail
cd "$(dirname "$0")"
SEEDS=${SEEDS:-0 1 2}
for seed in $SEEDS; do
  [[ "$seed" =~ ^[0-9]+$ ]] || { echo "error: SEEDS must be non-negative integers, got '$seed'" >&2; exit 2; }
done
roots=()
for seed in $SEEDS; do
  suffix=$([[ "$seed" == 0 ]] || echo "$seed")
  SEED=$seed OUT=data/toy$suffix RUNS=runs/toy$suffix MODELS_DIR=models/toy$suffix \
    PUBLISH=$([[ "$seed" == 0 ]] && echo "${PUBLISH:-}" || true) bash toy.sh
  roots+=("runs/toy$suffix")
done
EVAL_PY=$(bash requirements/setup_env.sh eval)
"$EVAL_PY" -m mgsd_eval.toy_seeds "${roots[@]}" --out runs/toy_seeds ${PUBLISH:+--readme README.md}
