#!/usr/bin/env bash
# Merge a perception-SFT LoRA adapter into its base model: a complete Hugging Face folder (weights,
# processor, tokenizer, chat template, a generation config that keeps every EOS id), checked to load and
# generate before success is reported.
#
#   ADAPTER_PATH=models/saves/qwen3-vl-4b/perception_lora bash LlamaFactory/merge_lora.sh
#
# Environment overrides (defaults in brackets):
#   ADAPTER_PATH     LoRA adapter folder, or one of its checkpoint-N folders (required; or the first argument)
#   BASE_MODEL       base model folder [the adapter's base_model_name_or_path (adapter_config.json) when that
#                    folder exists here, else models/Qwen3-VL-<SIZE>-Instruct]
#   MODEL_SIZE       4b | 8b [from the name of the adapter's base model (…-4B-…), else of ADAPTER_PATH]; needed
#                    only when the adapter's base is not here and no name says
#   EXPORT_DIR       merged model folder [models/ckpts/<base folder name without -Instruct>-Perception-SFT, e.g.
#                    models/ckpts/Qwen3-VL-4B-Perception-SFT]
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
PY=${MGSD_SFT_PYTHON:-$(bash requirements/setup_env.sh sft)}
# The base model the adapter was trained on, as LLaMA-Factory recorded it (empty when there is no adapter yet).
adapter_base=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1])).get("base_model_name_or_path") or "")' \
               "$ADAPTER_PATH/adapter_config.json" 2>/dev/null || true)
if [[ -z "${MODEL_SIZE:-}" ]]; then  # the base's folder name, else the adapter's path (as upstream)
  hint=$([[ -n "$adapter_base" ]] && basename "$adapter_base" || echo "$ADAPTER_PATH")
  case "${hint,,}" in *8b*) MODEL_SIZE=8b ;; *4b*) MODEL_SIZE=4b ;; esac
fi
if [[ -z "${BASE_MODEL:-}" ]]; then
  if [[ -n "$adapter_base" && -f "$adapter_base/config.json" ]]; then BASE_MODEL=$adapter_base
  elif [[ -n "${MODEL_SIZE:-}" ]]; then BASE_MODEL=models/Qwen3-VL-$(size_upper "$MODEL_SIZE")-Instruct
  else echo "error: cannot tell the base model of ADAPTER_PATH $ADAPTER_PATH (adapter_config.json names '${adapter_base}'); set BASE_MODEL or MODEL_SIZE" >&2; exit 2
  fi
fi
[[ -z "${MODEL_SIZE:-}" ]] || size_upper "$MODEL_SIZE" > /dev/null
base_name=$(basename "$BASE_MODEL")
EXPORT_DIR=${EXPORT_DIR:-models/ckpts/${base_name%-Instruct}-Perception-SFT}
sets=(--set "model_name_or_path=$BASE_MODEL" --set "adapter_name_or_path=$ADAPTER_PATH" --set "export_dir=$EXPORT_DIR"
      --set "export_device=${EXPORT_DEVICE:-cpu}" --set "export_size=${EXPORT_SIZE:-5}" --set "infer_dtype=${INFER_DTYPE:-bfloat16}")
echo "LoRA merge: ADAPTER_PATH=$ADAPTER_PATH BASE_MODEL=$BASE_MODEL${adapter_base:+ (adapter_config.json: $adapter_base)} EXPORT_DIR=$EXPORT_DIR" >&2

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
