#!/usr/bin/env bash
# OPCD data: generate (or reuse) train/val dataset folders and export them as verl RL parquet files.
#
#   bash EasyR1/prepare_opcd_data.sh                        # upstream's levels and mix
#   TRAIN_DIRS="data/my_train data/vsp_train" bash EasyR1/prepare_opcd_data.sh
#
# Environment overrides (defaults in brackets):
#   OUT_DIR          where train.parquet and val.parquet go [data/opcd]
#   TRAIN_DIRS       dataset folders for training, space-separated [OUT_DIR/raw/train, generated if missing]
#   VAL_DIRS         dataset folders for validation [OUT_DIR/raw/val, generated if missing]
#   DATA_SIZE        recipe | upstream [recipe]: the train size per task and level, 500 (recipe) or 750 (upstream,
#                    inferred from its run name: >= 1,400 steps of batch 32 over 5 epochs = >= 8,960 rows over
#                    12 task levels); sets PER_LEVEL and, for upstream, TRAIN_PER_LEVEL_CAP (README "Data sizes")
#   PER_LEVEL        cases per task and level when generating train [DATA_SIZE's]; VAL_PER_LEVEL for val [20]
#   LEVELS           levels when generating, mgsd syntax, e.g. "maze=3-6" (repeat with ;) [upstream's:
#                    FrozenLake 3-8, Maze 3-6, MiniBehaviour 5-6]
#   SEED             generation seed [0]
#   TRAIN_PER_LEVEL_CAP  at most this many train cases per task and level in the export [all]
#   TASK_WEIGHTS     repeat factors, e.g. minibehaviour=3,maze=2 [1 each: upstream's 6:4:2 mix by levels]
#   TEACHER_REFERENCE_PLAN  1 puts the optimal plan into the teacher context [1]
#   FORCE            1 rebuilds the generated folders [0] (the parquet files are always rewritten)
#   MGSD_EVAL_PYTHON python of your own environment instead of .venvs/eval
#   PROMPT_DIR       prompt texts <role>_<task>.txt (or upstream MGSD's file names) replacing the package's
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
OUT_DIR=${OUT_DIR:-data/opcd}
TRAIN_DIRS=${TRAIN_DIRS:-$OUT_DIR/raw/train}
VAL_DIRS=${VAL_DIRS:-$OUT_DIR/raw/val}
case "${DATA_SIZE:=recipe}" in
  recipe) PER_LEVEL=${PER_LEVEL:-500} ;;
  upstream) PER_LEVEL=${PER_LEVEL:-750}; TRAIN_PER_LEVEL_CAP=${TRAIN_PER_LEVEL_CAP:-750} ;;
  *) echo "error: DATA_SIZE must be recipe or upstream, got '$DATA_SIZE'" >&2; exit 2 ;;
esac
VAL_PER_LEVEL=${VAL_PER_LEVEL:-20}; SEED=${SEED:-0}
TEACHER_REFERENCE_PLAN=${TEACHER_REFERENCE_PLAN:-1}; FORCE=${FORCE:-0}
echo "OPCD data: DATA_SIZE=$DATA_SIZE OUT_DIR=$OUT_DIR TRAIN_DIRS=$TRAIN_DIRS VAL_DIRS=$VAL_DIRS PER_LEVEL=$PER_LEVEL VAL_PER_LEVEL=$VAL_PER_LEVEL" >&2
echo "  LEVELS=${LEVELS:-default} SEED=$SEED TASK_WEIGHTS=${TASK_WEIGHTS:-} TRAIN_PER_LEVEL_CAP=${TRAIN_PER_LEVEL_CAP:-all} TEACHER_REFERENCE_PLAN=$TEACHER_REFERENCE_PLAN" >&2

PY=${MGSD_EVAL_PYTHON:-$(bash requirements/setup_env.sh eval)}
mgsd() { "$(dirname "$PY")/mgsd" "$@"; }
force=$([[ "$FORCE" == 1 ]] && echo --force || true)
level_args=()
IFS=';' read -ra level_specs <<< "${LEVELS:-}"
for spec in "${level_specs[@]}"; do [[ -n "$spec" ]] && level_args+=(--levels "$spec"); done

# Generate the default folders when they are missing (a rerun with the same spec reuses them).
build() {  # build SPLIT PER_LEVEL DIR
  if [[ "$3" == "$OUT_DIR/raw/$1" ]]; then
    mgsd data generate --split "$1" --per-level "$2" --seed "$SEED" "${level_args[@]}" --out "$3" $force
  elif [[ ! -f "$3/manifest.json" ]]; then
    echo "error: $3 is not a dataset folder (no manifest.json)" >&2; exit 2
  fi
}
data_args() { local out=(); for d in $1; do out+=(--data "$d"); done; echo "${out[@]}"; }
for d in $TRAIN_DIRS; do build train "$PER_LEVEL" "$d"; done
for d in $VAL_DIRS; do build val "$VAL_PER_LEVEL" "$d"; done

# The export is cheap and always redone, so the parquet files follow the folders and settings given.
plan=$([[ "$TEACHER_REFERENCE_PLAN" == 1 ]] || echo --no-reference-plan)
mgsd data export verl $(data_args "$TRAIN_DIRS") --out "$OUT_DIR/train.parquet" $plan --force --quiet \
  ${TRAIN_PER_LEVEL_CAP:+--per-level "$TRAIN_PER_LEVEL_CAP"} ${TASK_WEIGHTS:+--task-weights "$TASK_WEIGHTS"}
mgsd data export verl $(data_args "$VAL_DIRS") --out "$OUT_DIR/val.parquet" $plan --force --quiet
echo "OPCD data ready: $OUT_DIR/train.parquet $OUT_DIR/val.parquet" >&2
