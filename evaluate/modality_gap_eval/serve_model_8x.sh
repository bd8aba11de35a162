#!/usr/bin/env bash
# Upstream MGSD's modality-gap servers (one replica per GPU), kept at its path: evaluate/serve_vllm.sh of the MODEL_KIND's model
# (base: models/Qwen3-VL-8B-Instruct, opcd: models/ckpts/Qwen3-VL-4B-VSP-Tasks-OPCD-Mixed) unless MODEL_PATH is set.
# Upstream variables accepted (requirements/upstream_env.sh): MODEL_KIND, MODEL_PATH, SERVED_MODEL_NAME, PORT,
# REPLICAS, BASE_PORT, API_KEY, LOG_DIR, MAX_NUM_SEQS, MAX_NUM_BATCHED_TOKENS, GPU_MEMORY_UTILIZATION, MAX_MODEL_LEN.
# DRY_RUN=1 prints the command and exits.
set -euo pipefail
source "$(dirname "$0")/../../requirements/upstream_env.sh"
up_model_kind
up_serve "" "$up_kind_model"
up_run bash evaluate/serve_vllm.sh
