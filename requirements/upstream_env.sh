# Upstream MGSD compatibility (sourced, not run) by the wrappers kept at upstream's paths
# (LlamaFactory/examples/..., EasyR1/examples/..., evaluate/<mode>_eval/...): upstream's environment variables
# mapped onto this project's launchers. Every value taken from an upstream variable is printed on stderr as
#   upstream: OURS=value (from UPSTREAM)
# and an upstream variable that cannot mean the same thing here gets one "note:" line saying why. Defaults are
# ours (README, "Coming from upstream MGSD"), except where upstream's commands must line up with each other:
# the OPCD project/experiment names and checkpoint folder, and the API evaluation's smoke size.
# `<wrapper> -h` prints the wrapper's header. DRY_RUN=1 prints the resolved settings and exits 0 (our launchers'
# own dry run where they have one, else the command the wrapper would run).
up_caller=${BASH_SOURCE[1]:-$0}
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$up_caller"; exit 0; fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source requirements/launch_lib.sh
up_set=()

up_show() { case "$1" in *KEY*) echo "<hidden>" ;; *) echo "$2" ;; esac; }
up_note() { echo "note: $*" >&2; }
up_export() {  # OURS VALUE WHERE_FROM
  export "$1=$2"; [[ " ${up_set[*]} " == *" $1 "* ]] || up_set+=("$1")
  echo "upstream: $1=$(up_show "$1" "$2") ($3)" >&2
}
up_map() {  # UPSTREAM OURS [VALUE]: OURS takes UPSTREAM's value (or VALUE) when UPSTREAM is set
  local from=$1 to=$2
  [[ -n "${!from:-}" ]] || return 0
  local value=${3-${!from}}
  if [[ "$from" != "$to" && -n "${!to:-}" && "${!to}" != "$value" ]]; then up_note "$from ignored: $to=$(up_show "$to" "${!to}") is set"; return 0; fi
  up_export "$to" "$value" "$([[ "$from" == "$to" ]] && echo "same name" || echo "from $from")"
}
up_ignore() {  # REASON VAR...: a note for each VAR that is set
  local why=$1 var; shift
  for var in "$@"; do [[ -z "${!var:-}" ]] || up_note "$var=$(up_show "$var" "${!var}") has no effect here: $why"; done
}
up_size() {  # SIZE: the size the upstream script is named for
  [[ -z "${MODEL_SIZE:-}" || "${MODEL_SIZE,,}" == "$1" ]] || up_note "MODEL_SIZE=$MODEL_SIZE ignored: this is the $1 script"
  export MODEL_SIZE=$1; up_set+=(MODEL_SIZE)
}
up_python() {  # ENV: PYTHON_ENV, PYTHON_BIN or a tool's folder (LLAMAFACTORY_CLI, VLLM_BIN) -> MGSD_<ENV>_PYTHON
  local var=MGSD_$1_PYTHON tool path
  if [[ -n "${PYTHON_ENV:-}" ]]; then up_map PYTHON_ENV "$var" "$PYTHON_ENV/bin/python"
  elif [[ -n "${PYTHON_BIN:-}" ]]; then up_map PYTHON_BIN "$var" "$(command -v "$PYTHON_BIN" || echo "$PYTHON_BIN")"
  fi
  for tool in LLAMAFACTORY_CLI VLLM_BIN; do
    [[ -n "${!tool:-}" ]] || continue
    path=$(dirname "$(command -v "${!tool}" || echo "${!tool}")")/python
    if [[ -z "${!var:-}" && -x "$path" ]]; then up_map "$tool" "$var" "$path"
    elif [[ "${!var:-}" != "$path" ]]; then up_note "$tool=${!tool} ignored: the tool next to $var (or the stage's .venvs python) runs"; fi
  done
}
up_override() {  # UPSTREAM KEY: OPCD_OVERRIDES gets KEY=value ("-": no such setting in this trainer)
  [[ -n "${!1:-}" ]] || return 0
  if [[ "$2" == - ]]; then up_note "$1=${!1} has no effect with TRAINER=$TRAINER: no such setting there"; return 0; fi
  up_overrides+="${up_overrides:+ }$2=${!1}"; echo "upstream: OPCD_OVERRIDES += $2=${!1} (from $1)" >&2
}
up_word() {  # WORD: printed shell-quoted when it needs to be
  if [[ "$1" =~ ^[][A-Za-z0-9_./:=,@+%-]*$ ]]; then printf ' %s' "$1"; else printf " '%s'" "${1//\'/\'\\\'\'}"; fi
}
up_run() {  # COMMAND...: exec it; with DRY_RUN=1 print it with the variables set here, and exit 0
  if [[ "${DRY_RUN:-0}" == 1 ]]; then
    local var word; printf 'would run:'
    for var in "${up_set[@]}"; do up_word "$var=$(up_show "$var" "${!var}")"; done
    for word in "$@"; do up_word "$word"; done
    echo; exit 0
  fi
  exec "$@"
}

# Perception SFT (LlamaFactory/examples/train_lora/qwen3vl_<size>_vsp_tasks_perception_sft.sh)
up_sft_train() {  # SIZE
  up_size "$1"; up_python SFT
  up_map MODEL_NAME_OR_PATH MODEL_PATH; up_map DATASET_DIR DATA_DIR; up_map MEDIA_DIR MEDIA_DIR; up_map OUTPUT_DIR OUTPUT_DIR
  local info=${DATA_DIR:-data/sft/perception}/dataset_info.json
  if [[ -z "${DATASET:-}" && -f "$info" ]] && ! grep -q '"mgsd_perception"' "$info" && grep -q '"vsp_tasks_perception_sft"' "$info"; then
    up_export DATASET vsp_tasks_perception_sft "upstream's dataset name in $info"
  fi
  if [[ -n "${CONFIG_PATH:-}" ]]; then
    up_map CONFIG_PATH CONFIG "$([[ -f "$CONFIG_PATH" || ! -f "LlamaFactory/$CONFIG_PATH" ]] && echo "$CONFIG_PATH" || echo "LlamaFactory/$CONFIG_PATH")"
  fi
  if [[ "${SINGLE_NODE:-1}" != 0 ]]; then  # upstream's default: one node, leftover torchrun rank variables dropped
    [[ "${NNODES:-1}" == 1 ]] || up_note "NNODES=$NNODES ignored: SINGLE_NODE=1 (upstream's default); set SINGLE_NODE=0 for several nodes"
    export NNODES=1 NODE_RANK=0
    unset RANK LOCAL_RANK WORLD_SIZE LOCAL_WORLD_SIZE GROUP_RANK ROLE_RANK ROLE_WORLD_SIZE TORCHELASTIC_RUN_ID \
          TORCHELASTIC_RESTART_COUNT TORCHELASTIC_MAX_RESTARTS
  fi
  case "${ENABLE_SWANLAB:-auto}" in
    true|1) up_map ENABLE_SWANLAB REPORT_TO swanlab ;;
    false|0) up_map ENABLE_SWANLAB REPORT_TO none ;;
    auto) [[ -z "${ENABLE_SWANLAB:-}" || -n "${SWANLAB_PROJECT:-}${SWANLAB_RUN_NAME:-}${SWANLAB_MODE:-}" ]] ||
            up_note "ENABLE_SWANLAB=auto turns swanlab on only when SWANLAB_PROJECT, SWANLAB_RUN_NAME or SWANLAB_MODE is set (upstream: whenever swanlab imports)" ;;
    *) up_note "ENABLE_SWANLAB=$ENABLE_SWANLAB ignored: true, false or auto" ;;
  esac
  if [[ "${REPORT_TO:-}" == swanlab || -n "${SWANLAB_PROJECT:-}${SWANLAB_RUN_NAME:-}${SWANLAB_MODE:-}" ]]; then
    up_map SWANLAB_PROJECT SWANLAB_PROJECT; up_map SWANLAB_RUN_NAME SWANLAB_RUN_NAME
    [[ -n "${SWANLAB_PROJECT:-}" ]] || up_export SWANLAB_PROJECT VSP-Tasks "upstream's default"
    [[ -n "${SWANLAB_RUN_NAME:-}" ]] || up_export SWANLAB_RUN_NAME "qwen3vl$1_vsp_tasks_perception_sft_final" "upstream's default"
    up_map SWANLAB_MODE SWANLAB_MODE; up_map SWANLAB_LOGDIR SWANLAB_LOGDIR
  fi
  up_ignore "paths resolve from this checkout" LLAMAFACTORY_ROOT REPO_ROOT
}

# LoRA merge (LlamaFactory/examples/merge_lora/merge_vsp_tasks_perception_sft.sh <adapter>)
up_sft_merge() {  # "$@" of the wrapper
  [[ -z "${1:-}" ]] || up_export ADAPTER_PATH "$1" "first argument"
  [[ -z "${MODEL_SIZE:-}" ]] || up_export MODEL_SIZE "${MODEL_SIZE,,}" "same name"
  up_python SFT
  up_map BASE_MODEL BASE_MODEL; up_map EXPORT_DIR EXPORT_DIR
  up_ignore "paths resolve from this checkout" LLAMAFACTORY_ROOT REPO_ROOT
}

# OPCD data (EasyR1/examples/prepare_qwen3_vl_4b_vsp_tasks_opcd_data.sh)
up_dataset_dir() {  # UPSTREAM OURS: upstream's raw root must be one of our dataset folders here
  [[ -n "${!1:-}" ]] || return 0
  [[ -f "${!1}/manifest.json" ]] || { echo "error: $1=${!1} is not a dataset folder (no manifest.json): upstream's raw level folders are not read here; make one with mgsd data generate or mgsd data import, or leave $1 unset to generate one" >&2; exit 2; }
  up_map "$1" "$2"
}
up_opcd_data() {
  up_dataset_dir DATA_ROOT TRAIN_DIRS; up_dataset_dir VAL_RAW_ROOT VAL_DIRS
  up_map JSON_ROOT OUT_DIR; up_map TRAIN_SAVE_DIR OUT_DIR
  up_ignore "train.parquet and val.parquet both go to OUT_DIR (training reads DATA_DIR=OUT_DIR)" VAL_SAVE_DIR
  up_ignore "no intermediate JSON: the parquet files are exported from dataset folders" TRAIN_JSON VAL_JSON
  local task train val levels spec=
  for task in frozenlake maze minibehaviour; do
    train=${task^^}_TRAIN_LEVELS; val=${task^^}_VAL_LEVELS
    [[ -z "${!train:-}" ]] || { levels=${!train//level/}; spec+="${spec:+;}$task=${levels// /}"; }
    [[ -z "${!val:-}" || "${!val}" == "${!train:-}" ]] || up_note "$val=${!val} ignored: validation is generated with the training LEVELS here"
  done
  [[ -z "$spec" ]] || up_export LEVELS "$spec" "from *_TRAIN_LEVELS; applies to the folders generated here"
  up_map LIMIT_PER_LEVEL TRAIN_PER_LEVEL_CAP; up_map SAMPLE_PER_LEVEL TRAIN_PER_LEVEL_CAP
  [[ -z "${SAMPLE_PER_LEVEL:-}${LIMIT_PER_LEVEL:-}" ]] || up_note "the train cap keeps the first cases of each task and level (upstream: SAMPLE_PER_LEVEL drew them at random); validation is not capped"
  up_map TEST_SAMPLE_PER_LEVEL VAL_PER_LEVEL
  [[ -z "${SEED:-}" ]] || up_note "SEED=$SEED seeds the generation of missing folders here (upstream: sampling and shuffling of existing raw files)"
  up_ignore "no row duplication; raise trainer.total_epochs (TOTAL_EPOCHS) or TASK_WEIGHTS" OPCD_DUPLICATE_TO
  up_map TEACHER_USE_GT TEACHER_REFERENCE_PLAN
}

# OPCD training (EasyR1/examples/qwen3_vl_<size>_vsp_tasks_opcd_base_teacher.sh)
up_parquet() {  # UPSTREAM OURS NAME: a parquet file -> its folder, which must hold NAME
  [[ -n "${!1:-}" ]] || return 0
  [[ "$(basename "${!1}")" == "$3" ]] || { echo "error: $1=${!1}: this launcher reads $2/$3 (made by EasyR1/prepare_opcd_data.sh); point $2 at its folder" >&2; exit 2; }
  up_map "$1" "$2" "$(dirname "${!1}")"
}
up_opcd_train() {  # SIZE
  local size=$1 verl
  up_size "$size"; up_python OPCD
  export TRAINER=${TRAINER:-$([[ "$(gpu_count)" -eq 1 ]] && echo single || echo verl)}  # train_opcd.sh's default
  verl=$([[ "$TRAINER" == verl ]] && echo 1 || true)
  up_map MODEL_PATH MODEL_PATH; up_map TEACHER_MODEL_PATH TEACHER_MODEL_PATH
  up_parquet TRAIN_FILES DATA_DIR train.parquet; up_parquet VAL_FILES VAL_DIR val.parquet
  up_map DATA_DIR DATA_DIR; up_map VAL_DIR VAL_DIR
  [[ -z "${VAL_DIR:-}" || -f "${VAL_DIR}/val.parquet" || ! -f "${VAL_DIR}/test.parquet" ]] ||
    up_note "VAL_DIR=$VAL_DIR holds upstream's test.parquet, which is not read: validation reads val.parquet (EasyR1/prepare_opcd_data.sh)"
  up_ignore "training reads DATA_DIR and VAL_DIR (the parquet folders of prepare_qwen3_vl_4b_vsp_tasks_opcd_data.sh), as upstream's launchers did" DATA_ROOT VAL_RAW_ROOT
  up_ignore "the teacher prompts are task_envs package data, one per task" TEACHER_PROMPT
  up_ignore "the reward is task_envs' scorer (mgsd_opcd.reward)" REWARD_FN
  up_map TEACHER_USE_GT TEACHER_REFERENCE_PLAN
  # upstream's run names and checkpoint folder (train_opcd.sh reads PROJECT_NAME and EXPERIMENT_NAME itself)
  up_map PROJECT_NAME PROJECT_NAME; up_map EXPERIMENT_NAME EXPERIMENT_NAME
  [[ -n "${PROJECT_NAME:-}${SWANLAB_PROJECT:-}" ]] || up_export PROJECT_NAME VSP_Tasks_OPCD "upstream's default"
  [[ -n "${EXPERIMENT_NAME:-}${SWANLAB_RUN_NAME:-}" ]] ||
    up_export EXPERIMENT_NAME "qwen3vl${size}_vsp_tasks_mixed_opcd_base_teacher_sft_student_final" "upstream's default"
  [[ -n "${OUTPUT_DIR:-}" ]] || up_export OUTPUT_DIR "EasyR1/checkpoints/${PROJECT_NAME:-$SWANLAB_PROJECT}/${EXPERIMENT_NAME:-$SWANLAB_RUN_NAME}" \
    "upstream's layout: EasyR1/checkpoints/PROJECT_NAME/EXPERIMENT_NAME"
  local up_overrides=
  up_override TOTAL_EPOCHS "$([[ $verl ]] && echo trainer.total_epochs || echo epochs)"
  up_override DATA_SEED "$([[ $verl ]] && echo data.seed || echo seed)"
  up_override IMAGE_MIN_PIXELS "$([[ $verl ]] && echo - || echo min_pixels)"
  up_override IMAGE_MAX_PIXELS "$([[ $verl ]] && echo - || echo max_pixels)"
  up_override ROLLOUT_BATCH_SIZE "$([[ $verl ]] && echo data.train_batch_size || echo batch_size)"
  up_override GLOBAL_BATCH_SIZE "$([[ $verl ]] && echo actor_rollout_ref.actor.ppo_mini_batch_size || echo mini_batch_size)"
  up_override ACTOR_MICRO_BATCH_UPDATE "$([[ $verl ]] && echo actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu || echo micro_batch_size)"
  up_override ACTOR_MICRO_BATCH_EXPERIENCE "$([[ $verl ]] && echo actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu || echo -)"
  up_override ROLLOUT_GPU_MEMORY_UTILIZATION "$([[ $verl ]] && echo actor_rollout_ref.rollout.gpu_memory_utilization || echo -)"
  up_override ENABLE_GRADIENT_CHECKPOINTING "$([[ $verl ]] && echo actor_rollout_ref.model.enable_gradient_checkpointing || echo -)"
  export OPCD_OVERRIDES="$up_overrides${OPCD_OVERRIDES:+ $OPCD_OVERRIDES}"  # yours come last and win
}

# OPCD checkpoint merge (EasyR1/examples/merge_vsp_tasks_opcd_checkpoint.sh <checkpoint>)
up_opcd_merge() {  # "$@" of the wrapper
  if [[ -n "${1:-}" ]]; then up_export CKPT_PATH "$1" "first argument"; else up_map CKPT_PATH CKPT_PATH; fi
  up_map EXPORT_DIR EXPORT_DIR; up_python OPCD
  up_ignore "nothing is uploaded; push EXPORT_DIR with huggingface-cli upload afterwards" HF_UPLOAD_PATH
  up_ignore "paths resolve from this checkout" PROJECT_ROOT REPO_ROOT
}

# vLLM serving (evaluate/ckpt_eval/serve_ckpt*.sh, evaluate/perception_eval/vlm.sh, evaluate/modality_gap_eval/serve_model*.sh)
up_serve() {  # REPLICAS_OR_EMPTY DEFAULT_MODEL_PATH
  up_python OPCD
  [[ -z "$1" ]] || { [[ -z "${REPLICAS:-}" || "$REPLICAS" == "$1" ]] || up_note "REPLICAS=$REPLICAS ignored: this script serves $1"; export REPLICAS=$1; up_set+=(REPLICAS); }
  [[ -n "${MODEL_PATH:-}" || -z "$2" ]] || up_export MODEL_PATH "$2" "this script's default"
  up_map MODEL_PATH MODEL_PATH; up_map SERVED_MODEL_NAME SERVED_NAME; up_map PORT BASE_PORT; up_map TENSOR_PARALLEL_SIZE TP
  local args=
  [[ -z "${MAX_NUM_BATCHED_TOKENS:-}" ]] || args+=" --max-num-batched-tokens $MAX_NUM_BATCHED_TOKENS"
  [[ -z "${LIMIT_MM_PER_PROMPT:-}" ]] || args+=" --limit-mm-per-prompt ${LIMIT_MM_PER_PROMPT// /}"
  [[ -z "${MM_PROCESSOR_KWARGS:-}" ]] || args+=" --mm-processor-kwargs ${MM_PROCESSOR_KWARGS// /}"
  [[ "${ENABLE_PREFIX_CACHING:-true}" != false && "${ENABLE_PREFIX_CACHING:-1}" != 0 ]] || args+=" --no-enable-prefix-caching"
  [[ -z "$args" ]] || up_export VLLM_ARGS "${args# }${VLLM_ARGS:+ $VLLM_ARGS}" "from MAX_NUM_BATCHED_TOKENS/LIMIT_MM_PER_PROMPT/MM_PROCESSOR_KWARGS/ENABLE_PREFIX_CACHING"
  [[ -z "${CUDA_DEVICES:-}" ]] || { local devices=$(echo $CUDA_DEVICES); up_map CUDA_DEVICES CUDA_VISIBLE_DEVICES "${devices// /,}"; }
}

# MODEL_KIND=base|opcd of evaluate/modality_gap_eval/*: upstream's run label and model folder
up_model_kind() {
  case "${MODEL_KIND:-base}" in
    base) up_kind_label=base8b up_kind_model=models/Qwen3-VL-8B-Instruct ;;
    opcd) up_kind_label=opcd up_kind_model=models/ckpts/Qwen3-VL-4B-VSP-Tasks-OPCD-Mixed ;;
    *) echo "error: MODEL_KIND must be base or opcd, got '$MODEL_KIND'" >&2; exit 2 ;;
  esac
}

# Evaluation clients (evaluate/{ckpt,perception,api,modality_gap}_eval/run_*.sh)
up_bench_dirs() {  # upstream's benchmark folders -> dataset folders under data/benchmarks (imported once)
  if [[ -n "${DATA_DIRS:-}" ]]; then up_ignore "DATA_DIRS is set" DATASET_ROOT FROZENLAKE_BENCH_ROOT; return 0; fi
  local vp=${DATASET_ROOT:-data/VisualPlanning/dataset} fl=${FROZENLAKE_BENCH_ROOT:-data/DiffThinker/FrozenLake/VSP/maps}
  local tasks=${TASKS:-all} task src out dirs=() mgsd=
  [[ "$tasks" != all ]] || tasks="frozenlake maze minibehaviour"
  for task in $tasks; do
    [[ "$task" != minibehavior && "$task" != mini ]] || task=minibehaviour
    case "$task" in
      frozenlake) src=$fl; out=data/benchmarks/vsp_frozenlake; set -- vsp --src "$src" --out "$out" ;;
      maze|minibehaviour) src=$vp/$task/tokenized_dataset/SFT/test_dataset.jsonl; out=data/benchmarks/visualplanning_$task
                          set -- visualplanning --task "$task" --src "$src" --out "$out" ;;
      *) up_note "TASKS: unknown task '$task' skipped"; continue ;;
    esac
    [[ -e "$src" ]] || continue
    dirs+=("$out")
    [[ ! -f "$out/manifest.json" ]] || continue
    if [[ "${DRY_RUN:-0}" == 1 ]]; then echo "would import: mgsd data import $*" >&2; continue; fi
    mgsd=${mgsd:-$(dirname "$(bash requirements/setup_env.sh eval)")/mgsd}
    "$mgsd" data import "$@" >&2
  done
  if [[ ${#dirs[@]} -eq 0 ]]; then
    [[ -z "${DATASET_ROOT:-}${FROZENLAKE_BENCH_ROOT:-}" ]] || { echo "error: no benchmark data under DATASET_ROOT=$vp or FROZENLAKE_BENCH_ROOT=$fl (upstream's layout: <root>/{maze,minibehaviour}/tokenized_dataset/SFT/test_dataset.jsonl and level<N>/{table,img}/)" >&2; exit 2; }
    up_note "upstream's benchmark folders ($vp, $fl) are not here: the evaluation script's default DATA_DIRS apply"; return 0
  fi
  up_export DATA_DIRS "${dirs[*]}" "imported from DATASET_ROOT=$vp / FROZENLAKE_BENCH_ROOT=$fl"
}
up_eval() {  # KIND: ckpt | perception | api | modality
  local kind=$1 args=
  case "$kind" in ckpt) set -- planning ;; perception) set -- perception ;; modality) set -- modality-gap ;; api) set -- ;; esac
  [[ -z "${1:-}" || -n "${PIPELINES:-}" ]] || up_export PIPELINES "$1" "this is upstream's $kind evaluation"
  up_map API_KEY OPENAI_API_KEY
  up_map OUTPUT_DIR OUT_DIR
  [[ -z "${OUTPUT:-}" ]] || { up_map OUTPUT OUT_DIR "${OUTPUT%.jsonl}"; up_note "OUT_DIR is a run folder (results.jsonl, summary.json), not one JSONL file"; }
  if [[ "$kind" != api && -z "${BASE_URLS:-}" && -n "${HOST:-}${BASE_PORT:-}${REPLICAS:-}" ]]; then
    local i n=${REPLICAS:-$(gpu_count)} urls=  # the replicas as serve_vllm.sh starts them: one per GPU
    for ((i = 0; i < (n > 0 ? n : 1); i++)); do urls+="${urls:+ }http://${HOST:-127.0.0.1}:$(( ${BASE_PORT:-8000} + i ))/v1"; done
    up_export BASE_URLS "$urls" "from HOST, BASE_PORT and REPLICAS [visible GPUs]"
  fi
  [[ "$kind" != api || -n "${SAMPLES_PER_TASK:-}${LIMIT:-}" ]] || up_export LIMIT 1 "upstream's smoke default SAMPLES_PER_TASK=1; 0 evaluates all"
  local var; for var in SAMPLES_PER_TASK SAMPLES_PER_LEVEL; do  # 0: all cases (LIMIT empty)
    [[ -z "${!var:-}" ]] || up_export LIMIT "$([[ "${!var}" == 0 ]] || echo "${!var}")" "from $var=${!var}; empty: all cases"
  done
  [[ -z "${SAMPLES_PER_TASK:-}" ]] || up_note "LIMIT counts cases per task and level (upstream's SAMPLES_PER_TASK: per task, lowest levels first)"
  up_map WORKERS CONCURRENCY
  [[ "$kind" == api ]] && up_map API_KEY_FILE API_CONFIG || { [[ -z "${API_CONFIG:-}" ]] || args+=" --api-config $API_CONFIG"; }
  [[ -z "${MODEL_NAME:-}" ]] || args+=" --model $MODEL_NAME"
  [[ "$kind" != api || -z "${TEMPERATURE:-}" ]] || args+=" --temperature $TEMPERATURE"
  [[ -z "${TOP_P:-}" ]] || args+=" --top-p $TOP_P"
  [[ -z "${SEED:-}" ]] || args+=" --seed $SEED"
  [[ -z "${TIMEOUT:-}" ]] || args+=" --timeout $TIMEOUT"
  [[ -z "${RETRIES:-}" ]] || args+=" --retries $RETRIES"
  [[ -z "$args" ]] || up_export EVAL_ARGS "${args# }${EVAL_ARGS:+ $EVAL_ARGS}" "from API_CONFIG/MODEL_NAME/TEMPERATURE/TOP_P/SEED/TIMEOUT/RETRIES"
  [[ "${RESUME:-1}" != 0 ]] || up_note "RESUME=0 ignored: runs always resume; delete OUT_DIR to start over"
  up_ignore "images come from the dataset folders" IMAGE_CACHE
  up_ignore "prompts are task_envs package data (PROMPT=direct|student)" PROMPT_DIR FROZENLAKE_PROMPT
  up_ignore "not sent by this client" TOP_K MIN_P REPETITION_PENALTY MAX_PROMPT_TOKENS
  up_ignore "retries back off exponentially" RETRY_SLEEP
  up_ignore "models run one after another, each with CONCURRENCY requests" MODEL_WORKERS
  up_ignore "models are not filtered by GET /models" ALLOW_UNLISTED NO_FETCH_MODEL_LIST
  up_ignore "no render-only or JSON printing mode; results are in OUT_DIR" RENDER_ONLY PRINT_JSON
  if [[ "$kind" == perception ]]; then
    up_ignore "perception questions are built from dataset folders (DATA_DIRS), not from the SFT JSON" DATASET_JSON
    up_ignore "every task in DATA_DIRS is evaluated" TASKS
  else
    up_bench_dirs
  fi
}
