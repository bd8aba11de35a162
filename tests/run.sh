#!/usr/bin/env bash
# The project's test command (README): creates each environment it needs, then runs its tests there.
#   bash tests/run.sh              all suites
#   MGSD_TEST_SUITES=eval bash tests/run.sh -k parser    one suite, extra arguments go to pytest
# pytest exits 5 when it collects no test; that fails the run like any other non-zero exit (set -e).
set -euo pipefail
cd "$(dirname "$0")/.."
suites=${MGSD_TEST_SUITES:-"eval sft opcd e2e install vllm vlmeval"}
declare -A paths=([eval]="tests/test_task_envs tests/test_eval" [sft]="tests/test_sft" [opcd]="tests/test_opcd"
                  [e2e]="tests/test_e2e" [install]="tests/test_install" [vllm]="tests/test_vllm" [vlmeval]="tests/test_vlmeval")
# e2e: the quickstart, which makes the others itself; install: fresh venvs with a plain `pip install .` (+ extras)
declare -A envs=([eval]=eval [sft]=sft [opcd]=opcd [e2e]=eval [install]=eval [vllm]=opcd [vlmeval]=vlmeval)
for suite in $suites; do
  [[ -n "${paths[$suite]:-}" ]] || { echo "tests/run.sh: unknown suite '$suite' (eval, sft, opcd, e2e, install, vllm, vlmeval)" >&2; exit 2; }
  PY=$(bash requirements/setup_env.sh "${envs[$suite]}")
  echo "== $suite tests (${paths[$suite]}) with $PY"
  "$PY" -m pytest -q -p no:cacheprovider ${paths[$suite]} "$@"
done
