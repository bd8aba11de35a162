#!/usr/bin/env bash
# The project's test command (README): creates each environment it needs, then runs its tests there.
#   bash tests/run.sh              all suites
#   MGSD_TEST_SUITES=eval bash tests/run.sh -k parser    one suite, extra arguments go to pytest
#   MGSD_TEST_SUITES="eval,served+sft,install" bash tests/run.sh    two lanes side by side: eval then served,
#                                                                and sft then install
# pytest exits 5 when it collects no test; that fails the run like any other non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."
# Order: the suites that need only the light environments run while the other environments build in the
# background (the opcd one, vLLM's CPU build and verl, downloads ~2.3 GB), in two lanes ("a,b+c,d": a then b,
# and beside them c then d; their tests are mostly one process each, so two lanes use the two cores). "served"
# (the evaluation against vLLM) and "vllm" are the first to need the opcd environment.
suites=${MGSD_TEST_SUITES:-"eval,served,vllm+sft,install,vlmeval opcd e2e"}
served=tests/test_eval/test_pipelines_served.py
declare -A paths=([eval]="tests/test_task_envs tests/test_eval --ignore=$served" [served]="$served"
                  [sft]="tests/test_sft" [opcd]="tests/test_opcd" [e2e]="tests/test_e2e" [install]="tests/test_install"
                  [vllm]="tests/test_vllm" [vlmeval]="tests/test_vlmeval")
# e2e: the quickstart, which makes the others itself; install: fresh venvs with a plain `pip install .` (+ extras)
declare -A envs=([eval]=eval [served]=eval [sft]=sft [opcd]=opcd [e2e]=eval [install]=eval [vllm]=opcd [vlmeval]=vlmeval)
all=${suites//[+,]/ }
for suite in $all; do
  [[ -n "${paths[$suite]:-}" ]] || { echo "tests/run.sh: unknown suite '$suite' (${!paths[*]})" >&2; exit 2; }
done
for entry in $suites; do
  [[ "$entry" != *+*+* ]] || { echo "tests/run.sh: at most two lanes side by side, got '$entry'" >&2; exit 2; }
done
# The later suites' environments build in the background while the first suite runs (downloads overlap with
# tests); setup_env.sh serialises the builds of one environment, so each suite's own call below waits for its
# build, and redoes it in the foreground, with its errors, if the background one failed.
read -ra listed <<< "$all"
first_env=${envs[${listed[0]}]}
declare -A later=()
for suite in $all; do [[ ${envs[$suite]} == "$first_env" ]] || later[${envs[$suite]}]=1; done
mkdir -p .venvs
for env in "${!later[@]}"; do
  bash requirements/setup_env.sh "$env" > ".venvs/$env.background.log" 2>&1 &
done
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

run_suite() {  # SUITE [pytest args]: its environment, then its tests
  local suite=$1 py
  shift
  py=$(bash requirements/setup_env.sh "${envs[$suite]}") || return 1
  echo "== $suite tests (${paths[$suite]}) with $py"
  # shellcheck disable=SC2086  # the paths are words
  "$py" -m pytest -q -p no:cacheprovider ${paths[$suite]} "$@"
}

run_lane() {  # SUITES (comma-separated) [pytest args]: one after the other, stopping at a failure
  local suite
  IFS=, read -ra lane <<< "$1"
  shift
  for suite in "${lane[@]}"; do run_suite "$suite" "$@" || return 1; done
}

for entry in $suites; do
  IFS=+ read -ra lanes <<< "$entry"
  if (( ${#lanes[@]} == 1 )); then
    run_lane "$entry" "$@"
    continue
  fi
  log=$(mktemp)
  run_lane "${lanes[1]}" "$@" > "$log" 2>&1 &
  second=$!
  status=0
  run_lane "${lanes[0]}" "$@" || status=1
  wait "$second" || status=1
  cat "$log"
  rm -f "$log"
  (( status == 0 )) || { echo "tests/run.sh: a suite of $entry failed" >&2; exit 1; }
done
