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
#   OUTPUT_DIR       adapter and checkpoints [models/saves/qwen3-vl-<size>/perception_lora]
#   NPROC_PER_NODE   processes (GPUs) per node [all visible GPUs, or 1]
#   NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT   multi-node torchrun [1, 0, 127.0.0.1, 29500]
#   USE_CPU          1 forces the CPU profile (no bf16, no workers) [auto: 1 when no GPU is visible]
#   REPORT_TO        none | wandb | swanlab | tensorboard [none]; swanlab reads SWANLAB_PROJECT,
#                    SWANLAB_RUN_NAME, SWANLAB_MODE, SWANLAB_API_KEY; wandb reads WANDB_* itself
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
OUTPUT_DIR=${OUTPUT_DIR:-models/saves/qwen3-vl-${MODEL_SIZE}/perception_lora}
gpus=$(gpu_count)
NPROC_PER_NODE=${NPROC_PER_NODE:-$(( gpus > 0 ? gpus : 1 ))}
NNODES=${NNODES:-1}; NODE_RANK=${NODE_RANK:-0}; MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}; MASTER_PORT=${MASTER_PORT:-29500}
USE_CPU=${USE_CPU:-$([[ "$gpus" -eq 0 ]] && echo 1 || echo 0)}
REPORT_TO=${REPORT_TO:-none}

sets=(--set "model_name_or_path=$MODEL_PATH" --set "dataset_dir=$DATA_DIR" --set "media_dir=$DATA_DIR"
      --set "dataset=$DATASET" --set "output_dir=$OUTPUT_DIR")
case "$REPORT_TO" in
  none|wandb|tensorboard) sets+=(--set "report_to=$REPORT_TO") ;;
  swanlab) sets+=(--set "report_to=none" --set "use_swanlab=true" --set "swanlab_project=${SWANLAB_PROJECT:-mgsd}"
                  --set "swanlab_run_name=${SWANLAB_RUN_NAME:-perception-sft-$MODEL_SIZE}" --set "swanlab_mode=${SWANLAB_MODE:-cloud}") ;;
  *) echo "error: REPORT_TO must be none, wandb, swanlab or tensorboard, got '$REPORT_TO'" >&2; exit 2 ;;
esac
for kv in ${SFT_OVERRIDES:-}; do sets+=(--set "$kv"); done
cpu_flag=$([[ "$USE_CPU" == 1 ]] && echo --cpu || true)

echo "perception SFT: MODEL_SIZE=$MODEL_SIZE MODEL_PATH=$MODEL_PATH DATA_DIR=$DATA_DIR DATASET=$DATASET" >&2
echo "  OUTPUT_DIR=$OUTPUT_DIR NPROC_PER_NODE=$NPROC_PER_NODE NNODES=$NNODES NODE_RANK=$NODE_RANK USE_CPU=$USE_CPU REPORT_TO=$REPORT_TO" >&2
echo "  config: $CONFIG${SFT_OVERRIDES:+ + $SFT_OVERRIDES}" >&2

PY=${MGSD_SFT_PYTHON:-$(bash requirements/setup_env.sh sft)}
if [[ "${DRY_RUN:-0}" == 1 ]]; then
  exec "$PY" -m mgsd_sft.config train --base "$CONFIG" "${sets[@]}" $cpu_flag --no-check --print
fi
resolved="$OUTPUT_DIR/mgsd_train_config.yaml"
"$PY" -m mgsd_sft.config train --base "$CONFIG" "${sets[@]}" $cpu_flag --out "$resolved"
echo "  resolved config: $resolved" >&2

export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export NNODES NODE_RANK MASTER_ADDR MASTER_PORT NPROC_PER_NODE
if (( NPROC_PER_NODE > 1 || NNODES > 1 )); then export FORCE_TORCHRUN=1; fi
exec "$(dirname "$PY")/llamafactory-cli" train "$resolved"
