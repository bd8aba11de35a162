#!/usr/bin/env bash
# Evaluate served checkpoints: planning (student prompt), perception and modality gap, then the report.
#
#   MODEL_PATH=models/ckpts/Qwen3-VL-4B-OPCD bash evaluate/serve_vllm.sh &    # all GPUs, one replica each
#   LABEL=opcd4b bash evaluate/run_ckpt_eval.sh                             # every replica, the public benchmarks
#
# Environment overrides (defaults in brackets):
#   BASE_URLS     endpoints, space-separated (round-robin) [those in BASE_URLS_FILE, else http://127.0.0.1:8000/v1]
#   BASE_URLS_FILE  the URLs serve_vllm.sh lists while it runs [logs/vllm/base_urls.txt]
#   DATA_DIRS     dataset folders [the imported benchmarks in BENCH_ROOT (data/benchmarks: vsp_frozenlake,
#                 visualplanning_maze, visualplanning_minibehaviour; evaluate/fetch_benchmarks.sh) that are
#                 present, else TEST_SPLIT (data/quickstart/test)]
#   OUT_DIR       one run folder per pipeline, plus report/ [runs/<LABEL>]
#   LABEL         run name in reports [ckpt]
#   PIPELINES     any of planning perception modality-gap [all three]
#   CONCURRENCY [64]  LIMIT (cases per task and level) [all]  MAX_TOKENS [4096]  TEMPERATURE [0.0]
#   EVAL_ARGS     extra `mgsd eval` flags (e.g. --scoring upstream)
#   PROMPT_DIR    prompt texts <role>_<task>.txt (or upstream MGSD's file names) replacing the package's
#   MGSD_EVAL_PYTHON  python of your own environment instead of .venvs/eval
# Rerunning resumes every pipeline.
set -euo pipefail
source "$(dirname "$0")/_common.sh"
served_urls
url_flags=()
for url in $BASE_URLS; do url_flags+=(--base-url "$url"); done
LABEL=${LABEL:-ckpt}; OUT_DIR=${OUT_DIR:-runs/$LABEL}
PIPELINES=${PIPELINES:-planning perception modality-gap}
echo "checkpoint eval: LABEL=$LABEL BASE_URLS=$BASE_URLS DATA_DIRS=$DATA_DIRS OUT_DIR=$OUT_DIR PIPELINES=$PIPELINES" >&2
runs=()
status=0
for pipeline in $PIPELINES; do
  "$MGSD" eval "$pipeline" "${data_flags[@]}" "${url_flags[@]}" --out "$OUT_DIR/$pipeline" --label "$LABEL" \
    --concurrency "${CONCURRENCY:-64}" --max-tokens "${MAX_TOKENS:-4096}" --temperature "${TEMPERATURE:-0.0}" \
    ${LIMIT:+--limit "$LIMIT"} ${EVAL_ARGS:-} || status=$?
  runs+=("$OUT_DIR/$pipeline")
done
"$MGSD" report "${runs[@]}" --out "$OUT_DIR/report" > /dev/null
echo "report: $OUT_DIR/report/report.md" >&2
exit $status
