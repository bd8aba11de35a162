"""Training curves from both trainers' metrics: the single-process rows, verl's ``{"step", "data"}`` rows, a
resumed verl run's dated files merged (redone steps replaced), torn lines skipped, the plot drawn."""

import json
import struct

import pytest
from reportdata import verl_rows, write_single_metrics, write_verl_metrics

from mgsd_eval.curves import metric_files, plot_training_curves, read_training, summary_of
from task_envs.errors import TaskError


def test_single_process_metrics(tmp_path):
    run = read_training(write_single_metrics(tmp_path / "sp", steps=6, val_every=2))
    assert run.trainer == "single" and run.label == "sp"
    assert run.series("actor/reverse_kl") == [(s, pytest.approx(0.5 / s)) for s in range(1, 7)]
    assert [s for s, _ in run.series("val/reward_score")] == [0, 2, 4, 6]
    assert run.series("response_length/mean")[0] == (1, 31.0)
    info = summary_of(run)
    assert info["steps"] == 6 and info["best_val"] == {"step": 6, "value": pytest.approx(0.7)}


def test_verl_metrics_of_a_resumed_run(tmp_path):
    out = tmp_path / "verl"
    write_verl_metrics(out / "metrics.20250101-000000.jsonl", verl_rows(range(0, 7)))  # crashed after step 6
    write_verl_metrics(out / "metrics.20250102-000000.jsonl", verl_rows(range(4, 9), base=0.5))  # resumed from 4
    path = write_verl_metrics(out / "metrics.jsonl", verl_rows(range(8, 11), base=0.9))  # resumed from 8
    with path.open("a") as f:
        f.write('{"step": 11, "data": {"actor/dis')  # torn by a kill
    assert [p.name for p in metric_files(out)] == [
        "metrics.20250101-000000.jsonl",
        "metrics.20250102-000000.jsonl",
        "metrics.jsonl",
    ]
    run = read_training(out)
    assert run.trainer == "verl" and sorted(run.steps) == list(range(0, 11))
    val = dict(run.series("val/reward_score"))
    assert val == {
        0: 0.0,
        2: pytest.approx(0.1),
        4: pytest.approx(0.7),
        6: pytest.approx(0.8),
        8: pytest.approx(1.0),
        10: pytest.approx(1.0),
    }
    assert dict(run.series("actor/distillation/abs_loss"))[5] == pytest.approx(0.4 / 5)
    assert [s for s, _ in run.series("actor/distillation/loss")] == list(range(1, 11))
    assert dict(run.series("response_length/mean"))[10] == 40.0


def test_one_metrics_file_and_missing_folder(tmp_path):
    path = write_verl_metrics(tmp_path / "x" / "metrics.jsonl", verl_rows(range(0, 3)))
    assert read_training(path).label == "x"
    with pytest.raises(TaskError, match="no metrics.jsonl"):
        read_training(tmp_path / "empty")
    (tmp_path / "blank").mkdir()
    (tmp_path / "blank" / "metrics.jsonl").write_text("")
    assert read_training(tmp_path / "blank").trainer == "empty"


def test_plot(tmp_path):
    runs = [read_training(write_single_metrics(tmp_path / f"sp{i}", steps=3 + i)) for i in range(6)]
    runs.append(read_training(write_verl_metrics(tmp_path / "verl" / "metrics.jsonl", verl_rows(range(0, 5)))))
    png = tmp_path / "training_curves.png"
    assert plot_training_curves(runs, png)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and min(struct.unpack(">II", data[16:24])) > 300
    assert not plot_training_curves([], tmp_path / "none.png")
    json.dumps(summary_of(runs[-1]))  # report.json can hold it
