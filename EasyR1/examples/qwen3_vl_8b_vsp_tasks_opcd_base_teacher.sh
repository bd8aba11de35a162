#!/usr/bin/env bash
# Upstream MGSD's 8B OPCD launcher (frozen base-model teacher), kept at its path: MODEL_SIZE=8b EasyR1/train_opcd.sh.
# Checkpoints go to EasyR1/checkpoints/<PROJECT_NAME>/<EXPERIMENT_NAME> as upstream's (VSP_Tasks_OPCD/
# qwen3vl8b_vsp_tasks_mixed_opcd_base_teacher_sft_student_final) unless OUTPUT_DIR is set. Upstream variables
# accepted (requirements/upstream_env.sh): MODEL_PATH, TEACHER_MODEL_PATH, DATA_DIR, VAL_DIR, TRAIN_FILES, VAL_FILES,
# TEACHER_USE_GT, TOTAL_EPOCHS, PROJECT_NAME, EXPERIMENT_NAME, DATA_SEED, IMAGE_{MIN,MAX}_PIXELS, ROLLOUT_BATCH_SIZE,
# GLOBAL_BATCH_SIZE, ACTOR_MICRO_BATCH_{EXPERIENCE,UPDATE}, ROLLOUT_GPU_MEMORY_UTILIZATION,
# ENABLE_GRADIENT_CHECKPOINTING, SWANLAB_API_KEY; plus every variable of train_opcd.sh (DRY_RUN, ...).
set -euo pipefail
source "$(dirname "$0")/../../requirements/upstream_env.sh"
up_opcd_train 8b
exec bash EasyR1/train_opcd.sh
