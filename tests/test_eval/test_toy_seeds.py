"""The toy table over seeds (mgsd_eval.toy_seeds) over summary.json files laid out as toy_seeds.sh lays them out:
the figures per seed, mean and sample sd; runs of other settings and repeated seeds refused; the README section."""

import json
import statistics
import subprocess
import sys

import pytest

from mgsd_eval.toy_seeds import README_END, README_START, write_seed_report

#: seed -> (perception_sft, opcd) all-task macro success
SEEDS = {0: (0.0, 0.20), 1: (0.05, 0.10), 2: (0.0, 0.30)}


def _summary(root, seed, sft, opcd, key="k1"):
    rows = {
        "base_visual": {"all_tasks_macro_success": 0.0},
        "base_symbolic": {"all_tasks_macro_success": 0.5},
        "perception_sft": {"all_tasks_macro_success": sft},
        "opcd": {"all_tasks_macro_success": opcd},
    }
    summary = {
        "seed": seed,
        "command": f"SEED={seed} TRAINER=verl make toy",
        "settings_key": key,
        "rows": rows,
        "opcd_minus_perception_sft": opcd - sft,
        "gap_closed_pct": {"opcd": 100 * opcd / 0.5},
        "stage_seconds": {"base": 600, "sft": 1200},
    }
    (root / "report").mkdir(parents=True)
    (root / "report" / "summary.json").write_text(json.dumps(summary))
    return root


@pytest.fixture
def seed_runs(tmp_path):
    return [_summary(tmp_path / f"toy{s or ''}", s, *v) for s, v in SEEDS.items()]


def test_mean_and_sd_per_row(seed_runs, tmp_path):
    table = write_seed_report(seed_runs, tmp_path / "out")
    assert table["seeds"] == [0, 1, 2]
    opcd = table["all_tasks_macro_success"]["opcd"]
    assert opcd["values"] == [0.20, 0.10, 0.30]
    assert opcd["mean"] == pytest.approx(0.20) and opcd["sd"] == pytest.approx(statistics.stdev([0.2, 0.1, 0.3]))
    delta = table["opcd_minus_perception_sft"]
    assert delta["values"] == pytest.approx([0.20, 0.05, 0.30]) and delta["mean"] == pytest.approx(0.55 / 3)
    assert table["opcd_gap_closed_pct"]["mean"] == pytest.approx(40.0)
    assert set(table["all_tasks_macro_success"]) == {"base_visual", "base_symbolic", "perception_sft", "opcd"}
    md = (tmp_path / "out" / "seeds.md").read_text()
    assert "| `opcd` | 20.0 | 10.0 | 30.0 | **20.0** | 10.0 |" in md
    assert "| OPCD minus perception SFT (points) | 20.0 | 5.0 | 30.0 | **18.3** |" in md
    assert "Time per seed (minutes, the stages that ran): 30, 30, 30." in md
    assert json.loads((tmp_path / "out" / "seeds.json").read_text()) == json.loads(json.dumps(table))


def test_other_settings_or_repeated_seeds_are_refused(tmp_path):
    a = _summary(tmp_path / "a", 0, 0.0, 0.2)
    b = _summary(tmp_path / "b", 1, 0.0, 0.2, key="k2")
    with pytest.raises(Exception, match=r"settings key k2 differs from .*'s k1"):
        write_seed_report([a, b], tmp_path / "out")
    c = _summary(tmp_path / "c", 0, 0.0, 0.1)
    with pytest.raises(Exception, match=r"seeds repeat across the runs: \[0, 0\]"):
        write_seed_report([a, c], tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_cli_names_the_missing_file_and_rewrites_only_the_readme_section(seed_runs, tmp_path):
    missing = subprocess.run(
        [sys.executable, "-m", "mgsd_eval.toy_seeds", str(tmp_path / "nope"), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        f"mgsd_eval.toy_seeds: error: {tmp_path / 'nope' / 'report' / 'summary.json'}: "
        "not found (run make toy for that seed first)"
    )
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n{README_START}\nold table\n{README_END}\nafter\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mgsd_eval.toy_seeds",
            *map(str, seed_runs),
            "--out",
            str(tmp_path / "out"),
            "--readme",
            str(readme),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    text = readme.read_text()
    assert text.startswith("# title\n\nbefore\n" + README_START + "\n") and text.endswith(README_END + "\nafter\n")
    assert "old table" not in text and "| `opcd` | 20.0 | 10.0 | 30.0 |" in text
    assert "opcd: mean all-task macro success 20.0 (sd 10.0) over seeds [0, 1, 2]" in done.stdout
