#!/usr/bin/env bash
# Upstream MGSD's vLLM replicas (one per GPU), kept at its path: evaluate/serve_vllm.sh [REPLICAS: the visible GPUs].
#   MODEL_PATH=models/ckpts/<your-checkpoint> bash evaluate/ckpt_eval/serve_ckpt_8x.sh
# Upstream variables accepted (requirements/upstream_env.sh): REPLICAS, BASE_PORT, MODEL_PATH, SERVED_MODEL_NAME,
# API_KEY, LOG_DIR, CUDA_DEVICES, MAX_NUM_SEQS, MAX_NUM_BATCHED_TOKENS, GPU_MEMORY_UTILIZATION, MAX_MODEL_LEN.
# DRY_RUN=1 prints the command and exits.
set -euo pipefail
source "$(dirname "$0")/../../requirements/upstream_env.sh"
up_serve "" ""
up_run bash evaluate/serve_vllm.sh
