#!/usr/bin/env bash
# Upstream MGSD's OPCD checkpoint merge, kept at its path: EasyR1/merge_checkpoint.sh (verl FSDP or single-process
# checkpoints; the result is completed and checked to load and generate).
#   bash EasyR1/examples/merge_vsp_tasks_opcd_checkpoint.sh EasyR1/checkpoints/VSP_Tasks_OPCD/<experiment>/global_step_<N>
# Upstream variables accepted (requirements/upstream_env.sh): CKPT_PATH, EXPORT_DIR [<checkpoint>/huggingface],
# PYTHON_BIN, HF_UPLOAD_PATH, PROJECT_ROOT, REPO_ROOT. DRY_RUN=1 prints the command and exits.
set -euo pipefail
source "$(dirname "$0")/../../requirements/upstream_env.sh"
up_opcd_merge "$@"
up_run bash EasyR1/merge_checkpoint.sh "${CKPT_PATH:-}"
