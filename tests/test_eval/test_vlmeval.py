"""The VLMEvalKit TSV export and the benchmark logic behind the classes, without vlmeval (the `eval`
environment; VLMEvalKit itself runs in tests/test_vlmeval)."""

import base64
import csv
import importlib.util

import pytest
from evalhelpers import mgsd

from mgsd_eval.vlmeval_datasets import FAIL_MSG, MGSDBenchmark, datasets, read_tsv, tsv_path
from task_envs.dataset.folder import load_dataset


@pytest.mark.parametrize("kind", ["plan", "perception"])
def test_export_and_scoring(test_split, tmp_path, monkeypatch, kind):
    out = tmp_path / "MGSD_All.tsv"
    proc = mgsd("data", "export", "vlmeval", "--data", str(test_split), "--out", str(out), "--kind", kind)
    assert proc.returncode == 0, proc.stderr
    dataset = load_dataset(test_split)
    rows = read_tsv(out)
    assert len(rows) == len(dataset.samples)
    assert set(rows[0]) >= {"index", "image", "question", "answer", "category", "level", "record"}
    first = dataset.samples[0]
    assert base64.b64decode(rows[0]["image"]) == dataset.image_path(first).read_bytes()
    assert "<image>" not in rows[0]["question"]
    monkeypatch.setenv("MGSD_VLMEVAL_DIR", str(tmp_path))
    bench = MGSDBenchmark("MGSD_All")
    assert MGSDBenchmark.message(rows[0], "/x.png")[0] == {"type": "image", "value": "/x.png"}
    # predictions = the answers: everything right; predictions = nonsense: nothing right
    for prediction, expected in ((None, 1.0), ("no idea", 0.0)):
        preds = tmp_path / f"preds_{expected}.tsv"
        with preds.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]) + ["prediction"], delimiter="\t")
            writer.writeheader()
            writer.writerows(
                {**r, "prediction": r["answer"] if prediction is None else prediction} for r in bench.rows()
            )
        result = bench.evaluate_file(str(preds))
        key = "field_accuracy" if kind == "perception" else "success"
        assert result["all_tasks_macro"][key] == expected
        assert (tmp_path / f"preds_{expected}_score.json").is_file()
        table = list(csv.DictReader((tmp_path / f"preds_{expected}_acc.csv").open()))
        assert table[-1]["task"] == "all_tasks" and float(table[-1][key]) == expected
        assert len(table) == sum(len(levels) + 1 for levels in result["by_task_level"].values()) + 1


def test_per_task_classes_filter_their_rows(test_split, tmp_path, monkeypatch):
    assert (
        mgsd(
            "data", "export", "vlmeval", "--data", str(test_split), "--out", str(tmp_path / "MGSD_Maze.tsv")
        ).returncode
        == 0
    )
    monkeypatch.setenv("MGSD_VLMEVAL_DIR", str(tmp_path))
    assert {r["category"] for r in MGSDBenchmark("MGSD_Maze").rows()} == {"maze"}
    with pytest.raises(FileNotFoundError, match="mgsd data export vlmeval"):
        MGSDBenchmark("MGSD_FrozenLake").rows()
    assert set(datasets()) == {"MGSD_FrozenLake", "MGSD_Maze", "MGSD_MiniBehaviour", "MGSD_All"}


def test_task_classes_read_the_all_tasks_export(test_split, tmp_path, monkeypatch):
    """The README's path: one MGSD_All.tsv, then any MGSD_<task> (its own TSV wins when present)."""
    assert (
        mgsd("data", "export", "vlmeval", "--data", str(test_split), "--out", str(tmp_path / "MGSD_All.tsv")).returncode
        == 0
    )
    monkeypatch.delenv("MGSD_VLMEVAL_DIR", raising=False)
    monkeypatch.setenv("LMUData", str(tmp_path))
    tasks = {s["task"] for s in load_dataset(test_split).samples}
    for name, (task,) in ((n, t) for n, t in datasets().items() if n != "MGSD_All" and t[0] in tasks):
        assert tsv_path(name) == tmp_path / "MGSD_All.tsv"
        assert {r["category"] for r in MGSDBenchmark(name).rows()} == {task}
    assert len(MGSDBenchmark("MGSD_All").rows()) == len(load_dataset(test_split).samples)


def test_failed_requests_are_errors_not_wrong_answers(test_split, tmp_path, monkeypatch):
    """VLMEvalKit writes its failure message as the prediction when the API never answered: such rows count
    in `errors` and stay out of the rates, as failed requests do in `mgsd eval`."""
    assert (
        mgsd("data", "export", "vlmeval", "--data", str(test_split), "--out", str(tmp_path / "MGSD_All.tsv")).returncode
        == 0
    )
    monkeypatch.setenv("MGSD_VLMEVAL_DIR", str(tmp_path))
    bench = MGSDBenchmark("MGSD_All")
    rows = bench.rows()
    lines = [{**r, "prediction": FAIL_MSG if i == 0 else r["answer"]} for i, r in enumerate(rows)]
    summary = bench.score_predictions(lines)
    assert summary["micro"]["errors"] == 1 and summary["micro"]["n"] == len(rows) - 1
    assert summary["micro"]["success"] == 1.0


@pytest.mark.skipif(importlib.util.find_spec("vlmeval") is not None, reason="vlmeval is installed")
def test_vlmeval_is_imported_lazily():
    import mgsd_eval.vlmeval_datasets as module

    with pytest.raises(ImportError):
        module.dataset_classes()
