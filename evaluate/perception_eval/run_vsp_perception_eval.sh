#!/usr/bin/env bash
# Upstream MGSD's perception evaluation, kept at its path: PIPELINES=perception evaluate/run_ckpt_eval.sh on dataset
# folders (DATA_DIRS [data/quickstart/test]; upstream read its SFT training JSON).
# Upstream variables accepted (requirements/upstream_env.sh): API_CONFIG, MODEL_NAME, OUTPUT, SAMPLES_PER_LEVEL,
# WORKERS, REPLICAS, BASE_PORT, HOST, API_KEY, MAX_TOKENS, TEMPERATURE, TIMEOUT (others: a note). DRY_RUN=1 prints
# the command and exits.
set -euo pipefail
source "$(dirname "$0")/../../requirements/upstream_env.sh"
[[ $# -eq 0 ]] || up_note "arguments ignored ($*): they were flags of upstream's Python script; use EVAL_ARGS for mgsd eval flags"
up_eval perception
up_run bash evaluate/run_ckpt_eval.sh
