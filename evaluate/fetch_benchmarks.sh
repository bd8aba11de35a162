#!/usr/bin/env bash
# Fetch the public benchmarks MGSD reports on and import them as dataset folders, where the evaluation scripts
# (run_ckpt_eval.sh, run_api_eval.sh, run_modality_gap.sh) look for them first:
#
#   BENCH_ROOT/vsp_frozenlake                 VSP FrozenLake maps, levels 3-8, 100 maps each (600 cases)
#       from github.com/UCSB-NLP-Chang/Visual-Spatial-Planning, folder VSP-main/maze/task-main/maps/level{3..8}/
#       ({table,img,pure_text}/N.*; the "maze" scenario of VSP is FrozenLake)
#   BENCH_ROOT/visualplanning_maze            VisualPlanning test sets, re-rendered from each line's meta,
#   BENCH_ROOT/visualplanning_minibehaviour   from github.com/yix8/VisualPlanning,
#   BENCH_ROOT/visualplanning_frozenlake      dataset/<task>/tokenized_dataset/SFT/test_dataset.jsonl
#       (the last is not in the default evaluation set: MGSD's FrozenLake numbers are on the VSP maps)
#
#   bash evaluate/fetch_benchmarks.sh                    # sparse, shallow git clones into BENCH_ROOT/src/, then imports
#   VSP_SRC=~/VSP/VSP-main/maze/task-main/maps VP_SRC=~/VisualPlanning/dataset bash evaluate/fetch_benchmarks.sh
#                                                        # copies you already have: nothing is downloaded
#
# Environment overrides (defaults in brackets):
#   BENCH_ROOT   where the dataset folders go [data/benchmarks]
#   VSP_SRC      a VSP maps root (level3 ... level8) [a clone of VSP_REPO in BENCH_ROOT/src/vsp]
#   VP_SRC       a VisualPlanning dataset root (<task>/tokenized_dataset/SFT/test_dataset.jsonl)
#                [a clone of VP_REPO in BENCH_ROOT/src/visualplanning]
#   VSP_REPO, VP_REPO   git URLs [the two public repositories above]; VSP_REF, VP_REF   a branch or tag [default branch]
#   FORCE=1      re-import folders that exist (a plain rerun keeps them)
#   MGSD_EVAL_PYTHON   python of your own environment instead of .venvs/eval
# The imports are `mgsd data import vsp|visualplanning` (see evaluate/README.md); each record keeps its source
# file and line, optimal plans come from the project's planner.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
BENCH_ROOT=${BENCH_ROOT:-data/benchmarks}
VSP_REPO=${VSP_REPO:-https://github.com/UCSB-NLP-Chang/Visual-Spatial-Planning.git}
VP_REPO=${VP_REPO:-https://github.com/yix8/VisualPlanning.git}
FORCE=${FORCE:-0}
PY=${MGSD_EVAL_PYTHON:-$(bash requirements/setup_env.sh eval)}
MGSD="$(dirname "$PY")/mgsd"
mkdir -p "$BENCH_ROOT"

# sparse_clone URL REF DEST PATTERN...: a shallow clone holding only the files that match the patterns.
sparse_clone() {
  local url=$1 ref=$2 dest=$3; shift 3
  if [[ -d "$dest/.git" ]]; then echo "fetch: $dest exists; reused (remove it to fetch again)" >&2; return; fi
  command -v git >/dev/null || { echo "error: git is needed to fetch $url (or set VSP_SRC / VP_SRC to a copy you have)" >&2; exit 2; }
  echo "fetch: $url -> $dest ($*)" >&2
  rm -rf "$dest.partial"
  git clone --quiet --depth 1 --filter=blob:none --no-checkout ${ref:+--branch "$ref"} "$url" "$dest.partial"
  git -C "$dest.partial" config core.sparseCheckout true
  printf '%s\n' "$@" > "$dest.partial/.git/info/sparse-checkout"
  git -C "$dest.partial" read-tree -mu HEAD
  mv "$dest.partial" "$dest"
}

# import_bench NAME KIND ARGS...: mgsd data import into BENCH_ROOT/NAME unless it is there (FORCE=1 replaces it).
import_bench() {
  local name=$1 kind=$2; shift 2
  if [[ -f "$BENCH_ROOT/$name/manifest.json" && "$FORCE" != 1 ]]; then
    echo "import: $BENCH_ROOT/$name exists; kept (FORCE=1 re-imports)" >&2; return
  fi
  echo "import: $BENCH_ROOT/$name" >&2
  "$MGSD" data import "$kind" "$@" --out "$BENCH_ROOT/$name" --force
}

if [[ -z "${VSP_SRC:-}" ]]; then
  sparse_clone "$VSP_REPO" "${VSP_REF:-}" "$BENCH_ROOT/src/vsp" "/VSP-main/maze/task-main/maps/"
  VSP_SRC=$BENCH_ROOT/src/vsp/VSP-main/maze/task-main/maps
fi
[[ -d "$VSP_SRC/level3" ]] || { echo "error: $VSP_SRC holds no level3/ folder (VSP_SRC is the maps root: level3 ... level8)" >&2; exit 2; }
if [[ -z "${VP_SRC:-}" ]]; then
  sparse_clone "$VP_REPO" "${VP_REF:-}" "$BENCH_ROOT/src/visualplanning" "/dataset/*/tokenized_dataset/SFT/test_dataset.jsonl"
  VP_SRC=$BENCH_ROOT/src/visualplanning/dataset
fi

import_bench vsp_frozenlake vsp --src "$VSP_SRC" --levels 3-8
for task in maze minibehaviour frozenlake; do
  file=$VP_SRC/$task/tokenized_dataset/SFT/test_dataset.jsonl
  if [[ ! -f "$file" ]]; then
    [[ "$task" == frozenlake ]] && continue   # optional
    echo "error: $file not found (VP_SRC is the VisualPlanning dataset root)" >&2; exit 2
  fi
  import_bench "visualplanning_$task" visualplanning --task "$task" --src "$file" --split test
done
echo "benchmarks in $BENCH_ROOT/: $(cd "$BENCH_ROOT" && ls -d */ 2>/dev/null | grep -v '^src/$' | tr -d / | tr '\n' ' ')" >&2
echo "the evaluation scripts use them by default (DATA_DIRS overrides)" >&2
