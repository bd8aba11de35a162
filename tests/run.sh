#!/usr/bin/env bash
# The project's test command (README): creates each environment it needs, then runs its tests.
# Extra arguments go to pytest, e.g. `bash tests/run.sh -k parser`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash requirements/setup_env.sh eval)
# pytest exits 5 when it collects no test; that must fail, and it does: set -e stops on any non-zero exit.
"$PY" -m pytest -q -p no:cacheprovider tests/test_task_envs "$@"
