#!/usr/bin/env bash
# The main job at toy scale on a CPU: build small train/val/test splits of the three tasks, write the
# oracle's optimal plans for the test split, score them, and print the table.
# (Later stages - perception SFT, OPCD and evaluation of the tiny model - join this script as they land.)
#
# Overrides: OUT (data/quickstart), PER_LEVEL (20), SEED (0), WORKERS (all cores), FORCE=1 rebuilds.
set -euo pipefail
cd "$(dirname "$0")"
OUT=${OUT:-data/quickstart}
PER_LEVEL=${PER_LEVEL:-20}
SEED=${SEED:-0}
WORKERS=${WORKERS:-$(nproc 2>/dev/null || echo 1)}
FORCE_FLAG=$([[ "${FORCE:-0}" == 1 ]] && echo --force || true)
echo "quickstart: OUT=$OUT PER_LEVEL=$PER_LEVEL SEED=$SEED WORKERS=$WORKERS FORCE=${FORCE:-0}"

PY=$(bash requirements/setup_env.sh eval)
MGSD="$PY -m task_envs"
for split in train val test; do
  $MGSD data generate --split "$split" --per-level "$PER_LEVEL" --seed "$SEED" --workers "$WORKERS" --out "$OUT/$split" $FORCE_FLAG
done
$MGSD oracle --data "$OUT/test" --out "$OUT/oracle_predictions.jsonl" --quiet
$MGSD score --data "$OUT/test" --predictions "$OUT/oracle_predictions.jsonl" --out "$OUT/oracle_metrics.json" --quiet
echo "quickstart: datasets in $OUT/{train,val,test}, metrics in $OUT/oracle_metrics.json"
