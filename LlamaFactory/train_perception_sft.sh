#!/usr/bin/env bash
# Perception SFT (cold start): LoRA-tune Qwen3-VL on LLaMA-Factory to read the task state off the image.
#
#   MODEL_SIZE=4b DATA_DIR=data/sft/perception bash LlamaFactory/train_perception_sft.sh
#
# Environment overrides (defaults in brackets):
#   MODEL_SIZE       4b | 8b [4b]: picks LlamaFactory/configs/qwen3vl_<size>_perception_lora.yaml
#   MODEL_PATH       base model folder [models/Qwen3-VL-<SIZE>-Instruct]
#   DATA_DIR         LLaMA-Factory dataset folder from `mgsd data export llamafactory` [data/sft/perception]
#   DATASET          dataset name inside DATA_DIR/dataset_info.json [mgsd_perception]
#   MEDIA_DIR        folder the records' image paths are relative to [DATA_DIR]
#   OUTPUT_DIR       adapter and checkpoints [models/saves/qwen3-vl-<size>/perception_lora]
#   RESUME           1 resumes from the last checkpoint-N in OUTPUT_DIR (a rerun continues an interrupted run) [1];
#                    0 starts over and deletes OUTPUT_DIR's checkpoint-* folders first
#   NPROC_PER_NODE   processes (GPUs) per node [the GPUs in CUDA_VISIBLE_DEVICES, else all visible GPUs, or 1]
#   NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT   multi-node torchrun [1, 0, 127.0.0.1, 29500]
#   USE_CPU          1 forces the CPU profile (no bf16, no workers) [auto: 1 when no GPU is visible]
#   REPORT_TO        none | swanlab | wandb | tensorboard [swanlab when SWANLAB_PROJECT, SWANLAB_RUN_NAME or
#                    SWANLAB_MODE is set, else none]; the package must import, checked before training starts
#   SWANLAB_PROJECT [mgsd]  SWANLAB_RUN_NAME [perception-sft-<size>]  SWANLAB_LOGDIR [OUTPUT_DIR/swanlog]
#   SWANLAB_MODE     cloud (needs SWANLAB_API_KEY or `swanlab login`) | offline (local files, no account) | local [cloud]
#                    SWANLAB_API_KEY and WANDB_* stay in the environment (never written to the config)
#   SFT_OVERRIDES    extra YAML keys, space-separated key=value (e.g. "max_steps=5 learning_rate=2e-4")
#   DRY_RUN          1 prints the resolved YAML and exits without training or checking paths
#   MGSD_SFT_PYTHON  python of your own environment instead of .venvs/sft
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$repo"
source requirements/launch_lib.sh

MODEL_SIZE=${MODEL_SIZE:-4b}
size_upper=$(size_upper "$MODEL_SIZE")
CONFIG=${CONFIG:-$here/configs/qwen3vl_${MODEL_SIZE}_perception_lora.yaml}
MODEL_PATH=${MODEL_PATH:-models/Qwen3-VL-${size_upper}-Instruct}
DATA_DIR=${DATA_DIR:-data/sft/perception}
DATASET=${DATASET:-mgsd_perception}
MEDIA_DIR=${MEDIA_DIR:-$DATA_DIR}
OUTPUT_DIR=${OUTPUT_DIR:-models/saves/qwen3-vl-${MODEL_SIZE}/perception_lora}
RESUME=${RESUME:-1}
[[ "$RESUME" == 0 || "$RESUME" == 1 ]] || { echo "error: RESUME must be 0 or 1, got '$RESUME'" >&2; exit 2; }
gpus=$(gpu_count)
if (( gpus > 0 )) && [[ -n "${CUDA_VISIBLE_DEVICES:-}" ]]; then IFS=, read -ra visible <<< "$CUDA_VISIBLE_DEVICES"; gpus=${#visible[@]}; fi
NPROC_PER_NODE=${NPROC_PER_NODE:-$(( gpus > 0 ? gpus : 1 ))}
NNODES=${NNODES:-1}; NODE_RANK=${NODE_RANK:-0}; MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}; MASTER_PORT=${MASTER_PORT:-29500}
USE_CPU=${USE_CPU:-$([[ "$gpus" -eq 0 ]] && echo 1 || echo 0)}
swanlab_asked=${SWANLAB_PROJECT:-${SWANLAB_RUN_NAME:-${SWANLAB_MODE:-}}}
REPORT_TO=${REPORT_TO:-$([[ -n "$swanlab_asked" ]] && echo swanlab || echo none)}
SWANLAB_MODE=${SWANLAB_MODE:-cloud}
swan="SWANLAB_PROJECT=${SWANLAB_PROJECT:-mgsd} SWANLAB_RUN_NAME=${SWANLAB_RUN_NAME:-perception-sft-$MODEL_SIZE} SWANLAB_MODE=$SWANLAB_MODE"

sets=(--set "model_name_or_path=$MODEL_PATH" --set "dataset_dir=$DATA_DIR" --set "media_dir=$MEDIA_DIR"
      --set "dataset=$DATASET" --set "output_dir=$OUTPUT_DIR")
case "$REPORT_TO" in
  none|wandb|tensorboard) sets+=(--set "report_to=$REPORT_TO") ;;
  swanlab) sets+=(--set "report_to=none" --set "use_swanlab=true" --set "swanlab_project=${SWANLAB_PROJECT:-mgsd}"
                  --set "swanlab_run_name=${SWANLAB_RUN_NAME:-perception-sft-$MODEL_SIZE}" --set "swanlab_mode=$SWANLAB_MODE"
                  --set "swanlab_logdir=${SWANLAB_LOGDIR:-$OUTPUT_DIR/swanlog}") ;;
  *) echo "error: REPORT_TO must be none, wandb, swanlab or tensorboard, got '$REPORT_TO'" >&2; exit 2 ;;
esac
# Resume: the newest complete checkpoint (one with trainer_state.json) of OUTPUT_DIR.
checkpoints=() last=
for dir in "$OUTPUT_DIR"/checkpoint-*; do
  step=${dir##*checkpoint-}
  [[ "$step" =~ ^[0-9]+$ && -f "$dir/trainer_state.json" ]] || continue
  checkpoints+=("$dir")
  [[ -n "$last" ]] && (( step <= ${last##*checkpoint-} )) || last=$dir
done
[[ "$RESUME" == 1 && -n "$last" ]] && sets+=(--set "resume_from_checkpoint=$last")
for kv in ${SFT_OVERRIDES:-}; do sets+=(--set "$kv"); done
cpu_flag=$([[ "$USE_CPU" == 1 ]] && echo --cpu || true)

echo "perception SFT: MODEL_SIZE=$MODEL_SIZE MODEL_PATH=$MODEL_PATH DATA_DIR=$DATA_DIR DATASET=$DATASET" >&2
echo "  MEDIA_DIR=$MEDIA_DIR OUTPUT_DIR=$OUTPUT_DIR USE_CPU=$USE_CPU" >&2
echo "  NPROC_PER_NODE=$NPROC_PER_NODE NNODES=$NNODES NODE_RANK=$NODE_RANK MASTER_ADDR=$MASTER_ADDR MASTER_PORT=$MASTER_PORT" >&2
echo "  REPORT_TO=$REPORT_TO$([[ "$REPORT_TO" == swanlab ]] && echo " ($swan)")" >&2
if [[ "$RESUME" == 1 ]]; then
  echo "  RESUME=1: ${last:+resuming from $last (RESUME=0 starts over)}${last:-no checkpoint in OUTPUT_DIR, starting fresh}" >&2
else
  echo "  RESUME=0: starting over${checkpoints:+; deleting ${#checkpoints[@]} checkpoint(s) in OUTPUT_DIR}" >&2
fi
echo "  config: $CONFIG${SFT_OVERRIDES:+ + $SFT_OVERRIDES}" >&2

PY=${MGSD_SFT_PYTHON:-$(bash requirements/setup_env.sh sft)}
if [[ "${DRY_RUN:-0}" == 1 ]]; then
  exec "$PY" -m mgsd_sft.config train --base "$CONFIG" "${sets[@]}" $cpu_flag --no-check --print
fi
# swanlab >= 0.10 parses SWANLAB_PROJECT as its nested project settings and fails on a plain name: the config has it.
unset SWANLAB_PROJECT
"$PY" -m mgsd_sft.loggers "$REPORT_TO" --mode "$SWANLAB_MODE"
resolved="$OUTPUT_DIR/mgsd_train_config.yaml"
"$PY" -m mgsd_sft.config train --base "$CONFIG" "${sets[@]}" $cpu_flag --out "$resolved"
[[ "$RESUME" == 1 || ${#checkpoints[@]} -eq 0 ]] || rm -rf "${checkpoints[@]}"
echo "  resolved config: $resolved" >&2

export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export NNODES NODE_RANK MASTER_ADDR MASTER_PORT NPROC_PER_NODE
if (( NPROC_PER_NODE > 1 || NNODES > 1 )); then export FORCE_TORCHRUN=1; fi
# llamafactory-cli starts `torchrun` by name: the environment's own, not whatever PATH holds (or nothing).
export PATH="$(dirname "$PY"):$PATH"
exec "$(dirname "$PY")/llamafactory-cli" train "$resolved"
