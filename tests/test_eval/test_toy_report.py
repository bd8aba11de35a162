"""The toy table of ``make toy`` (mgsd_eval.toy_report) over synthetic runs laid out as toy.sh lays them out:
row names, metrics taken from mgsd report's rows, the modality gap closed, summary.json, errors."""

import json
import re
import subprocess
import sys

import pytest
from reportdata import make_rows, write_run

from mgsd_eval.report import write_report
from mgsd_eval.toy_report import ROWS, write_toy_report

#: label -> planning success rate of its synthetic rows (the base's symbolic rate is 1.6x its visual one)
RATES = {"base": 0.25, "perception_sft": 0.25, "opcd": 0.6, "opcd_no_perception": 0.3, "plan_sft": 0.35}


@pytest.fixture
def toy_runs(tmp_path):
    runs = tmp_path / "runs" / "toy"
    paths = [
        write_run(
            runs / "base" / "modality-gap", "modality-gap", make_rows("modality-gap", RATES["base"], 6, 0), "base"
        ),
        write_run(runs / "base" / "perception", "perception", make_rows("perception", 0.2, 6, 1), "base"),
    ]
    for i, label in enumerate(("perception_sft", "opcd", "opcd_no_perception", "plan_sft")):
        paths.append(
            write_run(runs / label / "planning", "planning", make_rows("planning", RATES[label], 6, 10 + i), label)
        )
        paths.append(
            write_run(runs / label / "perception", "perception", make_rows("perception", 0.7, 6, 20 + i), label)
        )
    write_report([str(p) for p in paths], runs / "report")
    return runs


def _macro(report: dict, label: str, pipeline: str, variant: str) -> dict:
    (row,) = [
        r
        for r in report["rows"]
        if r["label"] == label
        and r["pipeline"] == pipeline
        and r["variant"] == variant
        and r["task"] == "all"
        and str(r["level"]) == "macro"
    ]
    return row


def test_rows_summary_and_gap_closed(toy_runs):
    summary = write_toy_report(toy_runs, toy_runs / "report", seed=3, command="SEED=3 make toy")
    report = json.loads((toy_runs / "report" / "report.json").read_text())
    on_disk = json.loads((toy_runs / "report" / "summary.json").read_text())
    assert on_disk["rows"].keys() == summary["rows"].keys() == set(ROWS)
    for name, (label, pipeline, variant, _) in ROWS.items():
        macro = _macro(report, label, pipeline, variant)
        row = on_disk["rows"][name]
        assert row["all_tasks_macro_success"] == macro["success"]
        assert row["all_tasks_macro_success_ci"] == [macro["ci_low"], macro["ci_high"]]
        assert set(row["by_task_success"]) == {"frozenlake", "maze", "minibehaviour"}
    assert on_disk["rows"]["base_symbolic"]["perception_field_accuracy"] is None  # no image, no perception
    assert (
        on_disk["rows"]["opcd"]["perception_field_accuracy"]
        > on_disk["rows"]["base_visual"]["perception_field_accuracy"]
    )
    visual = on_disk["rows"]["base_visual"]["all_tasks_macro_success"]
    gap = on_disk["rows"]["base_symbolic"]["all_tasks_macro_success"] - visual
    assert gap > 0 and on_disk["base_modality_gap"] == pytest.approx(gap)
    assert on_disk["gap_closed_pct"]["base_visual"] == 0
    expected = 100 * (on_disk["rows"]["opcd"]["all_tasks_macro_success"] - visual) / gap
    assert on_disk["gap_closed_pct"]["opcd"] == pytest.approx(expected)
    assert "base_symbolic" not in on_disk["gap_closed_pct"]
    assert on_disk["opcd_minus_perception_sft"] == pytest.approx(
        on_disk["rows"]["opcd"]["all_tasks_macro_success"]
        - on_disk["rows"]["perception_sft"]["all_tasks_macro_success"]
    )
    assert on_disk["seed"] == 3 and on_disk["command"] == "SEED=3 make toy"
    md = (toy_runs / "report" / "toy.md").read_text()
    assert md.count("\n| `") == len(ROWS) and "SEED=3 make toy" in md and "30.5" in md
    assert (toy_runs / "report" / "toy_macro.png").stat().st_size > 0


def test_no_gap_gives_no_share(tmp_path):
    runs = tmp_path / "toy"
    rows = [r for r in make_rows("modality-gap", 0.0, 4, 0)]  # both variants at 0: no gap to close
    paths = [
        write_run(runs / "base" / "modality-gap", "modality-gap", rows, "base"),
        write_run(runs / "opcd" / "planning", "planning", make_rows("planning", 0.5, 4, 1), "opcd"),
    ]
    write_report([str(p) for p in paths], runs / "report")
    summary = write_toy_report(runs, runs / "report")
    assert set(summary["rows"]) == {"base_visual", "base_symbolic", "opcd"}
    assert summary["gap_closed_pct"]["opcd"] is None and summary["opcd_minus_perception_sft"] is None


def test_cli_errors_name_the_file(tmp_path):
    missing = subprocess.run(
        [sys.executable, "-m", "mgsd_eval.toy_report", "--runs", str(tmp_path)], capture_output=True, text=True
    )
    assert missing.returncode == 2
    assert f"{tmp_path / 'report' / 'report.json'}: not found" in missing.stderr.strip().splitlines()[-1]
    other = tmp_path / "other"
    write_report(
        [str(write_run(other / "x", "planning", make_rows("planning", 0.5, 2, 0), "someone"))], other / "report"
    )
    unrelated = subprocess.run(
        [sys.executable, "-m", "mgsd_eval.toy_report", "--runs", str(other)], capture_output=True, text=True
    )
    assert unrelated.returncode == 2 and "none of the toy runs" in unrelated.stderr
    assert not (other / "report" / "summary.json").exists()


def test_publish_copies_files_and_rewrites_only_the_readme_section(toy_runs, tmp_path):
    from mgsd_eval.toy_report import README_END, README_START, publish

    write_toy_report(toy_runs, toy_runs / "report", seed=0, command="make toy")
    readme = tmp_path / "README.md"
    readme.write_text(f"# Project\n\nbefore\n\n{README_START}\nold table\n{README_END}\n\n## After\nkept\n")
    dest = tmp_path / "evaluate" / "toy_report"
    publish(toy_runs / "report", dest, readme)
    text = readme.read_text()
    assert "old table" not in text and text.startswith("# Project\n\nbefore\n") and text.endswith("## After\nkept\n")
    section = text.split(README_START)[1].split(README_END)[0]
    assert section.count("\n| `") == len(ROWS) and "(evaluate/toy_report/toy_macro.png)" in section
    assert "\n## " not in section and "\n### " not in section  # toy.md's headings sit below the README's own
    images = re.findall(r"\]\(([^)]+\.png)\)", section)
    assert "evaluate/toy_report/diagnostics.png" in images
    assert all((tmp_path / image).is_file() for image in images), images  # every picture the README shows is there
    assert json.loads((dest / "summary.json").read_text()) == json.loads(
        (toy_runs / "report" / "summary.json").read_text()
    )
    publish(toy_runs / "report", dest, readme)
    assert readme.read_text() == text  # idempotent
    readme.write_text("no markers\n")
    with pytest.raises(Exception, match="toy-results:start"):
        publish(toy_runs / "report", dest, readme)
    assert readme.read_text() == "no markers\n"
