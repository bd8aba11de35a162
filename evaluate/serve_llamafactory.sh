#!/usr/bin/env bash
# Serve a model with `llamafactory-cli api` (Hugging Face backend): the OpenAI-compatible endpoint for CPU
# machines (vLLM cannot run Qwen-VL on CPU) and for quick checks on one GPU. Runs in the foreground; stop it
# with Ctrl-C or SIGTERM.
#
#   MODEL_PATH=models/tiny-qwen3-vl PORT=8010 bash evaluate/serve_llamafactory.sh
#   # -> http://127.0.0.1:8010/v1 ; then: mgsd eval planning --base-url http://127.0.0.1:8010/v1 ...
#
# Environment overrides (defaults in brackets):
#   MODEL_PATH        model folder (a merged checkpoint or a base model) [required]
#   SERVED_NAME       name listed by /v1/models [the folder's name]
#   HOST, PORT        [127.0.0.1, 8000]
#   TEMPLATE          LLaMA-Factory chat template [qwen3_vl_nothink: Qwen3-VL Instruct]
#   MAX_NEW_TOKENS    default generation limit when a request sets none [1024]
#   IMAGE_MAX_PIXELS, IMAGE_MIN_PIXELS   image pixel limits as in training [262144, 65536]
#   API_KEY           require this bearer key (read from the environment, never printed)
#   MGSD_SFT_PYTHON   python of your own environment instead of .venvs/sft
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
source requirements/launch_lib.sh
MODEL_PATH=${MODEL_PATH:?set MODEL_PATH to the model folder to serve}
require_hf_model "$MODEL_PATH"
SERVED_NAME=${SERVED_NAME:-$(basename "$MODEL_PATH")}
HOST=${HOST:-127.0.0.1}; PORT=${PORT:-8000}
TEMPLATE=${TEMPLATE:-qwen3_vl_nothink}
MAX_NEW_TOKENS=${MAX_NEW_TOKENS:-1024}
IMAGE_MAX_PIXELS=${IMAGE_MAX_PIXELS:-262144}; IMAGE_MIN_PIXELS=${IMAGE_MIN_PIXELS:-65536}
echo "serve (llamafactory api): MODEL_PATH=$MODEL_PATH SERVED_NAME=$SERVED_NAME http://$HOST:$PORT/v1 TEMPLATE=$TEMPLATE" >&2
PY=${MGSD_SFT_PYTHON:-$(bash requirements/setup_env.sh sft)}
export HF_HUB_OFFLINE=1 API_HOST=$HOST API_PORT=$PORT API_MODEL_NAME=$SERVED_NAME
[[ -n "${API_KEY:-}" ]] && export API_KEY
exec "$(dirname "$PY")/llamafactory-cli" api --model_name_or_path "$MODEL_PATH" --template "$TEMPLATE" \
  --infer_backend huggingface --trust_remote_code false --max_new_tokens "$MAX_NEW_TOKENS" \
  --image_max_pixels "$IMAGE_MAX_PIXELS" --image_min_pixels "$IMAGE_MIN_PIXELS"
