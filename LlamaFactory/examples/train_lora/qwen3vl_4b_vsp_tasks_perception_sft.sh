#!/usr/bin/env bash
# Upstream MGSD's 4B perception-SFT launcher, kept at its path: MODEL_SIZE=4b LlamaFactory/train_perception_sft.sh.
# Upstream variables accepted (requirements/upstream_env.sh prints each value it takes, and a note for those
# that mean something else here): MODEL_NAME_OR_PATH, DATASET_DIR, MEDIA_DIR, OUTPUT_DIR, CONFIG_PATH,
# CUDA_VISIBLE_DEVICES, NPROC_PER_NODE, SINGLE_NODE, NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT, PYTHON_ENV,
# PYTHON_BIN, LLAMAFACTORY_CLI, SWANLAB_{PROJECT,RUN_NAME,MODE,API_KEY,LOGDIR}, ENABLE_SWANLAB; plus every
# variable of train_perception_sft.sh (RESUME, SFT_OVERRIDES, DRY_RUN, ...).
set -euo pipefail
source "$(dirname "$0")/../../../requirements/upstream_env.sh"
up_sft_train 4b
exec bash LlamaFactory/train_perception_sft.sh
