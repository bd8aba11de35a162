# Helpers shared by the stage launchers (sourced, not run): one wording for each early error.

# size_upper SIZE: "4B" for 4b, "8B" for 8b; any other size is an error (exit 2).
size_upper() {
  case "$1" in 4b|8b) echo "$1" | tr '[:lower:]' '[:upper:]' ;;
    *) echo "error: MODEL_SIZE must be 4b or 8b, got '$1'" >&2; exit 2 ;; esac
}

# gpu_count: visible NVIDIA GPUs (0 without a driver).
gpu_count() { (nvidia-smi -L 2>/dev/null || true) | grep -c "^GPU" || true; }

# require_hf_model PATH...: each must be a Hugging Face model folder.
require_hf_model() {
  local path
  for path in "$@"; do
    [[ -f "$path/config.json" ]] || { echo "error: $path is not a Hugging Face model folder (no config.json)" >&2; exit 2; }
  done
}

# abs_path PATH: PATH made absolute against the current directory (it need not exist); empty stays empty.
abs_path() { [[ -z "$1" || "$1" == /* ]] && echo "$1" || echo "$PWD/$1"; }
