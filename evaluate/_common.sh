# Shared by the run_*_eval.sh scripts (sourced): the eval environment, the dataset folders, the endpoints.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
PY=${MGSD_EVAL_PYTHON:-$(bash requirements/setup_env.sh eval)}
MGSD="$(dirname "$PY")/mgsd"

# Dataset folders: DATA_DIRS when set; else the imported public benchmarks (evaluate/fetch_benchmarks.sh writes
# BENCH_ROOT/<name>) that are present; else the project's test split. Which one is said on stderr.
BENCH_ROOT=${BENCH_ROOT:-data/benchmarks}
BENCHMARKS=${BENCHMARKS:-"vsp_frozenlake visualplanning_maze visualplanning_minibehaviour"}
TEST_SPLIT=${TEST_SPLIT:-data/quickstart/test}
if [[ -n "${DATA_DIRS:-}" ]]; then
  echo "data: DATA_DIRS=$DATA_DIRS" >&2
else
  found=(); missing=()
  for b in $BENCHMARKS; do
    if [[ -f "$BENCH_ROOT/$b/manifest.json" ]]; then found+=("$BENCH_ROOT/$b"); else missing+=("$b"); fi
  done
  if (( ${#found[@]} > 0 )); then
    DATA_DIRS="${found[*]}"
    echo "data: the imported public benchmarks: $DATA_DIRS${missing[*]:+ (not imported: ${missing[*]})} (DATA_DIRS overrides)" >&2
  else
    DATA_DIRS=$TEST_SPLIT
    echo "data: no imported benchmarks in $BENCH_ROOT/ (bash evaluate/fetch_benchmarks.sh imports them); the test split $TEST_SPLIT (DATA_DIRS overrides)" >&2
  fi
fi
data_flags=()
for d in $DATA_DIRS; do data_flags+=(--data "$d"); done

# served_urls: BASE_URLS when set; else the URLs that evaluate/serve_vllm.sh lists in BASE_URLS_FILE while its
# replicas run; else http://127.0.0.1:8000/v1. Which one is said on stderr.
BASE_URLS_FILE=${BASE_URLS_FILE:-logs/vllm/base_urls.txt}
served_urls() {
  if [[ -n "${BASE_URLS:-}" ]]; then
    echo "endpoints: BASE_URLS=$BASE_URLS" >&2
  elif [[ -s "$BASE_URLS_FILE" ]]; then
    BASE_URLS=$(grep -v '^[[:space:]]*$' "$BASE_URLS_FILE" | tr '\n' ' ' | sed 's/ $//')
    echo "endpoints: $BASE_URLS (from $BASE_URLS_FILE, written by serve_vllm.sh; BASE_URLS overrides)" >&2
  else
    BASE_URLS=http://127.0.0.1:8000/v1
    echo "endpoints: $BASE_URLS (no $BASE_URLS_FILE from serve_vllm.sh; BASE_URLS overrides)" >&2
  fi
}
url_flags=()
for url in ${BASE_URLS:-}; do url_flags+=(--base-url "$url"); done
