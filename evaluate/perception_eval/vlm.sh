#!/usr/bin/env bash
# Upstream MGSD's vLLM replicas for the perception evaluation, kept at its path: evaluate/serve_vllm.sh of the merged
# 8B perception-SFT model [MODEL_PATH: models/ckpts/Qwen3-VL-8B-Perception-SFT], one replica per GPU.
# Upstream variables accepted (requirements/upstream_env.sh): MODEL_PATH, SERVED_MODEL_NAME, VLLM_BIN, REPLICAS,
# BASE_PORT, LOG_DIR, HOST, API_KEY, GPU_MEMORY_UTILIZATION, MAX_MODEL_LEN, MAX_NUM_SEQS, MAX_NUM_BATCHED_TOKENS,
# LIMIT_MM_PER_PROMPT, MM_PROCESSOR_KWARGS, ENABLE_PREFIX_CACHING. DRY_RUN=1 prints the command and exits.
set -euo pipefail
source "$(dirname "$0")/../../requirements/upstream_env.sh"
up_serve "" models/ckpts/Qwen3-VL-8B-Perception-SFT
up_run bash evaluate/serve_vllm.sh
