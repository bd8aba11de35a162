#!/usr/bin/env bash
# Evaluate API models (OpenAI-compatible) on planning with the direct prompt, one run per model, then one report.
#
#   OPENAI_API_KEY=... MODELS="gpt-4o gpt-5" API_CONFIG=api_config_files/openai.json bash evaluate/run_api_eval.sh
#
# Environment overrides (defaults in brackets):
#   MODELS        model names, space-separated [gpt-4o]
#   API_CONFIG    api_config_files/*.json (base_url, options; the key comes from OPENAI_API_KEY) [api_config_files/openai.json]
#   BASE_URLS     endpoints instead of the config's base_url
#   DATA_DIRS     dataset folders [the imported benchmarks in BENCH_ROOT (data/benchmarks) that are present,
#                 else TEST_SPLIT (data/quickstart/test)]
#   OUT_DIR       runs/api/<model>/ per model, report in OUT_DIR/report [runs/api]
#   PROMPT        direct | student [direct: answer only, as MGSD's API baselines]
#   CONCURRENCY [16]  LIMIT [all]  MAX_TOKENS [10240]  TOKEN_FIELD [max_completion_tokens]
#   EVAL_ARGS     extra `mgsd eval` flags (e.g. --lenient for models that skip the tags, --scoring upstream)
#   PROMPT_DIR    prompt texts <role>_<task>.txt (or upstream MGSD's file names) replacing the package's
# Keys are read from the environment or the config file and are never written to results or logs.
set -euo pipefail
source "$(dirname "$0")/_common.sh"
MODELS=${MODELS:-gpt-4o}; API_CONFIG=${API_CONFIG:-api_config_files/openai.json}; OUT_DIR=${OUT_DIR:-runs/api}
PROMPT=${PROMPT:-direct}
echo "API eval: MODELS=$MODELS API_CONFIG=$API_CONFIG DATA_DIRS=$DATA_DIRS OUT_DIR=$OUT_DIR PROMPT=$PROMPT" >&2
runs=()
status=0
for model in $MODELS; do
  safe=${model//[^A-Za-z0-9._-]/_}
  "$MGSD" eval planning "${data_flags[@]}" "${url_flags[@]}" --api-config "$API_CONFIG" --model "$model" --label "$model" \
    --prompt "$PROMPT" --out "$OUT_DIR/$safe" --concurrency "${CONCURRENCY:-16}" --max-tokens "${MAX_TOKENS:-10240}" \
    --token-field "${TOKEN_FIELD:-max_completion_tokens}" ${LIMIT:+--limit "$LIMIT"} ${EVAL_ARGS:-} || status=$?
  runs+=("$OUT_DIR/$safe")
done
"$MGSD" report "${runs[@]}" --out "$OUT_DIR/report" > /dev/null
echo "report: $OUT_DIR/report/report.md" >&2
exit $status
