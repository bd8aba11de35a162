#!/usr/bin/env bash
# Serve a checkpoint with vLLM: N replicas, one per GPU, on consecutive ports; Ctrl-C or SIGTERM stops them all.
#
#   MODEL_PATH=models/ckpts/Qwen3-VL-4B-OPCD REPLICAS=8 bash evaluate/serve_vllm.sh
#   # -> http://127.0.0.1:8000/v1 ... http://127.0.0.1:8007/v1 (pass them all to mgsd eval --base-url)
#
# Environment overrides (defaults in brackets):
#   MODEL_PATH        model folder [required]
#   SERVED_NAME       name in /v1/models [the folder's name]
#   REPLICAS          servers, one GPU each [number of visible GPUs, or 1]
#   TP                tensor parallel size per replica (REPLICAS x TP GPUs in all) [1]
#   HOST, BASE_PORT   replica i listens on BASE_PORT + i [127.0.0.1, 8000]
#   MAX_MODEL_LEN     [12288]; GPU_MEMORY_UTILIZATION [0.9]; MAX_NUM_SEQS [64]
#   MIN_PIXELS, MAX_PIXELS   image limits as in training [65536, 262144]
#   LOG_DIR           one log per replica [logs/vllm]
#   API_KEY           require this key (from the environment; never printed)
#   VLLM_ARGS         extra `vllm serve` arguments
#   MGSD_OPCD_PYTHON  python with vLLM [.venvs/opcd, created with MGSD_TORCH=cuda]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
source requirements/launch_lib.sh
MODEL_PATH=${MODEL_PATH:?set MODEL_PATH to the model folder to serve}
require_hf_model "$MODEL_PATH"
SERVED_NAME=${SERVED_NAME:-$(basename "$MODEL_PATH")}
gpus=$(gpu_count)
TP=${TP:-1}
REPLICAS=${REPLICAS:-$(( gpus >= TP && gpus > 0 ? gpus / TP : 1 ))}
HOST=${HOST:-127.0.0.1}; BASE_PORT=${BASE_PORT:-8000}
MAX_MODEL_LEN=${MAX_MODEL_LEN:-12288}; GPU_MEMORY_UTILIZATION=${GPU_MEMORY_UTILIZATION:-0.9}; MAX_NUM_SEQS=${MAX_NUM_SEQS:-64}
MIN_PIXELS=${MIN_PIXELS:-65536}; MAX_PIXELS=${MAX_PIXELS:-262144}
LOG_DIR=${LOG_DIR:-logs/vllm}
PY=${MGSD_OPCD_PYTHON:-$(MGSD_TORCH=cuda bash requirements/setup_env.sh opcd)}
"$PY" -c "import vllm" 2>/dev/null || { echo "error: vLLM is not importable with $PY (GPU machines: MGSD_TORCH=cuda bash requirements/setup_env.sh opcd)" >&2; exit 2; }
mkdir -p "$LOG_DIR"
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT INT TERM
urls=()
for ((i = 0; i < REPLICAS; i++)); do
  first=$(( i * TP )); devices=$(seq -s, "$first" $(( first + TP - 1 )))
  port=$(( BASE_PORT + i ))
  CUDA_VISIBLE_DEVICES=$devices HF_HUB_OFFLINE=1 "$(dirname "$PY")/vllm" serve "$MODEL_PATH" \
    --served-model-name "$SERVED_NAME" --host "$HOST" --port "$port" --tensor-parallel-size "$TP" \
    --max-model-len "$MAX_MODEL_LEN" --gpu-memory-utilization "$GPU_MEMORY_UTILIZATION" --max-num-seqs "$MAX_NUM_SEQS" \
    --limit-mm-per-prompt '{"image": 1}' --mm-processor-kwargs "{\"min_pixels\": $MIN_PIXELS, \"max_pixels\": $MAX_PIXELS}" \
    --enable-prefix-caching ${API_KEY:+--api-key "$API_KEY"} ${VLLM_ARGS:-} > "$LOG_DIR/replica_$i.log" 2>&1 &
  pids+=($!)
  urls+=("http://$HOST:$port/v1")
done
echo "vLLM: $REPLICAS replica(s) of $MODEL_PATH as '$SERVED_NAME' (TP=$TP); logs in $LOG_DIR/" >&2
printf '  %s\n' "${urls[@]}" >&2
wait -n "${pids[@]}"
echo "error: a replica exited; see $LOG_DIR/" >&2
exit 1
