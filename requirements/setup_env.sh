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
want=$(cat "$repo"/requirements/*.txt "$repo/pyproject.toml" | sha256sum | cut -d' ' -f1)
if [[ -x "$py" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "$py"; exit 0
fi

echo "setup_env.sh: preparing environment '$name' in $venv" >&2
"${MGSD_BASE_PYTHON:-python3}" -m venv "$venv" >&2
"$py" -m pip install --quiet --upgrade pip >&2 || true
"$py" -m pip install --quiet -r "$req" >&2
"$py" -m pip install --quiet --no-deps -e "$repo" >&2
"$py" -c "import task_envs" >&2
echo "$want" > "$stamp"
echo "setup_env.sh: environment '$name' ready" >&2
echo "$py"
