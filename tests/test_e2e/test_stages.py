"""requirements/stages.sh, the stage runner of quickstart.sh and toy.sh: a rerun reuses a stage only when it
finished under the same settings, config contents and upstream runs; it resumes an unfinished attempt only under
the same ones."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Two stages: `first` reads A_SETTING and the config file; `second` reads `first` and B_SETTING. Each command
# appends "<stage> resume=<STAGE_RESUME>" to ran.txt and writes its output file (the done test); FAIL_SECOND=1
# makes `second` fail after it started.
PIPELINE = r"""
set -euo pipefail
cd "$WORK"
LOGS=$WORK/logs; FORCE=${FORCE:-0}
mkdir -p "$LOGS"
source "$ROOT/requirements/stages.sh"
first() { echo "first resume=$STAGE_RESUME" >> ran.txt; echo one > first.out; }
second() { echo "second resume=$STAGE_RESUME" >> ran.txt; [[ "${FAIL_SECOND:-0}" != 1 ]] || exit 3; echo two > second.out; }
stage first "" "$A_SETTING config.yaml" "[[ -f first.out ]]" first
stage second "first" "$B_SETTING" "[[ -f second.out ]]" second
"""


def run(work: Path, **env):
    (work / "ran.txt").unlink(missing_ok=True)
    full = {**os.environ, "ROOT": str(ROOT), "WORK": str(work), "A_SETTING": "a1", "B_SETTING": "b1", **env}
    done = subprocess.run(["bash", "-c", PIPELINE], env=full, capture_output=True, text=True, timeout=60)
    ran = (work / "ran.txt").read_text().splitlines() if (work / "ran.txt").exists() else []
    return done, ran


def test_reuse_only_under_the_same_settings_and_upstream_runs(tmp_path):
    (tmp_path / "config.yaml").write_text("lr: 1\n")
    done, ran = run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert ran == ["first resume=0", "second resume=0"]

    done, ran = run(tmp_path)
    assert ran == [] and done.stdout.count("done before; reused") == 2

    # a downstream setting: only that stage
    done, ran = run(tmp_path, B_SETTING="b2")
    assert ran == ["second resume=0"]
    assert "[second] done before with other settings or inputs; redoing it" in done.stdout

    # a config file's content (same path): the stage and every stage that reads it
    (tmp_path / "config.yaml").write_text("lr: 2\n")
    done, ran = run(tmp_path, B_SETTING="b2")
    assert ran == ["first resume=0", "second resume=0"]
    done, ran = run(tmp_path, B_SETTING="b2")
    assert ran == []

    # FORCE=1 redoes everything and starts over
    done, ran = run(tmp_path, B_SETTING="b2", FORCE="1")
    assert ran == ["first resume=0", "second resume=0"]


def test_an_unfinished_stage_resumes_only_under_its_own_settings(tmp_path):
    (tmp_path / "config.yaml").write_text("lr: 1\n")
    done, ran = run(tmp_path, FAIL_SECOND="1")
    assert done.returncode == 1
    assert "[second] FAILED; the end of" in done.stderr
    assert ran == ["first resume=0", "second resume=0"]

    done, ran = run(tmp_path, FAIL_SECOND="1")
    assert ran == ["second resume=1"]  # the same settings: the attempt may be resumed

    done, ran = run(tmp_path, B_SETTING="b2")
    assert done.returncode == 0
    assert ran == ["second resume=0"]  # other settings: start over


def test_a_stage_read_before_it_ran_is_an_error(tmp_path):
    script = (
        f'LOGS={tmp_path}/logs FORCE=0; source "{ROOT}/requirements/stages.sh"\nstage second "first" "" false true\n'
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: stage first must run before a stage that reads it"
