#!/usr/bin/env bash
# VLMEvalKit (ms-vlmeval, its own environment) on the MGSD_* datasets against any OpenAI-compatible endpoint:
# exports the dataset folders as one VLMEvalKit TSV, registers the MGSD_* classes in VLMEvalKit's registry at
# runtime (VLMEvalKit itself is not patched), runs VLMEvalKit's own inference and evaluation (model class GPT4V,
# api_base = BASE_URL/chat/completions) and leaves VLMEvalKit's own result files under OUT/<model>/.
#
#   BASE_URL=http://127.0.0.1:8000/v1 MODEL=opcd4b bash evaluate/run_vlmeval.sh
#   API_CONFIG=api_config_files/openai.json OPENAI_API_KEY=... DATASETS=MGSD_Maze bash evaluate/run_vlmeval.sh
#
# Environment overrides (defaults in brackets):
#   DATA_DIRS     dataset folders [the imported benchmarks in BENCH_ROOT (data/benchmarks) that are present,
#                 else TEST_SPLIT (data/quickstart/test)]
#   BASE_URL      an OpenAI-compatible /v1 endpoint [OPENAI_BASE_URL, else the API_CONFIG's base_url, else the
#                 first URL serve_vllm.sh lists in BASE_URLS_FILE, else http://127.0.0.1:8000/v1]
#   MODEL         served model name [the API_CONFIG's model, else the first of GET /models, with a warning]
#   API_KEY       key sent as a bearer token [OPENAI_API_KEY, else the API_CONFIG's api_key; none for a local server];
#                 never printed or written (VLMEvalKit's own log line of it is redacted)
#   API_CONFIG    api_config_files/*.json (base_url, api_key, model, options.max_tokens, extra_body) [none]
#   OUT           work folder [runs/vlmeval]: OUT/LMUData/MGSD_All.tsv (the export, and VLMEvalKit's image dumps),
#                 OUT/vlmeval_config.json (VLMEvalKit's --config; no key), OUT/<model>/ (VLMEvalKit's results:
#                 <model>_<dataset>.tsv predictions, <model>_<dataset>_acc.csv and _score.json scores, status.json),
#                 OUT/logs/ (VLMEvalKit's log)
#   DATASETS      any of MGSD_All MGSD_FrozenLake MGSD_Maze MGSD_MiniBehaviour, MGSD_<title> of an installed
#                 task (mgsd tasks) [MGSD_All]
#   KIND          plan | perception [plan]       PROMPT  student | direct (plan prompt) [student]
#   LIMIT         cases per task and level [all]  CONCURRENCY [8]  MAX_TOKENS [the API_CONFIG's, else 4096]
#   TEMPERATURE   [0.0]  TIMEOUT (s per request) [120]  RETRY (attempts per request) [5]
#   VLMEVAL_ARGS  extra arguments for VLMEvalKit's run.py (e.g. --mode infer)
#   FORCE=1       start over when OUT holds a run with other data or settings (refused otherwise)
#   DRY_RUN=1     print the resolved settings and VLMEvalKit's config; export and run nothing
#   MGSD_VLMEVAL_PYTHON  python of your own environment (with ms-vlmeval and this project) instead of .venvs/vlmeval
# Rerunning with the same settings resumes: VLMEvalKit keeps the predictions it has and asks for the rest.
# Exit status: 0 when every dataset was scored with every request answered, 1 otherwise, 2 on bad settings.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# _common.sh resolves DATA_DIRS and the served URLs; the python it uses is the vlmeval environment's.
MGSD_EVAL_PYTHON=${MGSD_VLMEVAL_PYTHON:-$(bash "$repo/requirements/setup_env.sh" vlmeval)}
source "$repo/evaluate/_common.sh"
source "$repo/requirements/launch_lib.sh"

OUT=${OUT:-runs/vlmeval}
DATASETS=${DATASETS:-MGSD_All}
KIND=${KIND:-plan}; PROMPT=${PROMPT:-student}
[[ -n "${API_KEY:-}" ]] && export OPENAI_API_KEY=$API_KEY
if [[ -z "${BASE_URL:-}" && -z "${OPENAI_BASE_URL:-}" && -z "${API_CONFIG:-}" ]]; then
  served_urls
  BASE_URL=${BASE_URLS%% *}
fi
for d in $DATA_DIRS; do
  [[ -f "$d/manifest.json" ]] || { echo "error: $d is not a dataset folder (no manifest.json)" >&2; exit 2; }
done
known=" $("$PY" -c 'from mgsd_eval.vlmeval_datasets import datasets; print(*datasets())' | tail -n 1) "  # one per task
for d in $DATASETS; do
  [[ "$known" == *" $d "* ]] || { echo "error: DATASETS: unknown '$d' (any of${known% })" >&2; exit 2; }
done
case "$KIND" in plan|perception) ;; *) echo "error: KIND must be plan or perception, got '$KIND'" >&2; exit 2 ;; esac
[[ -z "${API_CONFIG:-}" || -f "$API_CONFIG" ]] || { echo "error: API_CONFIG=$API_CONFIG not found" >&2; exit 2; }

lmu="$(abs_path "$OUT")/LMUData"    # VLMEvalKit's data root: the TSV, and the images it dumps from it
export LMUData="$lmu" MGSD_VLMEVAL_DIR="$lmu"
run_flags=(--work-dir "$OUT" --nproc "${CONCURRENCY:-8}" --temperature "${TEMPERATURE:-0.0}"
           --timeout "${TIMEOUT:-120}" --retry "${RETRY:-5}")
for d in $DATASETS; do run_flags+=(--data "$d"); done
[[ -n "${BASE_URL:-}" ]] && run_flags+=(--base-url "$BASE_URL")
[[ -n "${MODEL:-}" ]] && run_flags+=(--model "$MODEL")
[[ -n "${API_CONFIG:-}" ]] && run_flags+=(--api-config "$API_CONFIG")
[[ -n "${MAX_TOKENS:-}" ]] && run_flags+=(--max-tokens "$MAX_TOKENS")
[[ "${FORCE:-0}" == 1 ]] && run_flags+=(--force)

echo "vlmeval: DATA_DIRS=$DATA_DIRS BASE_URL=${BASE_URL:-${OPENAI_BASE_URL:-<API_CONFIG>}} MODEL=${MODEL:-<default>}" \
     "OUT=$OUT DATASETS=$DATASETS KIND=$KIND PROMPT=$PROMPT LIMIT=${LIMIT:-all}" \
     "API_KEY=$([[ -n "${OPENAI_API_KEY:-}" ]] && echo set || echo "${API_CONFIG:+<API_CONFIG>}${API_CONFIG:-none}")" \
     "python=$PY" >&2
if [[ "${DRY_RUN:-0}" == 1 ]]; then
  exec "$PY" -m mgsd_eval.vlmeval_datasets "${run_flags[@]}" --dry-run
fi

"$MGSD" data export vlmeval "${data_flags[@]}" --out "$lmu/MGSD_All.tsv" --kind "$KIND" --prompt "$PROMPT" \
  ${LIMIT:+--per-level "$LIMIT"} --force >&2
# shellcheck disable=SC2086 # VLMEVAL_ARGS is a list of arguments
exec "$PY" -m mgsd_eval.vlmeval_datasets "${run_flags[@]}" ${VLMEVAL_ARGS:+-- $VLMEVAL_ARGS}
