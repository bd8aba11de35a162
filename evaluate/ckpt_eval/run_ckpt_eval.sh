#!/usr/bin/env bash
# Upstream MGSD's checkpoint planning evaluation, kept at its path: PIPELINES=planning evaluate/run_ckpt_eval.sh.
# Upstream's benchmark folders (DATASET_ROOT [data/VisualPlanning/dataset], FROZENLAKE_BENCH_ROOT
# [data/DiffThinker/FrozenLake/VSP/maps]) are imported once into data/benchmarks/ and evaluated.
# Upstream variables accepted (requirements/upstream_env.sh): API_CONFIG, MODEL_NAME, BASE_URLS, API_KEY, OUTPUT,
# SAMPLES_PER_TASK, WORKERS, MAX_TOKENS, TEMPERATURE, TOP_P, SEED (others: a note). DRY_RUN=1 prints the command.
set -euo pipefail
source "$(dirname "$0")/../../requirements/upstream_env.sh"
[[ $# -eq 0 ]] || up_note "arguments ignored ($*): they were flags of upstream's Python script; use EVAL_ARGS for mgsd eval flags"
up_eval ckpt
up_run bash evaluate/run_ckpt_eval.sh
