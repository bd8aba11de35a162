#!/usr/bin/env bash
# Upstream MGSD's LoRA merge, kept at its path: LlamaFactory/merge_lora.sh, which reads the base model and size
# from the adapter (adapter_config.json).
#   bash LlamaFactory/examples/merge_lora/merge_vsp_tasks_perception_sft.sh <adapter or checkpoint-N folder>
# Upstream variables accepted (requirements/upstream_env.sh): ADAPTER_PATH, MODEL_SIZE (4b|8b, any case),
# BASE_MODEL, EXPORT_DIR, EXPORT_DEVICE, EXPORT_SIZE, PYTHON_ENV, LLAMAFACTORY_CLI; plus merge_lora.sh's DRY_RUN.
set -euo pipefail
source "$(dirname "$0")/../../../requirements/upstream_env.sh"
up_sft_merge "$@"
exec bash LlamaFactory/merge_lora.sh
