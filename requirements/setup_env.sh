#!/usr/bin/env bash
# Create or update the environment NAME (.venvs/NAME) from requirements/NAME.txt, idempotently,
# and print its python path on stdout (progress goes to stderr).
#
#   PY=$(bash requirements/setup_env.sh eval)
#
# Overrides:
#   MGSD_<NAME>_PYTHON  use this interpreter (your own conda env or venv) as it is; nothing is installed
#   MGSD_BASE_PYTHON    interpreter that creates the venv (default: python3)
#   MGSD_VENVS          where environments live (default: <repo>/.venvs)
#   MGSD_TORCH=cpu|cuda torch wheels for environments that need torch (default: cuda if nvidia-smi works)
#   MGSD_TORCH_PIP_ARGS extra pip arguments for the torch install (e.g. an --index-url of your mirror)
#
# Every requirements file is a complete pinned set, installed with --no-deps. A file with the line
# "# mgsd-needs: torch" gets torch==2.13.0 first; on CPU, where every torchvision/torchaudio wheel on
# PyPI is a CUDA build that cannot import, those two stay out and the CPU compatibility step
# (LlamaFactory/mgsd_sft/cpu_compat.py) is installed as a .pth hook instead.
set -euo pipefail
name=${1:?usage: setup_env.sh NAME   (one of: $(cd "$(dirname "$0")" && ls *.txt | grep -v -e core -e test -e constraints | sed 's/\.txt$//' | tr '\n' ' '))}
repo=$(cd "$(dirname "$0")/.." && pwd)
req="$repo/requirements/$name.txt"
[[ -f "$req" ]] || { echo "setup_env.sh: no requirements file $req" >&2; exit 2; }

override_var="MGSD_$(echo "$name" | tr '[:lower:]-' '[:upper:]_')_PYTHON"
if [[ -n "${!override_var:-}" ]]; then
  py=${!override_var}
  "$py" -c "import task_envs" 2>/dev/null || { echo "setup_env.sh: $override_var=$py cannot import task_envs; run: $py -m pip install -e $repo" >&2; exit 2; }
  echo "$py"; exit 0
fi

venv="${MGSD_VENVS:-$repo/.venvs}/$name"
py="$venv/bin/python"
# The environment is current when the hash of its inputs matches the stamp written after the last install.
stamp="$venv/.mgsd-stamp"
torch_kind=${MGSD_TORCH:-$(nvidia-smi -L >/dev/null 2>&1 && echo cuda || echo cpu)}
want=$( (cat "$repo"/requirements/*.txt "$repo/pyproject.toml" "$repo/LlamaFactory/mgsd_sft/cpu_compat.py"; echo "$torch_kind") | sha256sum | cut -d' ' -f1)
if [[ -x "$py" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "$py"; exit 0
fi

echo "setup_env.sh: preparing environment '$name' in $venv" >&2
"${MGSD_BASE_PYTHON:-python3}" -m venv "$venv" >&2
pip_install() { "$py" -m pip install --quiet --disable-pip-version-check "$@" >&2; }
rm -f "$venv"/lib/python*/site-packages/mgsd_cpu_compat.pth
gpu_req="$repo/requirements/$name-gpu.txt"
use_gpu_req=$([[ "$torch_kind" == cuda && -f "$gpu_req" ]] && echo 1 || echo 0)
if [[ $use_gpu_req == 1 ]]; then
  # A GPU stack that pins its own torch (verl[vllm]): let pip resolve it.
  echo "setup_env.sh: installing $gpu_req (resolved with dependencies)" >&2
  pip_install -r "$gpu_req"
elif grep -q "^# mgsd-needs: torch" "$req"; then
  echo "setup_env.sh: installing torch ($torch_kind)" >&2
  if [[ "$torch_kind" == cuda ]]; then
    pip_install ${MGSD_TORCH_PIP_ARGS:-} torch==2.13.0 torchvision==0.28.0 torchaudio==2.11.0
  else
    pip_install ${MGSD_TORCH_PIP_ARGS:-} -c "$repo/requirements/constraints-cpu.txt" torch
    "$py" -m pip uninstall --quiet -y torchvision torchaudio >&2 2>/dev/null || true
  fi
fi
[[ $use_gpu_req == 1 ]] || pip_install --no-deps -r "$req"
pip_install --no-deps -e "$repo"
if grep -q "^# mgsd-needs: torch" "$req" && ! "$py" -c "import torchvision" 2>/dev/null; then
  site=$("$py" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  echo "import mgsd_sft.cpu_compat as _mgsd; _mgsd.apply()" > "$site/mgsd_cpu_compat.pth"
  echo "setup_env.sh: torchvision/torchaudio cannot import here; CPU compatibility step installed" >&2
fi
"$py" -c "import task_envs" >&2
echo "$want" > "$stamp"
echo "setup_env.sh: environment '$name' ready" >&2
echo "$py"
