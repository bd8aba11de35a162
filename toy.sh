#!/usr/bin/env bash
# Toy-scale MGSD on a CPU: the method's effect in miniature, through the same launchers a GPU user runs.
#   data (FrozenLake 3-4, Maze 3-4, MiniBehaviour 4-5) -> a toy Qwen3-VL (~1.3M parameters, built locally) made a
#   TEXT planner by full fine-tuning on the symbolic-plan export (symbolic state -> optimal plan; it never sees an
#   image: the stand-in for a pretrained Instruct model) -> base evaluation (planning from the image vs from the
#   symbolic state: the modality gap; perception) -> perception SFT (LLaMA-Factory; full fine-tuning with the text
#   plan records replayed, see LlamaFactory/configs/toy_perception_full.yaml for why) -> OPCD from the SFT model
#   with the toy base as the frozen text teacher (verl's trainer on its CPU backend; TRAINER=single for the
#   single-process trainer) + merge ->
#   ablations: OPCD from the base (no perception SFT), plan SFT on images from the SFT model with as many samples as OPCD rolled out ->
#   every model served by evaluate/serve_vllm.sh (vLLM's CPU build) and evaluated on the test split (greedy) ->
#   runs/toy/report/ (toy.md with the toy table, summary.json, plots, training curves, mgsd report's report).
#
#   make toy                 # about 35 minutes on 2 CPU cores with the environments in place (measured: see the report)
#   SEED=1 RUNS=runs/toy1 OUT=data/toy1 MODELS_DIR=models/toy1 make toy   # another seed
#   make toy-seeds           # seeds 0 1 2 this way, then the table over seeds (toy_seeds.sh)
#
# Overrides (defaults in brackets):
#   SEED           data generation and every training seed [0]
#   OUT, RUNS, MODELS_DIR   data, evaluation runs + logs + report, models [data/toy, runs/toy, models/toy]
#   TRAIN_PER_LEVEL   train cases per task and level [600; MiniBehaviour 4 at most 200: its train split holds
#                     ~270 instances]; VAL_PER_LEVEL [20]; TEST_PER_LEVEL [40; MiniBehaviour 4: 20, all its test
#                     split has at that difficulty mix]
#   TEXT_SFT_OVERRIDES  LLaMA-Factory overrides of the toy base's text SFT (configs/toy_symbolic_plan_full.yaml) [none]
#   SFT_OVERRIDES  overrides of the perception SFT (configs/toy_perception_full.yaml: full fine-tuning; why there) [none]
#   OPCD_STEPS [48]  OPCD_BATCH [16]  OPCD_LR [1e-4]: both OPCD runs; OPCD_OVERRIDES replaces the settings built from them
#   TRAINER        OPCD trainer: verl | single [verl]
#   EVAL_MAX_TOKENS  [256]
#   TOY_SERVER     vllm (evaluate/serve_vllm.sh) | llamafactory (evaluate/serve_llamafactory.sh) [vllm]
#   FORCE=1        redo every stage; a plain rerun reuses a finished stage only when it ran with the same settings
#                  (config files by content) after the same runs of the stages it reads; otherwise it redoes it
#   PUBLISH=1      also copy the report into evaluate/toy_report/ and rewrite README.md's toy-results section
# Every stage logs to RUNS/logs/<stage>.log; the report is RUNS/report/report.md.
set -euo pipefail
cd "$(dirname "$0")"
SEED=${SEED:-0}
OUT=${OUT:-data/toy}
RUNS=${RUNS:-runs/toy}
MODELS=${MODELS_DIR:-models/toy}
LOGS=$RUNS/logs
FORCE=${FORCE:-0}
TRAIN_PER_LEVEL=${TRAIN_PER_LEVEL:-600}; VAL_PER_LEVEL=${VAL_PER_LEVEL:-20}; TEST_PER_LEVEL=${TEST_PER_LEVEL:-40}
MB4_TRAIN=$(( TRAIN_PER_LEVEL < 200 ? TRAIN_PER_LEVEL : 200 )); MB4_TEST=$(( TEST_PER_LEVEL < 20 ? TEST_PER_LEVEL : 20 ))
LEVELS=(--levels frozenlake=3,4 --levels maze=3,4 --levels minibehaviour=4,5)
TOY_MODEL=models/toy-qwen3-vl
TEXT_SFT_OVERRIDES=${TEXT_SFT_OVERRIDES:-}
SFT_OVERRIDES=${SFT_OVERRIDES:-}
OPCD_STEPS=${OPCD_STEPS:-48}; OPCD_BATCH=${OPCD_BATCH:-16}; OPCD_LR=${OPCD_LR:-1e-4}
TRAINER=${TRAINER:-verl}
case "$TRAINER" in
  verl) OPCD_OVERRIDES=${OPCD_OVERRIDES:-"trainer.total_training_steps=$OPCD_STEPS data.train_batch_size=$OPCD_BATCH actor_rollout_ref.actor.ppo_mini_batch_size=$OPCD_BATCH actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=$OPCD_BATCH actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=$OPCD_BATCH actor_rollout_ref.actor.optim.lr=$OPCD_LR trainer.test_freq=$OPCD_STEPS trainer.save_freq=$OPCD_STEPS data.seed=$SEED"} ;;
  single) OPCD_OVERRIDES=${OPCD_OVERRIDES:-"max_steps=$OPCD_STEPS batch_size=$OPCD_BATCH micro_batch_size=$OPCD_BATCH lr=$OPCD_LR val_batch_size=40 val_freq=$OPCD_STEPS save_freq=$OPCD_STEPS seed=$SEED"} ;;
  *) echo "error: TRAINER must be verl or single, got '$TRAINER'" >&2; exit 2 ;;
esac
EVAL_MAX_TOKENS=${EVAL_MAX_TOKENS:-256}
TOY_SERVER=${TOY_SERVER:-vllm}
case "$TOY_SERVER" in vllm|llamafactory) ;; *) echo "error: TOY_SERVER must be vllm or llamafactory, got '$TOY_SERVER'" >&2; exit 2 ;; esac
mkdir -p "$LOGS"
t0=$(date +%s)
echo "toy: SEED=$SEED OUT=$OUT RUNS=$RUNS MODELS=$MODELS TRAINER=$TRAINER TOY_SERVER=$TOY_SERVER FORCE=$FORCE"

source requirements/stages.sh  # stage NAME DEPS SETTINGS DONE_TEST COMMAND...: see there

EVAL_PY=$(bash requirements/setup_env.sh eval)
SFT_PY=$(bash requirements/setup_env.sh sft)
MGSD="$(dirname "$EVAL_PY")/mgsd"
# Plan SFT sees as many image-plan samples as OPCD rolls out (steps x batch), once each.
PLAN_SAMPLES=$(( OPCD_STEPS * OPCD_BATCH ))
PLAN_PER_LEVEL=$(( (PLAN_SAMPLES + 5) / 6 ))

# 1. data: train (two folders: MiniBehaviour 4 has few instances), val, test; the exports of every stage
data() {
  local g=("$MGSD" data generate --seed "$SEED" --quiet --force)
  "${g[@]}" --split train --per-level "$TRAIN_PER_LEVEL" --tasks frozenlake,maze,minibehaviour \
    --levels frozenlake=3,4 --levels maze=3,4 --levels minibehaviour=5 --out "$OUT/train"
  "${g[@]}" --split train --per-level "$MB4_TRAIN" --tasks minibehaviour --levels minibehaviour=4 --out "$OUT/train_mb4"
  "${g[@]}" --split val --per-level "$VAL_PER_LEVEL" "${LEVELS[@]}" --out "$OUT/val"
  "${g[@]}" --split test --per-level "$TEST_PER_LEVEL" --tasks frozenlake,maze,minibehaviour \
    --levels frozenlake=3,4 --levels maze=3,4 --levels minibehaviour=5 --out "$OUT/test"
  "${g[@]}" --split test --per-level "$MB4_TEST" --tasks minibehaviour --levels minibehaviour=4 --out "$OUT/test_mb4"
  local train=(--data "$OUT/train" --data "$OUT/train_mb4")
  "$MGSD" data export llamafactory "${train[@]}" --kind symbolic-plan --out "$OUT/sft_symbolic_plan" --force
  "$MGSD" data export llamafactory "${train[@]}" --kind perception --out "$OUT/sft_perception" --force
  "$MGSD" data export llamafactory "${train[@]}" --kind plan --per-level "$PLAN_PER_LEVEL" --out "$OUT/sft_plan" --force
  TRAIN_DIRS="$OUT/train $OUT/train_mb4" VAL_DIRS=$OUT/val OUT_DIR=$OUT/opcd SEED=$SEED bash EasyR1/prepare_opcd_data.sh
  # The toy's perception SFT replays the text-only plan records (why: LlamaFactory/configs/toy_perception_full.yaml):
  # the perception folder's dataset_info.json also names the symbolic-plan file, so that one run reads both.
  "$EVAL_PY" - "$OUT/sft_perception/dataset_info.json" "$OUT/sft_symbolic_plan/dataset_info.json" <<'PY'
import json, sys
from task_envs.io_utils import atomic_write_json
info, extra = (json.load(open(p)) for p in sys.argv[1:])
for name, entry in extra.items():
    info[name] = {**entry, "file_name": "../sft_symbolic_plan/" + entry["file_name"]}
atomic_write_json(sys.argv[1], info)
PY
}
stage data "" "$SEED $TRAIN_PER_LEVEL $VAL_PER_LEVEL $TEST_PER_LEVEL" \
  "[[ -f $OUT/opcd/val.parquet ]] && grep -q mgsd_symbolic_plan $OUT/sft_perception/dataset_info.json" data

# 2. the toy model (random weights, its own tokenizer); redone when tiny_model.py changes, which rebuilds the folder
# only when its recipe did (mgsd_tiny.json, which the base reads: the later stages follow the recipe, not the file)
stage toy_model "" LlamaFactory/mgsd_sft/tiny_model.py "[[ -f $TOY_MODEL/mgsd_tiny.json ]]" \
  "$SFT_PY" -m mgsd_sft.tiny_model --recipe toy --out "$TOY_MODEL"

# LLaMA-Factory through the perception-SFT launcher (MODEL_SIZE=4b picks nothing but names; CONFIG and DATASET
# choose the recipe and the export). RESUME=0: a stage that runs starts over.
lf_train() {  # CONFIG MODEL DATA_DIR DATASET OUTPUT_DIR OVERRIDES
  CONFIG=$1 MODEL_SIZE=4b MODEL_PATH=$2 DATA_DIR=$3 DATASET=$4 OUTPUT_DIR=$5 RESUME=0 USE_CPU=${USE_CPU:-} \
    SFT_OVERRIDES="$6 seed=$SEED data_seed=$SEED" bash LlamaFactory/train_perception_sft.sh
}
# Full fine-tuning into a complete model folder (written beside EXPORT, moved there when verified).
full_sft() {  # CONFIG MODEL DATA_DIR DATASET EXPORT OVERRIDES
  rm -rf "$5.training" "$5"
  lf_train "$1" "$2" "$3" "$4" "$5.training" "$6"
  "$SFT_PY" -m mgsd_sft.checkpoint complete --base "$2" --merged "$5.training"
  "$SFT_PY" -m mgsd_sft.checkpoint verify "$5.training"
  mv "$5.training" "$5"
}

# 3. the toy base: text-only planning SFT (full fine-tuning, the loss on prompt and plan)
text_config=LlamaFactory/configs/toy_symbolic_plan_full.yaml
stage base data "$TOY_MODEL/mgsd_tiny.json $text_config $TEXT_SFT_OVERRIDES $SEED" \
  "[[ -f $MODELS/base/config.json ]]" full_sft $text_config "$TOY_MODEL" \
  "$OUT/sft_symbolic_plan" mgsd_symbolic_plan "$MODELS/base" "$TEXT_SFT_OVERRIDES"

# Evaluation: serve one model (evaluate/serve_vllm.sh, vLLM's CPU build here; TOY_SERVER=llamafactory for
# evaluate/serve_llamafactory.sh), run evaluate/run_ckpt_eval.sh on the test split (greedy) into a fresh
# RUNS/LABEL (or resuming an interrupted evaluation of the same model and settings), stop the server.
serve_and_eval() {  # LABEL MODEL_PATH PORT PIPELINES
  local label=$1 model=$2 port=$3 pipelines=$4 server urls_file="$LOGS/vllm_$1/base_urls.txt" urls=
  [[ "$STAGE_RESUME" == 1 ]] || rm -rf "$RUNS/$label"
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "error: port $port is already in use (a server left over?); free it or set TOY_PORT" >&2; return 1
  fi
  if [[ "$TOY_SERVER" == vllm ]]; then
    MODEL_PATH=$model SERVED_NAME=$label BASE_PORT=$port LOG_DIR=$LOGS/vllm_$label URLS_FILE=$urls_file \
      MAX_MODEL_LEN=2048 bash evaluate/serve_vllm.sh &
  else
    MODEL_PATH=$model SERVED_NAME=$label PORT=$port MAX_NEW_TOKENS=$EVAL_MAX_TOKENS bash evaluate/serve_llamafactory.sh &
  fi
  server=$!
  trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' RETURN
  for _ in $(seq 1 900); do
    if [[ "$TOY_SERVER" == vllm ]]; then [[ ! -s "$urls_file" ]] || urls=$(cat "$urls_file")
    elif curl -sf "http://127.0.0.1:$port/v1/models" > /dev/null 2>&1; then urls="http://127.0.0.1:$port/v1"; fi
    [[ -z "$urls" ]] || break
    kill -0 $server 2>/dev/null || { echo "server for $label exited" >&2; return 1; }
    sleep 1
  done
  [[ -n "$urls" ]] || { echo "server for $label did not come up in 900 s" >&2; return 1; }
  BASE_URLS=$([[ "$TOY_SERVER" == vllm ]] || echo "$urls") BASE_URLS_FILE=$urls_file PIPELINES="$pipelines" \
    DATA_DIRS="$OUT/test $OUT/test_mb4" LABEL=$label OUT_DIR=$RUNS/$label MAX_TOKENS=$EVAL_MAX_TOKENS \
    CONCURRENCY=16 TEMPERATURE=0.0 EVAL_ARGS="--seed $SEED" MGSD_EVAL_PYTHON=$EVAL_PY bash evaluate/run_ckpt_eval.sh
}
port=${TOY_PORT:-8865}
evaluate() {  # LABEL MODEL_PATH PIPELINES MODEL_STAGE
  stage "eval_$1" "data $4" "$3 $EVAL_MAX_TOKENS $TOY_SERVER $SEED" "[[ -f $RUNS/$1/report/report.md ]]" \
    serve_and_eval "$1" "$2" "$port" "$3"
  port=$(( port + 10 ))
}

# 4. the base: planning from the image and from the symbolic state (the modality gap), perception
evaluate base "$MODELS/base" "modality-gap perception" base

# 5. perception SFT (full fine-tuning: the toy's vision tower is random and LoRA does not learn it; see the config)
perception_config=LlamaFactory/configs/toy_perception_full.yaml
stage sft "data base" "$perception_config $SFT_OVERRIDES $SEED" \
  "[[ -f $MODELS/sft/config.json ]]" full_sft "$perception_config" "$MODELS/base" "$OUT/sft_perception" \
  mgsd_perception,mgsd_symbolic_plan "$MODELS/sft" "$SFT_OVERRIDES"
evaluate perception_sft "$MODELS/sft" "planning perception" sft

# 6. OPCD: student = the perception-SFT model (and, as an ablation, the base), teacher = the toy base
opcd() {  # STUDENT RUN_DIR EXPORT_DIR NAME
  rm -rf "$2" "$3"
  [[ -z "$TRAINER" ]] || export TRAINER
  MODEL_SIZE=tiny MODEL_PATH=$1 TEACHER_MODEL_PATH=$MODELS/base DATA_DIR=$OUT/opcd OUTPUT_DIR=$2 \
    EXPERIMENT_NAME=$4 OPCD_OVERRIDES="$OPCD_OVERRIDES" bash EasyR1/train_opcd.sh
  local step
  step=$("$EVAL_PY" -c "import json,sys; t=json.load(open(sys.argv[1])); print(t['last_global_step'])" "$2/checkpoint_tracker.json")
  MODEL_PATH=$1 EXPORT_DIR=$3 bash EasyR1/merge_checkpoint.sh "$2/global_step_$step"
}
opcd_configs=(EasyR1/configs/{opcd_recipe,opcd_qwen3vl_tiny,device/cpu,opcd_single_process}.yaml)
opcd_settings="$TRAINER $OPCD_OVERRIDES ${opcd_configs[*]}"
stage opcd "data sft base" "$opcd_settings" "[[ -f $MODELS/opcd/config.json ]]" \
  opcd "$MODELS/sft" "$MODELS/opcd_run" "$MODELS/opcd" toy_opcd
evaluate opcd "$MODELS/opcd" "planning perception" opcd

# 7. ablations: OPCD without perception SFT; plan SFT on images (the plan export, OPCD's sample count, one epoch)
stage opcd_no_perception "data base" "$opcd_settings" "[[ -f $MODELS/opcd_no_perception/config.json ]]" opcd "$MODELS/base" \
  "$MODELS/opcd_no_perception_run" "$MODELS/opcd_no_perception" toy_opcd_no_perception
evaluate opcd_no_perception "$MODELS/opcd_no_perception" "planning perception" opcd_no_perception
plan_steps=$(( (PLAN_SAMPLES + OPCD_BATCH - 1) / OPCD_BATCH ))
plan_overrides="$SFT_OVERRIDES max_steps=$plan_steps per_device_train_batch_size=$OPCD_BATCH"
stage plan_sft "data sft" "$perception_config $plan_overrides $SEED" "[[ -f $MODELS/plan_sft/config.json ]]" \
  full_sft "$perception_config" "$MODELS/sft" "$OUT/sft_plan" mgsd_plan "$MODELS/plan_sft" "$plan_overrides"
evaluate plan_sft "$MODELS/plan_sft" "planning perception" plan_sft

# 8. the report: every run, both OPCD training curves, the toy table and summary.json, with a fingerprint of the
# settings of every stage above but the seed (mgsd_eval.toy_seeds sets side by side only runs that share it;
# plan_overrides holds SFT_OVERRIDES)
settings_key=$(stage_key "" "$TRAIN_PER_LEVEL $VAL_PER_LEVEL $TEST_PER_LEVEL $TOY_MODEL/mgsd_tiny.json $text_config \
  $TEXT_SFT_OVERRIDES $perception_config $plan_overrides $TRAINER ${OPCD_OVERRIDES//seed=$SEED/seed=SEED} \
  ${opcd_configs[*]} $EVAL_MAX_TOKENS $TOY_SERVER" | sha256sum | cut -c1-16)
report() {
  local runs=("$RUNS/base/modality-gap" "$RUNS/base/perception")
  for label in perception_sft opcd opcd_no_perception plan_sft; do runs+=("$RUNS/$label/planning" "$RUNS/$label/perception"); done
  "$MGSD" report "${runs[@]}" --training "$MODELS/opcd_run" "$MODELS/opcd_no_perception_run" --out "$RUNS/report"
  "$EVAL_PY" -m mgsd_eval.toy_report --runs "$RUNS" --out "$RUNS/report" --seed "$SEED" \
    --command "SEED=$SEED TRAINER=$TRAINER make toy" --settings-key "$settings_key" --stage-seconds "$LOGS/stage_seconds.txt" \
    ${PUBLISH:+--publish evaluate/toy_report --readme README.md}
}
stage report "" "" false report
echo
sed -n '/^## Toy table/,/^$/p;/^| row /,/^$/p' "$RUNS/report/toy.md"
echo "toy finished in $(( $(date +%s) - t0 )) s"
echo "  report: $RUNS/report/report.md, toy.md, summary.json, success_by_level.png, modality_gap.png, training_curves.png"
echo "  models: $MODELS/{base,sft,opcd,opcd_no_perception,plan_sft}; logs: $LOGS/"
