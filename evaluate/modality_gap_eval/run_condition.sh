#!/usr/bin/env bash
# Upstream MGSD's modality-gap condition, kept at its path: PIPELINES=modality-gap evaluate/run_ckpt_eval.sh, which
# runs every case with the image and as symbolic text (INPUT_MODALITY: both at once) and reports the gap.
# LABEL: MODEL_LABEL, else MODEL_KIND's (base8b | opcd). Other upstream variables: as evaluate/ckpt_eval/run_ckpt_eval.sh.
# DRY_RUN=1 prints the command and exits.
set -euo pipefail
source "$(dirname "$0")/../../requirements/upstream_env.sh"
up_model_kind
[[ -z "${INPUT_MODALITY:-}" ]] || up_note "INPUT_MODALITY=$INPUT_MODALITY ignored: the modality-gap run asks both modalities for every case"
up_map MODEL_LABEL LABEL; [[ -n "${LABEL:-}" ]] || up_export LABEL "$up_kind_label" "MODEL_KIND=${MODEL_KIND:-base}"
up_eval modality
up_run bash evaluate/run_ckpt_eval.sh
