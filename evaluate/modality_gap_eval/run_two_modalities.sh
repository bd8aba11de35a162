#!/usr/bin/env bash
# Upstream MGSD's two-modality run with its comparison, kept at its path: PIPELINES=modality-gap
# evaluate/run_ckpt_eval.sh (image and text conditions of every case in one run, then the report with the gap tables).
# Variables: as evaluate/modality_gap_eval/run_condition.sh. DRY_RUN=1 prints the command and exits.
set -euo pipefail
source "$(dirname "$0")/../../requirements/upstream_env.sh"
INPUT_MODALITY= exec bash evaluate/modality_gap_eval/run_condition.sh "$@"
