#!/usr/bin/env bash
# Turn an OPCD checkpoint into a complete Hugging Face folder (loadable by vLLM, llamafactory-cli api, Transformers).
#
#   bash EasyR1/merge_checkpoint.sh EasyR1/checkpoints/mgsd_opcd/qwen3vl4b_verl/global_step_100
#
# verl FSDP checkpoints (global_step_N or global_step_N/actor) are merged with `python -m verl.model_merger merge
# --backend fsdp`; single-process checkpoints are Hugging Face folders already and are copied. The result is
# then completed from BASE_MODEL (processor, tokenizer, chat template, every EOS id) and must load offline and
# generate from a task image before this reports success.
#
# Environment overrides (defaults in brackets):
#   CKPT_PATH          the checkpoint (or the first argument)
#   EXPORT_DIR         output folder [<checkpoint>/huggingface]; replaced atomically
#   BASE_MODEL         folder to complete processor/tokenizer files from [the checkpoint's huggingface/ config
#                      folder for verl, else MODEL_PATH]
#   MODEL_PATH         the student init, used as BASE_MODEL fallback [models/ckpts/Qwen3-VL-4B-Perception-SFT]
#   VERIFY             1 loads the result and generates [1]
#   MGSD_OPCD_PYTHON   python of your own environment instead of .venvs/opcd
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
CKPT_PATH=${1:-${CKPT_PATH:-}}
[[ -n "$CKPT_PATH" ]] || { echo "error: give the checkpoint as the first argument or CKPT_PATH" >&2; exit 2; }
[[ -d "$CKPT_PATH" ]] || { echo "error: $CKPT_PATH is not a folder" >&2; exit 2; }
actor=$CKPT_PATH
[[ -d "$CKPT_PATH/actor" ]] && actor=$CKPT_PATH/actor
EXPORT_DIR=${EXPORT_DIR:-$CKPT_PATH/huggingface}
if [[ -f "$actor/fsdp_config.json" ]]; then
  kind=fsdp
  ls "$actor"/model_world_size_*_rank_0.pt >/dev/null 2>&1 || { echo "error: $actor has no model_world_size_*_rank_0.pt shards" >&2; exit 2; }
  BASE_MODEL=${BASE_MODEL:-$actor/huggingface}
elif [[ -f "$CKPT_PATH/config.json" ]]; then
  kind=hf
  BASE_MODEL=${BASE_MODEL:-${MODEL_PATH:-models/ckpts/Qwen3-VL-4B-Perception-SFT}}
else
  echo "error: $CKPT_PATH is neither a verl FSDP checkpoint (fsdp_config.json) nor a Hugging Face folder (config.json)" >&2; exit 2
fi
echo "merge: CKPT_PATH=$CKPT_PATH ($kind) EXPORT_DIR=$EXPORT_DIR BASE_MODEL=$BASE_MODEL" >&2
PY=${MGSD_OPCD_PYTHON:-$(bash requirements/setup_env.sh opcd)}
export HF_HUB_OFFLINE=1
tmp="$EXPORT_DIR.incomplete"
rm -rf "$tmp"
if [[ "$kind" == fsdp ]]; then
  "$PY" -m verl.model_merger merge --backend fsdp --local_dir "$actor" --target_dir "$tmp" >&2
else
  mkdir -p "$tmp"
  for f in "$CKPT_PATH"/*; do [[ -f "$f" && "$(basename "$f")" != trainer_state.pt ]] && cp "$f" "$tmp/"; done
fi
"$PY" -m mgsd_sft.checkpoint complete --base "$BASE_MODEL" --merged "$tmp"
if [[ "${VERIFY:-1}" == 1 ]]; then "$PY" -m mgsd_sft.checkpoint verify "$tmp"; fi
rm -rf "$EXPORT_DIR"
mv "$tmp" "$EXPORT_DIR"
echo "merged: $EXPORT_DIR" >&2
