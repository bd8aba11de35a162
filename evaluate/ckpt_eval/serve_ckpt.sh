#!/usr/bin/env bash
# Upstream MGSD's single vLLM server, kept at its path: REPLICAS=1 evaluate/serve_vllm.sh.
# Upstream variables accepted (requirements/upstream_env.sh): MODEL_PATH, SERVED_MODEL_NAME, HOST, PORT, API_KEY,
# GPU_MEMORY_UTILIZATION, MAX_MODEL_LEN, MAX_NUM_SEQS, MAX_NUM_BATCHED_TOKENS, LIMIT_MM_PER_PROMPT,
# MM_PROCESSOR_KWARGS, TENSOR_PARALLEL_SIZE, ENABLE_PREFIX_CACHING. DRY_RUN=1 prints the command and exits.
set -euo pipefail
source "$(dirname "$0")/../../requirements/upstream_env.sh"
up_serve 1 ""
up_run bash evaluate/serve_vllm.sh
