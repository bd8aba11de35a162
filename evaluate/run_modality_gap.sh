#!/usr/bin/env bash
# Modality gap of one or more served models: the same cases with the image and as symbolic text, then one report
# with the gap tables and the visual-vs-symbolic plot.
#
#   MODELS="base=http://127.0.0.1:8000/v1 opcd=http://127.0.0.1:8100/v1" bash evaluate/run_modality_gap.sh
#
# Environment overrides (defaults in brackets):
#   MODELS        label=base_url pairs, space-separated [model=http://127.0.0.1:8000/v1]
#   DATA_DIRS     dataset folders [data/quickstart/test]
#   OUT_DIR       runs/<label>/ per model and report/ [runs/modality_gap]
#   CONCURRENCY [64]  LIMIT [all]  MAX_TOKENS [4096]  EVAL_ARGS
set -euo pipefail
source "$(dirname "$0")/_common.sh"
MODELS=${MODELS:-model=http://127.0.0.1:8000/v1}; OUT_DIR=${OUT_DIR:-runs/modality_gap}
echo "modality gap: MODELS=$MODELS DATA_DIRS=${DATA_DIRS:-data/quickstart/test} OUT_DIR=$OUT_DIR" >&2
runs=()
status=0
for pair in $MODELS; do
  label=${pair%%=*}; url=${pair#*=}
  [[ "$label" != "$pair" ]] || { echo "error: MODELS entries are label=base_url, got '$pair'" >&2; exit 2; }
  "$MGSD" eval modality-gap "${data_flags[@]}" --base-url "$url" --label "$label" --out "$OUT_DIR/$label" \
    --concurrency "${CONCURRENCY:-64}" --max-tokens "${MAX_TOKENS:-4096}" ${LIMIT:+--limit "$LIMIT"} ${EVAL_ARGS:-} || status=$?
  runs+=("$OUT_DIR/$label")
done
"$MGSD" report "${runs[@]}" --out "$OUT_DIR/report" > /dev/null
echo "report: $OUT_DIR/report/report.md" >&2
exit $status
