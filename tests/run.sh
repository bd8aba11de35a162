#!/usr/bin/env bash
# The project's test command (README): creates each environment it needs, then runs its tests there.
#   bash tests/run.sh              all suites
#   MGSD_TEST_SUITES=eval bash tests/run.sh -k parser    one suite, extra arguments go to pytest
# pytest exits 5 when it collects no test; that fails the run like any other non-zero exit (set -e).
set -euo pipefail
cd "$(dirname "$0")/.."
# Order: the suites that need only the light environments run while the opcd environment (vLLM's CPU build,
# verl, ~2.3 GB) builds in the background; "served" is the evaluation against vLLM, the first to need it.
suites=${MGSD_TEST_SUITES:-"eval sft install vlmeval served opcd vllm e2e"}
served=tests/test_eval/test_pipelines_served.py
declare -A paths=([eval]="tests/test_task_envs tests/test_eval --ignore=$served" [served]="$served"
                  [sft]="tests/test_sft" [opcd]="tests/test_opcd" [e2e]="tests/test_e2e" [install]="tests/test_install"
                  [vllm]="tests/test_vllm" [vlmeval]="tests/test_vlmeval")
# e2e: the quickstart, which makes the others itself; install: fresh venvs with a plain `pip install .` (+ extras)
declare -A envs=([eval]=eval [served]=eval [sft]=sft [opcd]=opcd [e2e]=eval [install]=eval [vllm]=opcd [vlmeval]=vlmeval)
for suite in $suites; do
  [[ -n "${paths[$suite]:-}" ]] || { echo "tests/run.sh: unknown suite '$suite' (${!paths[*]})" >&2; exit 2; }
done
# The later suites' environments build in the background while the first suite runs (downloads overlap with
# tests); setup_env.sh serialises the builds of one environment, so each suite's own call below waits for its
# build, and redoes it in the foreground, with its errors, if the background one failed.
read -ra listed <<< "$suites"
first_env=${envs[${listed[0]}]}
declare -A later=()
for suite in $suites; do [[ ${envs[$suite]} == "$first_env" ]] || later[${envs[$suite]}]=1; done
mkdir -p .venvs
for env in "${!later[@]}"; do
  bash requirements/setup_env.sh "$env" > ".venvs/$env.background.log" 2>&1 &
done
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
for suite in $suites; do
  PY=$(bash requirements/setup_env.sh "${envs[$suite]}")
  echo "== $suite tests (${paths[$suite]}) with $PY"
  "$PY" -m pytest -q -p no:cacheprovider ${paths[$suite]} "$@"
done
