#!/usr/bin/env bash
# Modality gap of one or more served models: the same cases with the image and as symbolic text, then one report
# with the gap tables and the visual-vs-symbolic plot.
#
#   MODELS="base=http://127.0.0.1:8000/v1 opcd=http://127.0.0.1:8100/v1" bash evaluate/run_modality_gap.sh
#
# Environment overrides (defaults in brackets):
#   MODELS        label=base_url pairs, space-separated; base_url may list several replicas, comma-separated
#                 [model=<the URLs in BASE_URLS_FILE, written by serve_vllm.sh>, else model=http://127.0.0.1:8000/v1]
#   BASE_URLS_FILE  [logs/vllm/base_urls.txt]
#   DATA_DIRS     dataset folders [the imported benchmarks in BENCH_ROOT (data/benchmarks) that are present,
#                 else TEST_SPLIT (data/quickstart/test)]
#   OUT_DIR       runs/<label>/ per model and report/ [runs/modality_gap]
#   CONCURRENCY [64]  LIMIT [all]  MAX_TOKENS [4096]  EVAL_ARGS
set -euo pipefail
source "$(dirname "$0")/_common.sh"
if [[ -z "${MODELS:-}" ]]; then served_urls; MODELS="model=${BASE_URLS// /,}"; fi
OUT_DIR=${OUT_DIR:-runs/modality_gap}
echo "modality gap: MODELS=$MODELS DATA_DIRS=$DATA_DIRS OUT_DIR=$OUT_DIR" >&2
runs=()
status=0
for pair in $MODELS; do
  label=${pair%%=*}; url=${pair#*=}
  [[ "$label" != "$pair" ]] || { echo "error: MODELS entries are label=base_url, got '$pair'" >&2; exit 2; }
  pair_urls=()
  for u in ${url//,/ }; do pair_urls+=(--base-url "$u"); done
  "$MGSD" eval modality-gap "${data_flags[@]}" "${pair_urls[@]}" --label "$label" --out "$OUT_DIR/$label" \
    --concurrency "${CONCURRENCY:-64}" --max-tokens "${MAX_TOKENS:-4096}" ${LIMIT:+--limit "$LIMIT"} ${EVAL_ARGS:-} || status=$?
  runs+=("$OUT_DIR/$label")
done
"$MGSD" report "${runs[@]}" --out "$OUT_DIR/report" > /dev/null
echo "report: $OUT_DIR/report/report.md" >&2
exit $status
