#!/usr/bin/env bash
# Upstream MGSD's OPCD data preparation (4B and 8B alike), kept at its path: EasyR1/prepare_opcd_data.sh, which
# generates (or reuses) dataset folders and writes OUT_DIR/train.parquet and OUT_DIR/val.parquet [data/opcd].
# Upstream variables accepted (requirements/upstream_env.sh): DATA_ROOT, VAL_RAW_ROOT (dataset folders here),
# JSON_ROOT, TRAIN_SAVE_DIR, {FROZENLAKE,MAZE,MINIBEHAVIOUR}_TRAIN_LEVELS, LIMIT_PER_LEVEL, SAMPLE_PER_LEVEL,
# TEST_SAMPLE_PER_LEVEL, SEED, TEACHER_USE_GT. DRY_RUN=1 prints the command and exits.
set -euo pipefail
source "$(dirname "$0")/../../requirements/upstream_env.sh"
up_opcd_data
up_run bash EasyR1/prepare_opcd_data.sh
