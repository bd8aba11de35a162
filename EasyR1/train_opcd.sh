#!/usr/bin/env bash
# OPCD training: the perception-SFT student learns to plan from the image, distilled on-policy from the frozen
# text teacher that reads the symbolic state.
#
#   MODEL_SIZE=4b bash EasyR1/train_opcd.sh                  # verl + vLLM on one 8-GPU node (upstream's scale)
#   MODEL_SIZE=tiny bash EasyR1/train_opcd.sh                # verl + vLLM's CPU build on a CPU, the tiny model
#   TRAINER=single MODEL_PATH=... bash EasyR1/train_opcd.sh  # single-process trainer: one GPU or a CPU
#
# Environment overrides (defaults in brackets):
#   MODEL_SIZE          4b | 8b | tiny [4b]: picks EasyR1/configs/opcd_qwen3vl_<size>.yaml (verl)
#   TRAINER             verl | single [single on a machine with exactly one GPU, else verl]
#   DEVICE              cuda | cpu [cpu when no GPU is visible]: cpu runs verl with the CPU overlay
#                       (configs/device/cpu.yaml: CPU platform; vLLM's CPU build as rollout and teacher)
#   VLLM_CPU_KVCACHE_SPACE  DEVICE=cpu: GiB of KV cache per vLLM server (rollout, teacher) [1]
#   MODEL_PATH          student init, the merged perception-SFT model [models/ckpts/Qwen3-VL-<SIZE>-Perception-SFT;
#                       tiny: models/tiny-qwen3-vl]
#   TEACHER_MODEL_PATH  frozen teacher [models/Qwen3-VL-<SIZE>-Instruct; tiny: models/tiny-qwen3-vl]; any model
#                       sharing the student's tokenizer
#   STUDENT_ADAPTER     single: the perception-SFT LoRA adapter, unmerged (e.g. models/saves/qwen3-vl-4b/perception_lora);
#                       the student is its base + the adapter, and OPCD trains the adapter. MODEL_PATH defaults to
#                       TEACHER_MODEL_PATH: the teacher is then the same weights with the adapter off (one copy)
#   GPU_MEMORY_GB       GiB of one GPU to plan for [what nvidia-smi reports; none on a CPU]: the launcher prints
#                       "estimated peak GPU memory per GPU", picks settings that fit (single: LoRA, gradient
#                       checkpointing, chunked log-probs, smaller rollout batches; verl: smaller actor
#                       micro-batches, FSDP offload) and refuses,
#                       before any model loads, a run that cannot fit (mgsd_opcd/memory_plan.py)
#   DATA_DIR            folder with train.parquet (EasyR1/prepare_opcd_data.sh) [data/opcd]
#   VAL_DIR             folder with val.parquet [DATA_DIR]
#   OUTPUT_DIR          checkpoints and logs [EasyR1/checkpoints/mgsd_opcd/qwen3vl<size>_<trainer>]
#   TRAINER_GPUS        GPUs per node for actor + rollout (verl) [4; cpu: 1]; the train batch must divide by it
#   TEACHER_GPUS        GPUs per node for the teacher's servers (verl) [4; cpu: 1]
#   NNODES              nodes of the Ray cluster (verl): start `ray start --head` on one node and
#                       `ray start --address=<head>:6379` on the others, then run this on the head [1]
#   TEACHER_REFERENCE_PLAN  1 lets the teacher read an optimal plan [1]
#   PRECISION           fp32-master | bf16 [fp32-master]: fp32-master keeps fp32 trainable weights and AdamW
#                       states, bf16 compute (updates at lr 1e-6 land); bf16 is upstream's precision, the one the
#                       paper's numbers came from: bf16 weights and AdamW states, no fp32 master copy (most updates
#                       at lr 1e-6 round away). verl: fsdp_config.model_dtype; single: dtype=bfloat16 master_dtype=compute
#   CHECKPOINT_CONTENTS verl: what each checkpoint holds, comma-separated [model,optimizer,extra]; `model` alone
#                       saves ~2/3 of the disk (4B: ~18 instead of ~53 GB each) but cannot be resumed from
#   LOGGER              extra loggers: swanlab and/or wandb, comma-separated [none]; they read their own
#                       SWANLAB_* / WANDB_* variables (keys stay in the environment). Any of SWANLAB_PROJECT,
#                       SWANLAB_RUN_NAME, SWANLAB_MODE turns swanlab on (as upstream); SWANLAB_MODE defaults to
#                       cloud with SWANLAB_API_KEY, else offline; SWANLAB_LOG_DIR to OUTPUT_DIR/swanlog
#   PROJECT_NAME        logger project [SWANLAB_PROJECT, else mgsd_opcd]
#   EXPERIMENT_NAME     logger run name [SWANLAB_RUN_NAME, else qwen3vl<size>_<trainer>]
#   OPCD_OVERRIDES      extra settings, space-separated key=value: Hydra keys for verl
#                       (e.g. "trainer.total_epochs=1"), opcd_single_process.yaml keys for single (e.g. "max_steps=5")
#   DRY_RUN             1 prints the resolved config (verl: composed and validated by verl) and exits
#   MGSD_OPCD_PYTHON    python of your own environment instead of .venvs/opcd
# Paths are made absolute before they reach Ray (workers on other nodes resolve them as given).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$repo"
source requirements/launch_lib.sh

MODEL_SIZE=${MODEL_SIZE:-4b}
gpus=$(gpu_count)
TRAINER=${TRAINER:-$([[ "$gpus" -eq 1 ]] && echo single || echo verl)}
case "$TRAINER" in verl|single) ;; *) echo "error: TRAINER must be verl or single, got '$TRAINER'" >&2; exit 2 ;; esac
DEVICE=${DEVICE:-$([[ "$gpus" -ge 1 ]] && echo cuda || echo cpu)}
case "$DEVICE" in cuda|cpu) ;; *) echo "error: DEVICE must be cuda or cpu, got '$DEVICE'" >&2; exit 2 ;; esac
STUDENT_ADAPTER=${STUDENT_ADAPTER:-}
if [[ -n "$STUDENT_ADAPTER" ]]; then
  [[ "$TRAINER" == single ]] || { echo "error: STUDENT_ADAPTER needs TRAINER=single (verl trains the merged model)" >&2; exit 2; }
  [[ -f "$STUDENT_ADAPTER/adapter_config.json" ]] || { echo "error: STUDENT_ADAPTER: $STUDENT_ADAPTER is not a LoRA adapter folder (no adapter_config.json)" >&2; exit 2; }
  STUDENT_ADAPTER=$(abs_path "$STUDENT_ADAPTER")
fi
if [[ "$MODEL_SIZE" == tiny ]]; then
  MODEL_PATH=${MODEL_PATH:-models/tiny-qwen3-vl}; TEACHER_MODEL_PATH=${TEACHER_MODEL_PATH:-models/tiny-qwen3-vl}
else
  size_upper=$(size_upper "$MODEL_SIZE")
  TEACHER_MODEL_PATH=${TEACHER_MODEL_PATH:-models/Qwen3-VL-${size_upper}-Instruct}
  MODEL_PATH=${MODEL_PATH:-$([[ -n "$STUDENT_ADAPTER" ]] && echo "$TEACHER_MODEL_PATH" || echo "models/ckpts/Qwen3-VL-${size_upper}-Perception-SFT")}
fi
DATA_DIR=${DATA_DIR:-data/opcd}
VAL_DIR=${VAL_DIR:-$DATA_DIR}
OUTPUT_DIR=${OUTPUT_DIR:-EasyR1/checkpoints/mgsd_opcd/qwen3vl${MODEL_SIZE}_${TRAINER}}
default_gpus=$([[ "$DEVICE" == cpu ]] && echo 1 || echo 4)
TRAINER_GPUS=${TRAINER_GPUS:-$default_gpus}; TEACHER_GPUS=${TEACHER_GPUS:-$default_gpus}; NNODES=${NNODES:-1}
MODEL_PATH=$(abs_path "$MODEL_PATH"); TEACHER_MODEL_PATH=$(abs_path "$TEACHER_MODEL_PATH")
DATA_DIR=$(abs_path "$DATA_DIR"); VAL_DIR=$(abs_path "$VAL_DIR"); OUTPUT_DIR=$(abs_path "$OUTPUT_DIR")
TEACHER_REFERENCE_PLAN=${TEACHER_REFERENCE_PLAN:-1}
LOGGER=${LOGGER:-}
if [[ -n "${SWANLAB_PROJECT:-}${SWANLAB_RUN_NAME:-}${SWANLAB_MODE:-}" && ",$LOGGER," != *",swanlab,"* ]]; then
  LOGGER=${LOGGER:+$LOGGER,}swanlab
fi
if [[ ",$LOGGER," == *",swanlab,"* ]]; then
  export SWANLAB_MODE=${SWANLAB_MODE:-$([[ -n "${SWANLAB_API_KEY:-}" ]] && echo cloud || echo offline)}
  export SWANLAB_LOG_DIR=${SWANLAB_LOG_DIR:-${SWANLAB_LOGDIR:-$OUTPUT_DIR/swanlog}}  # upstream's name: SWANLAB_LOGDIR
fi
PROJECT_NAME=${PROJECT_NAME:-${SWANLAB_PROJECT:-mgsd_opcd}}
EXPERIMENT_NAME=${EXPERIMENT_NAME:-${SWANLAB_RUN_NAME:-qwen3vl${MODEL_SIZE}_${TRAINER}}}
# swanlab 0.10.3 parses SWANLAB_PROJECT from the environment as a settings block and fails on a plain name;
# both names reach it as PROJECT_NAME/EXPERIMENT_NAME instead.
unset SWANLAB_PROJECT SWANLAB_RUN_NAME
plan=$([[ "$TEACHER_REFERENCE_PLAN" == 1 ]] && echo true || echo false)
val_file=$([[ -f "$VAL_DIR/val.parquet" ]] && echo "$VAL_DIR/val.parquet" || true)

echo "OPCD: TRAINER=$TRAINER MODEL_SIZE=$MODEL_SIZE MODEL_PATH=$MODEL_PATH TEACHER_MODEL_PATH=$TEACHER_MODEL_PATH" >&2
echo "  DATA_DIR=$DATA_DIR VAL_DIR=$VAL_DIR OUTPUT_DIR=$OUTPUT_DIR TEACHER_REFERENCE_PLAN=$TEACHER_REFERENCE_PLAN LOGGER=${LOGGER:-none}" >&2
[[ "$TRAINER" == verl ]] && echo "  DEVICE=$DEVICE TRAINER_GPUS=$TRAINER_GPUS TEACHER_GPUS=$TEACHER_GPUS NNODES=$NNODES" >&2
echo "  PROJECT_NAME=$PROJECT_NAME EXPERIMENT_NAME=$EXPERIMENT_NAME${SWANLAB_MODE:+ SWANLAB_MODE=$SWANLAB_MODE}" >&2
echo "  PRECISION=${PRECISION:-fp32-master} overrides: ${OPCD_OVERRIDES:-none}${STUDENT_ADAPTER:+ STUDENT_ADAPTER=$STUDENT_ADAPTER}" >&2

# The memory plan, with the system python before any environment or model: settings that fit, or a refusal.
[[ "$DEVICE" != cuda ]] || GPU_MEMORY_GB=${GPU_MEMORY_GB:-$(gpu_memory_gb)}
planned=()
if [[ -n "${GPU_MEMORY_GB:-}" ]]; then
  plan_args=(--trainer "$TRAINER" --size "$MODEL_SIZE" --model-path "$MODEL_PATH" --teacher-model-path "$TEACHER_MODEL_PATH"
             --gpu-memory-gb "$GPU_MEMORY_GB" --actor-gpus "$(( TRAINER_GPUS * NNODES ))")
  [[ -z "$STUDENT_ADAPTER" ]] || plan_args+=(--student-adapter "$STUDENT_ADAPTER")
  for kv in ${OPCD_OVERRIDES:-}; do plan_args+=(--set "$kv"); done
  plan_out=$(python3 "$here/mgsd_opcd/memory_plan.py" "${plan_args[@]}") || exit 2  # its one line is on stderr
  echo "  ${plan_out%%$'\n'*}" >&2
  read -r -a planned <<< "$(sed -n 's/^plan: //p' <<< "$plan_out")"
  [[ ${#planned[@]} -eq 0 ]] || echo "  planned settings: ${planned[*]}" >&2
fi

if [[ "${DRY_RUN:-0}" != 1 ]]; then
  require_hf_model "$MODEL_PATH" "$TEACHER_MODEL_PATH"
  [[ -f "$DATA_DIR/train.parquet" ]] || { echo "error: $DATA_DIR/train.parquet not found (run EasyR1/prepare_opcd_data.sh)" >&2; exit 2; }
fi
for l in ${LOGGER//,/ }; do
  case "$l" in swanlab|wandb) ;; *) echo "error: LOGGER: unknown logger '$l' (swanlab, wandb)" >&2; exit 2 ;; esac
done
case "${PRECISION:=fp32-master}" in
  fp32-master) precision_single=() precision_verl=() ;;
  bf16) precision_single=("dtype=bfloat16" "master_dtype=compute")
        precision_verl=("actor_rollout_ref.actor.fsdp_config.model_dtype=bf16") ;;
  *) echo "error: PRECISION must be fp32-master or bf16, got '$PRECISION'" >&2; exit 2 ;;
esac
if [[ "$TRAINER" == single ]]; then
  sets=("model_path=$MODEL_PATH" "teacher_model_path=$TEACHER_MODEL_PATH" "train_file=$DATA_DIR/train.parquet"
        "val_file=$val_file" "output_dir=$OUTPUT_DIR" "teacher_reference_plan=$plan"
        "project_name=$PROJECT_NAME" "experiment_name=$EXPERIMENT_NAME" "loggers=jsonl${LOGGER:+,$LOGGER}")
  [[ -z "$STUDENT_ADAPTER" ]] || sets+=("student_adapter=$STUDENT_ADAPTER")
  sets+=("${precision_single[@]}" "${planned[@]}")
  for kv in ${OPCD_OVERRIDES:-}; do sets+=("$kv"); done
  if [[ "${DRY_RUN:-0}" == 1 ]]; then  # needs no environment
    printf '  %s\n' "${sets[@]}" >&2; exit 0
  fi
fi
PY=${MGSD_OPCD_PYTHON:-$(bash requirements/setup_env.sh opcd)}
[[ "$DEVICE" != cuda || "$gpus" -eq 0 ]] || require_cuda_driver "$PY"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
for l in ${LOGGER//,/ }; do  # before any model loads: a missing logger is one line, not a crash minutes in
  [[ "${DRY_RUN:-0}" == 1 ]] || "$PY" -c "import $l" 2>/dev/null || {
    echo "error: LOGGER=$l but the $l package is not installed in $PY (pip install $l)" >&2; exit 2; }
done

if [[ "$TRAINER" == single ]]; then
  exec "$PY" -m mgsd_opcd.sp_train --config "$here/configs/opcd_single_process.yaml" "${sets[@]}"
fi

loggers="['console','file'$(for l in ${LOGGER//,/ }; do printf ",'%s'" "$l"; done)]"
sets=("data.train_files=$DATA_DIR/train.parquet" "data.val_files=${val_file:-$DATA_DIR/train.parquet}"
      "actor_rollout_ref.model.path=$MODEL_PATH"
      "distillation.teacher_models.teacher_model.model_path=$TEACHER_MODEL_PATH"
      "trainer.n_gpus_per_node=$TRAINER_GPUS" "trainer.nnodes=$NNODES"
      "distillation.n_gpus_per_node=$TEACHER_GPUS" "distillation.nnodes=$NNODES"
      "mgsd_opcd.teacher_reference_plan=$plan" "trainer.default_local_dir=$OUTPUT_DIR" "trainer.logger=$loggers"
      "trainer.project_name=$PROJECT_NAME" "trainer.experiment_name=$EXPERIMENT_NAME")
[[ -n "$val_file" ]] || sets+=("trainer.test_freq=-1" "trainer.val_before_train=false")
[[ -z "${CHECKPOINT_CONTENTS:-}" ]] || sets+=("actor_rollout_ref.actor.checkpoint.save_contents=[$CHECKPOINT_CONTENTS]")
# verl imports these in every process, before it resolves its platform; a failed import is an error.
modules=mgsd_opcd.verl_plugin
worker_vars=()
if [[ "$DEVICE" == cpu ]]; then
  modules=mgsd_opcd.verl_cpu,$modules
  # without VLLM_CPU_KVCACHE_SPACE vLLM's CPU worker sizes its KV cache as gpu_memory_utilization of the RAM
  export VERL_PLATFORM=cpu OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1}
  sets=("+device=cpu" "${sets[@]}" "ray_kwargs.ray_init.num_gpus=$(( TRAINER_GPUS + TEACHER_GPUS ))")
  worker_vars=(VERL_PLATFORM OMP_NUM_THREADS VLLM_CPU_KVCACHE_SPACE)
fi
export VERL_USE_EXTERNAL_MODULES=$modules
export WANDB_MODE=${WANDB_MODE:-offline} VERL_FILE_LOGGER_PATH=$OUTPUT_DIR/metrics.jsonl
# Ray: without RAY_ADDRESS a single-node run starts a private instance (ray.init with no address would join
# the latest cluster started on this machine, another job's). RAY_ADDRESS (or NNODES > 1: the cluster that
# `ray start` runs here) joins that cluster as it is, so Ray's resources are not given.
if [[ -n "${RAY_ADDRESS:-}" || "$NNODES" -gt 1 ]]; then
  sets+=("+ray_kwargs.ray_init.address=${RAY_ADDRESS:-auto}" "ray_kwargs.ray_init.num_cpus=null"
         "ray_kwargs.ray_init.num_gpus=null" "ray_kwargs.ray_init.include_dashboard=null")
else
  sets+=("+ray_kwargs.ray_init.address=local")
fi
# Workers inherit the environment of the `ray start` that made their node, not this shell's: everything this
# launcher sets for them travels in the job's runtime_env (string values, quoted for Hydra).
worker_vars+=(VERL_USE_EXTERNAL_MODULES HF_HUB_OFFLINE TOKENIZERS_PARALLELISM WANDB_MODE VERL_FILE_LOGGER_PATH
              SWANLAB_MODE SWANLAB_LOG_DIR)
for var in "${worker_vars[@]}"; do
  [[ -z "${!var:-}" ]] || sets+=("+ray_kwargs.ray_init.runtime_env.env_vars.$var='${!var}'")
done
sets+=("${precision_verl[@]}" "${planned[@]}")
for kv in ${OPCD_OVERRIDES:-}; do sets+=("$kv"); done
# Compose and validate with verl's own machinery first: a bad override fails here, before Ray starts.
if [[ "${DRY_RUN:-0}" == 1 ]]; then exec "$PY" -m mgsd_opcd.verl_config --size "$MODEL_SIZE" "${sets[@]}"; fi
mkdir -p "$OUTPUT_DIR"
"$PY" -m mgsd_opcd.verl_config --size "$MODEL_SIZE" "${sets[@]}" > "$OUTPUT_DIR/resolved_verl_config.yaml"
echo "  resolved config: $OUTPUT_DIR/resolved_verl_config.yaml" >&2
# verl's file logger truncates its file on start: keep a resumed run's earlier rows under a dated name.
[[ ! -f "$OUTPUT_DIR/metrics.jsonl" ]] || mv "$OUTPUT_DIR/metrics.jsonl" "$OUTPUT_DIR/metrics.$(date +%Y%m%d-%H%M%S).jsonl"
run_then_free_shm "$PY" -m verl.trainer.main_ppo --config-path "$here/configs" --config-name "opcd_qwen3vl_$MODEL_SIZE" \
  "hydra.run.dir=$OUTPUT_DIR/hydra/$(date +%Y%m%d-%H%M%S)" "${sets[@]}"
