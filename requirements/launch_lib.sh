# Helpers shared by the stage launchers (sourced, not run): one wording for each early error.

# size_upper SIZE: "4B" for 4b, "8B" for 8b; any other size is an error (exit 2).
size_upper() {
  case "$1" in 4b|8b) echo "$1" | tr '[:lower:]' '[:upper:]' ;;
    *) echo "error: MODEL_SIZE must be 4b or 8b, got '$1'" >&2; exit 2 ;; esac
}

# gpu_count: visible NVIDIA GPUs (0 without a driver).
gpu_count() { (nvidia-smi -L 2>/dev/null || true) | grep -c "^GPU" || true; }

# gpu_memory_gb: memory of the smallest visible NVIDIA GPU in GiB (empty without a driver).
gpu_memory_gb() {
  (nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits 2>/dev/null || true) |
    awk 'NF && ($1 < min || !min) {min = $1} END {if (min) printf "%.1f\n", min / 1024}'
}

# require_hf_model PATH...: each must be a Hugging Face model folder.
require_hf_model() {
  local path
  for path in "$@"; do
    [[ -f "$path/config.json" ]] || { echo "error: $path is not a Hugging Face model folder (no config.json)" >&2; exit 2; }
  done
}

# abs_path PATH: PATH made absolute against the current directory (it need not exist); empty stays empty.
abs_path() { [[ -z "$1" || "$1" == /* ]] && echo "$1" || echo "$PWD/$1"; }

# require_cuda_driver PY: on a GPU machine, stop with one line when the NVIDIA driver is older than the CUDA that
# PY's torch was built for needs (the opcd lock's torch 2.11.0 is a CUDA 13 build: driver 580 or newer).
require_cuda_driver() {
  local cuda driver need
  # torch/version.py read as text: importing torch takes seconds.
  cuda=$("$1" -c "import importlib.util as u, pathlib, re; s = u.find_spec('torch')
m = s and re.search(r\"^cuda\\b.*?'([0-9.]+)'\", (pathlib.Path(s.origin).parent / 'version.py').read_text(), re.M)
print(m.group(1) if m else '')" 2>/dev/null || true)
  driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' ')
  case "${cuda%%.*}" in 13) need=580 ;; 12) need=525 ;; *) return 0 ;; esac
  [[ "${driver%%.*}" =~ ^[0-9]+$ ]] || return 0
  (( ${driver%%.*} >= need )) || { echo "error: NVIDIA driver $driver cannot run CUDA $cuda (the torch of $1 needs driver >= $need): update the driver, or rebuild the environment for your CUDA, e.g. MGSD_TORCH_PIP_ARGS='--index-url https://download.pytorch.org/whl/cu128' bash requirements/setup_env.sh opcd (EasyR1/README.md)" >&2; exit 2; }
}

# run_then_free_shm CMD...: run CMD (signals reach it) and then remove the vLLM shared-memory segments
# (/dev/shm/psm_*) that appeared meanwhile and that no live process still maps: vLLM servers killed by Ray
# leave theirs behind (160-240 MB each). Segments of other runs are never touched. Returns CMD's status.
run_then_free_shm() {
  local before pid rc=0 seg i
  before=$(ls /dev/shm 2>/dev/null | grep '^psm_' || true)
  "$@" & pid=$!
  trap 'kill -TERM $pid 2>/dev/null' INT TERM
  wait $pid || rc=$?
  while kill -0 $pid 2>/dev/null; do wait $pid || rc=$?; done   # a trapped signal interrupts the first wait
  trap - INT TERM
  for seg in $(ls /dev/shm 2>/dev/null | grep '^psm_' || true); do
    grep -qx "$seg" <<<"$before" && continue
    for i in 1 2 3 4 5 6 7 8 9 10; do   # Ray stops the servers' processes shortly after the driver exits
      grep -qs "/dev/shm/$seg" /proc/[0-9]*/maps || break
      sleep 1
    done
    grep -qs "/dev/shm/$seg" /proc/[0-9]*/maps || rm -f "/dev/shm/$seg"
  done
  return $rc
}
