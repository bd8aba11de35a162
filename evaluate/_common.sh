# Shared by the run_*_eval.sh scripts: the eval environment and the --base-url flags.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
PY=${MGSD_EVAL_PYTHON:-$(bash requirements/setup_env.sh eval)}
MGSD="$(dirname "$PY")/mgsd"
url_flags=()
for url in ${BASE_URLS:-}; do url_flags+=(--base-url "$url"); done
data_flags=()
for d in ${DATA_DIRS:-data/quickstart/test}; do data_flags+=(--data "$d"); done
