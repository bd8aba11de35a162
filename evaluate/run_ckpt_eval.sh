#!/usr/bin/env bash
# Evaluate served checkpoints: planning (student prompt), perception and modality gap, then the report.
#
#   BASE_URLS="http://127.0.0.1:8000/v1 http://127.0.0.1:8001/v1" LABEL=opcd4b bash evaluate/run_ckpt_eval.sh
#
# Environment overrides (defaults in brackets):
#   BASE_URLS     endpoints, space-separated (round-robin) [http://127.0.0.1:8000/v1]
#   DATA_DIRS     dataset folders (project splits or imported benchmarks) [data/quickstart/test]
#   OUT_DIR       one run folder per pipeline, plus report/ [runs/<LABEL>]
#   LABEL         run name in reports [ckpt]
#   PIPELINES     any of planning perception modality-gap [all three]
#   CONCURRENCY [64]  LIMIT (cases per task and level) [all]  MAX_TOKENS [4096]  TEMPERATURE [0.0]
#   EVAL_ARGS     extra `mgsd eval` flags
#   MGSD_EVAL_PYTHON  python of your own environment instead of .venvs/eval
# Rerunning resumes every pipeline.
set -euo pipefail
BASE_URLS=${BASE_URLS:-http://127.0.0.1:8000/v1}
source "$(dirname "$0")/_common.sh"
LABEL=${LABEL:-ckpt}; OUT_DIR=${OUT_DIR:-runs/$LABEL}
PIPELINES=${PIPELINES:-planning perception modality-gap}
echo "checkpoint eval: LABEL=$LABEL BASE_URLS=$BASE_URLS DATA_DIRS=${DATA_DIRS:-data/quickstart/test} OUT_DIR=$OUT_DIR PIPELINES=$PIPELINES" >&2
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
