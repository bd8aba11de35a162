#!/usr/bin/env bash
# Upstream MGSD's closed-source / OpenAI-compatible API evaluation, kept at its path: evaluate/run_api_eval.sh
# (direct prompt). Keeps upstream's smoke default of one case (here: per task and level); SAMPLES_PER_TASK=0 runs all.
# Upstream variables accepted (requirements/upstream_env.sh): OPENAI_API_KEY, OPENAI_BASE_URL, API_KEY_FILE, MODELS,
# TASKS, DATASET_ROOT, FROZENLAKE_BENCH_ROOT, OUTPUT_DIR, SAMPLES_PER_TASK, WORKERS, MAX_TOKENS, TOKEN_FIELD,
# TEMPERATURE, TOP_P, TIMEOUT, RETRIES (others: a note). DRY_RUN=1 prints the command and exits.
set -euo pipefail
source "$(dirname "$0")/../../requirements/upstream_env.sh"
[[ $# -eq 0 ]] || up_note "arguments ignored ($*): they were flags of upstream's Python script; use EVAL_ARGS for mgsd eval flags"
up_eval api
up_run bash evaluate/run_api_eval.sh
