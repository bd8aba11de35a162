#!/usr/bin/env bash
# Merge a perception-SFT LoRA adapter into its base model: a complete Hugging Face folder (weights,
# processor, tokenizer, chat template, a generation config that keeps every EOS id), checked to load and
# generate before success is reported.
#
#   ADAPTER_PATH=models/saves/qwen3-vl-4b/perception_lora MODEL_SIZE=4b bash LlamaFactory/merge_lora.sh
#
# Environment overrides (defaults in brackets):
#   ADAPTER_PATH     LoRA adapter folder (required; or the first argument)
#   MODEL_SIZE       4b | 8b [4b]; BASE_MODEL defaults from it
#   BASE_MODEL       base model folder [models/Qwen3-VL-<SIZE>-Instruct]
#   EXPORT_DIR       merged model folder [models/ckpts/Qwen3-VL-<SIZE>-Perception-SFT]
#   EXPORT_DEVICE    cpu | auto [cpu];  EXPORT_SIZE  shard size in GB [5];  INFER_DTYPE [bfloat16]
#   DRY_RUN          1 prints the resolved export YAML and exits
#   MGSD_SFT_PYTHON  python of your own environment instead of .venvs/sft
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$repo"
source requirements/launch_lib.sh

ADAPTER_PATH=${ADAPTER_PATH:-${1:-}}
[[ -n "$ADAPTER_PATH" ]] || { echo "error: set ADAPTER_PATH (the LoRA adapter folder) or pass it as the first argument" >&2; exit 2; }
MODEL_SIZE=${MODEL_SIZE:-4b}
size_upper=$(size_upper "$MODEL_SIZE")
BASE_MODEL=${BASE_MODEL:-models/Qwen3-VL-${size_upper}-Instruct}
EXPORT_DIR=${EXPORT_DIR:-models/ckpts/Qwen3-VL-${size_upper}-Perception-SFT}
sets=(--set "model_name_or_path=$BASE_MODEL" --set "adapter_name_or_path=$ADAPTER_PATH" --set "export_dir=$EXPORT_DIR"
      --set "export_device=${EXPORT_DEVICE:-cpu}" --set "export_size=${EXPORT_SIZE:-5}" --set "infer_dtype=${INFER_DTYPE:-bfloat16}")
echo "LoRA merge: ADAPTER_PATH=$ADAPTER_PATH BASE_MODEL=$BASE_MODEL EXPORT_DIR=$EXPORT_DIR" >&2

PY=${MGSD_SFT_PYTHON:-$(bash requirements/setup_env.sh sft)}
if [[ "${DRY_RUN:-0}" == 1 ]]; then
  exec "$PY" -m mgsd_sft.config export --base "$here/configs/merge_lora.yaml" "${sets[@]}" --no-check --print
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" -m mgsd_sft.config export --base "$here/configs/merge_lora.yaml" "${sets[@]}" --out "$work/merge.yaml"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
"$(dirname "$PY")/llamafactory-cli" export "$work/merge.yaml"
"$PY" -m mgsd_sft.checkpoint complete --base "$BASE_MODEL" --merged "$EXPORT_DIR"
"$PY" -m mgsd_sft.checkpoint verify "$EXPORT_DIR"
echo "merged model: $EXPORT_DIR" >&2
