"""The three pipelines against a real server on the tiny Qwen3-VL, started with the launcher a GPU user runs:
evaluate/serve_vllm.sh (vLLM's CPU build here; MGSD_TEST_SERVER=llamafactory serves with
evaluate/serve_llamafactory.sh instead). Real HTTP, real chat template, then `mgsd report` over the runs. Scores are
low and that is fine: the rows and the report are checked."""

import csv
import json
import os
import struct
import sys

import pytest
from evalhelpers import ROOT, mgsd

from task_envs.dataset.folder import load_dataset

sys.path.insert(0, str(ROOT / "tests" / "test_vllm"))
from served import serve, setup_env, tiny_model  # noqa: E402  (shared with the vllm suite)

SERVER = os.environ.get("MGSD_TEST_SERVER", "vllm")

SAMPLING = [
    "--temperature",
    "1.0",
    "--seed",
    "1",
    "--max-tokens",
    "24",
    "--concurrency",
    "2",
    "--limit",
    "1",
    "--quiet",
]


@pytest.fixture(scope="module")
def served_model(tmp_path_factory):
    """(base_url, served name) of the tiny model behind evaluate/serve_vllm.sh (or serve_llamafactory.sh)."""
    if SERVER not in ("vllm", "llamafactory"):
        raise ValueError(f"MGSD_TEST_SERVER must be vllm or llamafactory, got {SERVER!r}")
    env = (
        {"MGSD_OPCD_PYTHON": setup_env("opcd")}
        if SERVER == "vllm"
        else {"MGSD_SFT_PYTHON": setup_env("sft"), "MAX_NEW_TOKENS": "24"}
    )
    with serve(SERVER, tiny_model(), tmp_path_factory.mktemp("server"), env=env) as (url, name, _, _):
        yield url, name


@pytest.fixture(scope="module")
def runs(served_model, test_split, tmp_path_factory):
    url, name = served_model
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for pipeline in ("planning", "perception", "modality-gap"):
        run = root / pipeline
        proc = mgsd("eval", pipeline, "--data", str(test_split), "--out", str(run), "--base-url", url, *SAMPLING)
        assert proc.returncode == 0, proc.stderr[-2000:]
        out[pipeline] = run
    return out, name


def _rows(run):
    return [json.loads(l) for l in (run / "results.jsonl").read_text().splitlines()]


def test_rows_of_every_pipeline(runs, test_split):
    paths, name = runs
    cells = {(s["task"], s["level"]) for s in load_dataset(test_split).samples}
    for pipeline, run in paths.items():
        rows = _rows(run)
        expected = len(cells) * (2 if pipeline == "modality-gap" else 1)
        assert len(rows) == expected and len({r["key"] for r in rows}) == expected
        assert {(r["task"], r["level"]) for r in rows} == cells
        for row in rows:
            assert row["error"] is None and row["model"] == name and row["endpoint"].endswith("/v1")
            assert isinstance(row["text"], str) and row["latency_s"] > 0 and row["scores"] is not None
        summary = json.loads((run / "summary.json").read_text())
        assert summary["cases"] == expected and summary["errors"] == 0 and summary["model"] == name
    variants = {r["variant"] for r in _rows(paths["modality-gap"])}
    assert variants == {"visual", "symbolic"}
    assert all("field_accuracy" in r["scores"] for r in _rows(paths["perception"]))
    assert all(
        {"success", "optimal", "progress", "parse", "illegal"} <= set(r["scores"]) for r in _rows(paths["planning"])
    )


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_report_files_hold_the_numbers_of_the_summaries(runs, tmp_path):
    paths, _ = runs
    out = tmp_path / "report"
    proc = mgsd("report", *map(str, paths.values()), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    print(proc.stdout)  # the report table (shown with pytest -s)
    for name in ("report.json", "report.csv", "report.md", "success_by_level.png", "modality_gap.png"):
        assert (out / name).is_file()
    assert min(_png_size(out / "success_by_level.png")) > 200 and min(_png_size(out / "modality_gap.png")) > 200
    rows = list(csv.DictReader((out / "report.csv").open()))
    for pipeline, run in paths.items():
        summary = json.loads((run / "summary.json").read_text())
        views = (
            {"visual": summary["metrics"]["visual"], "symbolic": summary["metrics"]["symbolic"]}
            if pipeline == "modality-gap"
            else {None: summary["metrics"]}
        )
        key = "field_accuracy" if pipeline == "perception" else "success"
        for variant, metrics in views.items():
            mine = [r for r in rows if r["run"] == str(run) and (variant is None or r["variant"] == variant)]
            allrow = next(r for r in mine if r["task"] == "all")
            assert float(allrow[key]) == pytest.approx(metrics["all_tasks_macro"][key])
            for task, levels in metrics["by_task_level"].items():
                for level, entry in levels.items():
                    row = next(r for r in mine if r["task"] == task and r["level"] == level)
                    assert float(row[key]) == pytest.approx(entry[key]) and int(row["n"]) == entry["n"]
        assert f"`{run}`" in (out / "report.md").read_text()
    gap = json.loads((paths["modality-gap"] / "summary.json").read_text())["metrics"]["gap"]["all_tasks_macro"]
    assert f"{gap:+.3f}" in (out / "report.md").read_text()


def test_report_needs_out_for_several_runs(runs):
    paths, _ = runs
    proc = mgsd("report", *map(str, paths.values()))
    assert proc.returncode == 2 and "--out is required" in proc.stderr
    proc = mgsd("report", str(paths["planning"] / "nope"))
    assert proc.returncode == 2 and "no summary.json" in proc.stderr
