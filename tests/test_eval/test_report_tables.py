"""Report tables over synthetic runs (no server): dataset and n columns, 95% intervals (Wilson per cell,
bootstrap for macros), per-field perception accuracy, format/fell, truncation and tokens, old runs, stale plots."""

import csv
import json

import pytest
from evalhelpers import mgsd
from reportdata import make_rows, write_run, write_single_metrics

from mgsd_eval.intervals import wilson
from mgsd_eval.report import format_summary, write_report


@pytest.fixture
def runs(tmp_path):
    return {
        p: write_run(tmp_path / "runs" / p, p, make_rows(p, 0.4, per_cell=5, seed=i, errors=1), "base")
        for i, p in enumerate(("planning", "perception", "modality-gap"))
    }


def _csv(out):
    return list(csv.DictReader((out / "report.csv").open()))


def _num(value):
    return None if value in ("", None) else float(value)


def test_cells_carry_dataset_n_and_wilson_intervals(runs, tmp_path):
    out = write_report([str(p) for p in runs.values()], tmp_path / "report")
    rows = _csv(out)
    results = [json.loads(l) for l in (runs["planning"] / "results.jsonl").read_text().splitlines()]
    summary = json.loads((runs["planning"] / "summary.json").read_text())["metrics"]
    mine = [r for r in rows if r["run"] == str(runs["planning"])]
    for r in mine:
        assert r["dataset"] == "/data/quickstart/test" and r["ci_metric"] == "success"
        lo, hi, value = _num(r["ci_low"]), _num(r["ci_high"]), _num(r["success"])
        assert lo <= value <= hi
        if r["level"] not in ("macro",):
            cell = [x for x in results if x["task"] == r["task"] and str(x["level"]) == r["level"] and not x["error"]]
            assert int(r["n"]) == len(cell) == summary["by_task_level"][r["task"]][r["level"]]["n"]
            assert (lo, hi) == pytest.approx(wilson(sum(x["scores"]["success"] for x in cell), len(cell)))
            assert r["ci_method"] == "wilson"
        else:
            assert r["ci_method"] == "bootstrap"
    first = next(r for r in mine if r["level"] == "3" and r["task"] == "frozenlake")
    assert int(first["errors"]) == 1 and int(first["n"]) == 4  # the errored case is in no rate
    md = (out / "report.md").read_text()
    assert "| run | pipeline | variant | dataset | metric | n | errors | all-task macro | 95% CI |" in md
    assert "Wilson score interval" in md and "percentile bootstrap, 2000 resamples" in md and "seed 0" in md
    assert "quickstart/test" in md


def test_format_fell_truncation_and_tokens(runs, tmp_path):
    out = write_report([str(runs["planning"])], tmp_path / "report")
    results = [json.loads(l) for l in (runs["planning"] / "results.jsonl").read_text().splitlines()]
    replies = [r for r in results if not r["error"]]
    total = next(r for r in _csv(out) if r["task"] == "all")
    assert _num(total["truncated"]) == pytest.approx(
        sum(r["finish_reason"] == "length" for r in replies) / len(replies)
    )
    assert int(total["prompt_tokens"]) == sum(r["prompt_tokens"] for r in replies)
    assert int(total["completion_tokens"]) == sum(r["completion_tokens"] for r in replies)
    for key in ("format", "fell", "illegal"):
        assert total[key] != ""
    md = (out / "report.md").read_text()
    header = next(l for l in md.splitlines() if l.startswith("| task | level | dataset"))
    for column in ("format", "fell", "truncated", "prompt tokens", "completion tokens"):
        assert f"| {column} |" in header
    report = json.loads((out / "report.json").read_text())
    assert report["intervals"]["confidence"] == 0.95 and "Wilson" in report["intervals"]["cells"]


def test_perception_fields_per_task(runs, tmp_path):
    out = write_report([str(runs["perception"])], tmp_path / "report")
    md = (out / "report.md").read_text()
    assert (
        "| level | dataset | n | errors | field_accuracy | 95% CI | all_correct | size | player | goal | holes | safe_moves |"
        in md
    )
    assert "| size | player | goal | open_directions | legal_moves |" in md
    assert "| size | agent | printer | table | printer_side | table_side | legal_moves |" in md
    rows = [r for r in _csv(out) if r["task"] == "maze" and r["level"] == "3"]
    assert rows[0]["open_directions"] != "" and rows[0]["open_directions_f1"] != "" and rows[0]["holes"] == ""
    assert rows[0]["ci_metric"] == "field_accuracy" and rows[0]["ci_method"] == "bootstrap"


def test_old_runs_get_intervals_from_their_rows(tmp_path):
    rows = make_rows("planning", 0.5, per_cell=3, usage=False)
    old = write_run(tmp_path / "old", "planning", rows, "old", statistics=False)
    bare = write_run(tmp_path / "bare", "planning", rows, "bare", statistics=False)
    (bare / "results.jsonl").unlink()
    out = write_report([str(old), str(bare)], tmp_path / "report")
    table = _csv(out)
    with_rows = [r for r in table if r["run"] == str(old)]
    without = [r for r in table if r["run"] == str(bare)]
    assert all(r["ci_low"] != "" for r in with_rows) and all(r["truncated"] == "" for r in with_rows)
    assert all(r["ci_low"] == "" for r in without)
    assert "summarised before intervals existed" in (out / "report.md").read_text()
    # rows that do not match the summary's counts are not used
    (old / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[1:]))
    out = write_report([str(old)], tmp_path / "report2")
    assert all(r["ci_low"] == "" for r in _csv(out))


def test_zero_width_bootstrap_is_marked(tmp_path):
    run = write_run(tmp_path / "zero", "planning", make_rows("planning", 0.0, per_cell=1), "zero")
    out = write_report([str(run)], tmp_path / "report")
    md = (out / "report.md").read_text()
    assert "[0.000, 0.000]†" in md and "[0.000, 0.793]" in md  # the macro, and a 0/1 cell by Wilson


def test_stale_plots_are_removed_and_other_files_kept(runs, tmp_path):
    out = tmp_path / "report"
    training = write_single_metrics(tmp_path / "train")
    write_report([str(p) for p in runs.values()], out, training=[str(training)])
    assert {p.name for p in out.glob("*.png")} == {
        "success_by_level.png",
        "modality_gap.png",
        "diagnostics.png",
        "training_curves.png",
    }
    (out / "notes.txt").write_text("mine")
    write_report([str(runs["planning"])], out)
    assert {p.name for p in out.glob("*.png")} == {"success_by_level.png"} and (out / "notes.txt").is_file()
    assert "modality_gap.png" not in (out / "report.md").read_text()
    write_report([str(runs["perception"])], out)
    assert not list(out.glob("*.png"))


def test_format_summary_shows_intervals(runs):
    summary = json.loads((runs["planning"] / "summary.json").read_text())
    text = format_summary(summary)
    assert "| success | 95% CI |" in text and "[0." in text


def test_cli_report_with_training_and_errors(runs, tmp_path):
    training = write_single_metrics(tmp_path / "train")
    out = tmp_path / "report"
    proc = mgsd("report", str(runs["planning"]), "--training", str(training), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert (out / "training_curves.png").is_file() and "## Training" in proc.stdout
    proc = mgsd("report", "--training", str(training))  # training only: the report goes beside it
    assert proc.returncode == 0, proc.stderr
    assert (training / "report" / "training_curves.png").is_file()
    proc = mgsd("report")
    assert proc.returncode == 2 and "nothing to report" in proc.stderr
    proc = mgsd("report", str(runs["planning"]), "--training", str(tmp_path / "nope"), "--out", str(out))
    assert proc.returncode == 2 and "no metrics.jsonl" in proc.stderr


def test_a_cell_of_errors_only_has_no_rate(tmp_path):
    rows = make_rows("planning", 0.5, per_cell=1, errors=3)  # the first level of each task errored
    run = write_run(tmp_path / "run", "planning", rows, "err")
    out = write_report([str(run)], tmp_path / "report")
    cell = next(r for r in _csv(out) if r["task"] == "maze" and r["level"] == "3")
    assert cell["n"] == "0" and cell["errors"] == "1" and cell["success"] == "" and cell["ci_low"] == ""
    assert (out / "success_by_level.png").is_file()
