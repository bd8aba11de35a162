"""The README's first command, end to end on CPU: every stage through its real launcher, then a second run that
reuses every finished stage."""

import csv
import json
import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    """A free port; the quickstart serves its three models on it, +10 and +20 (checked free by the script)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return min(s.getsockname()[1], 65000)


def test_quickstart_runs_every_stage_and_is_reentrant(tmp_path):
    env = {
        **os.environ,
        "OUT": str(tmp_path / "data"),
        "RUNS": str(tmp_path / "runs"),
        "MODELS_DIR": str(tmp_path / "models"),
        "QUICKSTART_PORT": str(_free_port()),
    }
    start = time.time()
    first = subprocess.run(
        ["bash", str(ROOT / "quickstart.sh")], env=env, capture_output=True, text=True, cwd=ROOT, timeout=1500
    )
    elapsed = time.time() - start
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    print(f"quickstart: {elapsed:.0f} s\n{first.stdout}")
    for stage in ("data", "sft", "opcd", "eval_base", "eval_sft", "eval_opcd"):
        assert f"[{stage}] ok" in first.stdout
        assert (tmp_path / "runs" / "logs" / f"{stage}.log").is_file()
    for model in ("sft", "opcd"):
        assert (tmp_path / "models" / model / "config.json").is_file()
    # verl's trainer (on its CPU backend here) wrote the distillation metrics and validated with the macro key
    metrics = [
        json.loads(l)["data"] for l in (tmp_path / "models" / "opcd_run" / "metrics.jsonl").read_text().splitlines()
    ]
    assert any("actor/distillation/loss" in m for m in metrics) and any("val/reward_score" in m for m in metrics)
    assert "TRAINER=verl" in (tmp_path / "runs" / "logs" / "opcd.log").read_text()
    report = tmp_path / "runs" / "report"
    rows = list(csv.DictReader((report / "report.csv").open()))
    labels = {r["label"] for r in rows}
    assert labels == {"base", "sft", "opcd"}
    assert {r["pipeline"] for r in rows} == {"planning", "perception", "modality-gap"}
    for png in ("success_by_level.png", "modality_gap.png", "training_curves.png", "diagnostics.png"):
        assert (report / png).stat().st_size > 1000
    diagnostics = json.loads((report / "report.json").read_text())["diagnostics"]
    assert set(diagnostics) == {"base", "sft", "opcd"}
    for label, tasks in diagnostics.items():
        assert set(tasks) == {"frozenlake", "maze", "minibehaviour"}
        assert all({"perception_x_planning", "symbolic_x_visual"} <= set(e) for e in tasks.values()), label
    assert "## Diagnostics" in (report / "report.md").read_text()
    for label in ("base", "sft", "opcd"):
        summary = json.loads((tmp_path / "runs" / label / "planning" / "summary.json").read_text())
        row = next(r for r in rows if r["label"] == label and r["pipeline"] == "planning" and r["task"] == "all")
        assert float(row["success"]) == summary["metrics"]["all_tasks_macro"]["success"] and summary["errors"] == 0

    second = subprocess.run(
        ["bash", str(ROOT / "quickstart.sh")], env=env, capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stdout.count("done before; reused") == 7  # data, tiny_model, sft, opcd, three evaluations
