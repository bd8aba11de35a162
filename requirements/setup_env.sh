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
# Every requirements file is a complete pinned set, installed with --no-deps. Marker lines in a file:
#   # mgsd-needs: torch        torch==2.13.0 is installed first (CPU wheel, or CUDA with MGSD_TORCH=cuda, which
#                              also adds torchvision/torchaudio)
#   # mgsd-torch: cpu          this environment always gets the CPU torch wheel (e.g. a CPU build of a framework)
#   # mgsd-uninstall: A B ...  packages removed after the install if present (CUDA builds that break a CPU stack)
#   # mgsd-compat: MODULE      the compatibility step installed as a .pth hook where torchvision cannot import
#                              [mgsd_sft.cpu_compat for a torch environment]
#   # mgsd-local: DIR          a package folder of this repository installed after the set (--no-deps,
#                              --no-build-isolation); its files count as inputs
# NAME-gpu.txt, where it exists, replaces NAME.txt on GPU machines (MGSD_TORCH=cuda): a complete lock too (the
# opcd one pins its own CUDA torch); with MGSD_TORCH_PIP_ARGS set, the torch, torchvision and torchaudio it pins
# are reinstalled from those arguments (another CUDA's index) at the same versions.
# On CPU, where every torchvision/torchaudio wheel on PyPI is a CUDA build that cannot import, those two stay
# out and the compatibility step runs at the start of every Python process of the environment instead.
# The environment is rebuilt when its own inputs change: its requirements file(s) and the files they include
# with -r, constraints-cpu.txt, pyproject.toml, its compatibility module, and the torch kind. Concurrent
# setups of one environment wait for each other (flock on <venv>.lock).
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
gpu_req="$repo/requirements/$name-gpu.txt"
torch_kind=${MGSD_TORCH:-$(nvidia-smi -L >/dev/null 2>&1 && echo cuda || echo cpu)}
[[ "$(sed -n 's/^# mgsd-torch: *//p' "$req")" == cpu ]] && torch_kind=cpu
# The file installed: the GPU lock where there is one and torch is CUDA.
[[ "$torch_kind" == cuda && -f "$gpu_req" ]] && req=$gpu_req
# marker KEY: the value of the "# mgsd-KEY:" line of the requirements file (empty when absent).
marker() { sed -n "s/^# mgsd-$1: *//p" "$req" | head -n 1; }
needs_torch=$([[ "$(marker needs)" == *torch* ]] && echo 1 || echo 0)
local_pkg=$(marker local | cut -d' ' -f1)
[[ -z "$local_pkg" || -f "$repo/$local_pkg/pyproject.toml" ]] || { echo "setup_env.sh: $req names mgsd-local $local_pkg, but $repo/$local_pkg/pyproject.toml does not exist" >&2; exit 2; }
compat=$(marker compat); [[ -n "$compat" || $needs_torch == 0 ]] || compat=mgsd_sft.cpu_compat
compat_file=${compat:+$repo/LlamaFactory/${compat//.//}.py}
[[ -z "$compat_file" || -f "$compat_file" ]] || { echo "setup_env.sh: $req names mgsd-compat $compat, but $compat_file does not exist" >&2; exit 2; }
uninstall="$(marker uninstall)"; [[ "$torch_kind" == cpu && $needs_torch == 1 ]] && uninstall="torchvision torchaudio $uninstall"
# inputs FILE: FILE and, recursively, the requirements files it includes with -r.
inputs() {
  local file=$1 inc
  echo "$file"
  for inc in $(sed -n 's/^-r *//p' "$file"); do inputs "$(dirname "$file")/$inc"; done
}
# The environment is current when the hash of its inputs matches the stamp written after the last install.
stamp="$venv/.mgsd-stamp"
current() {
  want=$( (cat $(inputs "$req") "$repo/requirements/constraints-cpu.txt" "$repo/pyproject.toml" ${compat_file:+"$compat_file"}
           [[ -z "$local_pkg" ]] || find "$repo/$local_pkg" -type f -not -path '*.egg-info*' -not -path '*/build/*' | sort | xargs cat
           echo "$torch_kind ${MGSD_TORCH_PIP_ARGS:-}") | sha256sum | cut -d' ' -f1)
  [[ -x "$py" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]
}
if current; then echo "$py"; exit 0; fi
mkdir -p "$(dirname "$venv")"
if command -v flock >/dev/null; then
  exec 9>"$venv.lock"
  flock -n 9 || { echo "setup_env.sh: waiting for another setup of '$name'" >&2; flock 9; }
  if current; then echo "$py"; exit 0; fi   # the other setup made it current
fi

echo "setup_env.sh: preparing environment '$name' in $venv" >&2
"${MGSD_BASE_PYTHON:-python3}" -m venv "$venv" >&2
# pip compiles every module at install; keep it: with PYTHONDONTWRITEBYTECODE=1 (set on CI machines like ours)
# Python never writes .pyc itself, and every process would compile torch and vLLM from source (measured: the
# sft suite 56 s -> 178 s with --no-compile).
pip_install() { "$py" -m pip install --quiet --disable-pip-version-check "$@" >&2; }
rm -f "$venv"/lib/python*/site-packages/mgsd_*compat.pth
if [[ $needs_torch == 1 ]]; then
  echo "setup_env.sh: installing torch ($torch_kind)" >&2
  if [[ "$torch_kind" == cuda ]]; then
    pip_install ${MGSD_TORCH_PIP_ARGS:-} torch==2.13.0 torchvision==0.28.0 torchaudio==2.11.0
  else
    pip_install ${MGSD_TORCH_PIP_ARGS:-} -c "$repo/requirements/constraints-cpu.txt" torch
  fi
fi
echo "setup_env.sh: installing $req ($(grep -c '^[A-Za-z].*==' "$req") pins, --no-deps)" >&2
pip_install --no-deps -r "$req"
torch_pin=$(sed -n 's/^torch==\([^ ]*\).*/\1/p' "$req")
if [[ -n "$torch_pin" && "$torch_kind" == cuda && -n "${MGSD_TORCH_PIP_ARGS:-}" ]]; then
  # The lock's torch is built for CUDA 13; another CUDA's build of the same versions comes from the user's index.
  pins=$(grep -E '^(torch|torchvision|torchaudio)==' "$req" | cut -d' ' -f1 | tr '\n' ' ')
  echo "setup_env.sh: reinstalling $pins from MGSD_TORCH_PIP_ARGS" >&2
  # shellcheck disable=SC2086
  pip_install --force-reinstall --no-deps $MGSD_TORCH_PIP_ARGS $pins
  # shellcheck disable=SC2086
  pip_install $MGSD_TORCH_PIP_ARGS $pins   # that build's own CUDA libraries
fi
[[ -z "$local_pkg" ]] || pip_install --no-deps --no-build-isolation "$repo/$local_pkg"
if [[ -n "$uninstall" ]]; then
  # shellcheck disable=SC2086
  "$py" -m pip uninstall --quiet -y $uninstall >&2 2>/dev/null || true
fi
pip_install --no-deps -e "$repo"
if [[ -n "$compat" ]] && ! "$py" -c "import torchvision" 2>/dev/null; then
  site=$("$py" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  echo "import $compat as _mgsd; _mgsd.apply()" > "$site/mgsd_${compat##*.}.pth"
  echo "setup_env.sh: torchvision cannot import here; compatibility step $compat installed" >&2
fi
"$py" -c "import task_envs" >&2
echo "$want" > "$stamp"
echo "setup_env.sh: environment '$name' ready" >&2
echo "$py"
