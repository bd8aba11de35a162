"""LLaMA-Factory export: sharegpt records with messages and images, a dataset_info entry, clear errors."""

import json

import pytest

from task_envs import get_task
from task_envs.answers import parse_answer
from task_envs.dataset.folder import DatasetError, load_dataset
from task_envs.dataset.generate import GenerateSpec, build_dataset
from task_envs.exporters.llamafactory import export_llamafactory
from task_envs.exporters.selection import parse_task_weights
from task_envs.perception import score_perception


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp("lf")
    a = build_dataset(
        GenerateSpec(("frozenlake", "maze"), {"frozenlake": (3, 4), "maze": (3,)}, 4, "train", 0),
        root / "a",
        progress=False,
    )[0]
    b = build_dataset(
        GenerateSpec(("minibehaviour",), {"minibehaviour": (5,)}, 4, "train", 0), root / "b", progress=False
    )[0]
    return root, [str(a), str(b)]


def test_perception_export_is_a_complete_llamafactory_dataset(datasets):
    root, data = datasets
    out, name, count = export_llamafactory(data, root / "perception")
    assert name == "mgsd_perception" and count == 16
    info = json.loads((out / "dataset_info.json").read_text())
    assert info[name]["formatting"] == "sharegpt" and info[name]["columns"] == {
        "messages": "messages",
        "images": "images",
    }
    records = json.loads((out / info[name]["file_name"]).read_text())
    samples = {s["id"]: (s, inst) for path in data for s, inst in load_dataset(path).instances()}
    for record in records:
        user, assistant = record["messages"]
        assert (
            user["role"] == "user" and user["content"].startswith("<image>") and user["content"].count("<image>") == 1
        )
        assert assistant["role"] == "assistant"
        assert len(record["images"]) == 1 and (out / record["images"][0]).is_file()
        sample, inst = samples[record["id"]]
        assert score_perception(sample["task"], inst, assistant["content"])["all_correct"] == 1
        assert (out / record["images"][0]).read_bytes() == (
            load_dataset(data[0] if sample["task"] != "minibehaviour" else data[1]).root / sample["image"]
        ).read_bytes()


def test_plan_export_holds_the_optimal_plan(datasets):
    root, data = datasets
    out, name, _ = export_llamafactory(data, root / "plan", kind="plan")
    for record in json.loads((out / f"{name}.json").read_text()):
        task = get_task(record["task"])
        parsed = parse_answer(record["messages"][1]["content"], task.name)
        assert parsed.ok and "Reason briefly" in record["messages"][0]["content"]


def test_task_mix(datasets):
    root, data = datasets
    _, name, count = export_llamafactory(
        data, root / "mix", per_level=2, task_weights=parse_task_weights("minibehaviour=3")
    )
    records = json.loads((root / "mix" / f"{name}.json").read_text())
    by_task = {t: sum(r["task"] == t for r in records) for t in ("frozenlake", "maze", "minibehaviour")}
    assert by_task == {"frozenlake": 4, "maze": 2, "minibehaviour": 6} and count == 12


def test_bad_inputs(datasets, tmp_path):
    root, data = datasets
    with pytest.raises(DatasetError, match="no such dataset folder"):
        export_llamafactory([str(tmp_path / "none")], tmp_path / "o")
    with pytest.raises(DatasetError, match="--kind"):
        export_llamafactory(data, tmp_path / "o", kind="poem")
    with pytest.raises(DatasetError, match="task=integer"):
        parse_task_weights("maze=lots")
    with pytest.raises(DatasetError, match="also appears in"):
        export_llamafactory([data[0], data[0]], tmp_path / "o")
    export_llamafactory(data, tmp_path / "o")
    with pytest.raises(DatasetError, match="--force"):
        export_llamafactory(data, tmp_path / "o")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "x.txt").write_text("mine")
    with pytest.raises(DatasetError, match="refusing"):
        export_llamafactory(data, tmp_path / "notes", force=True)
    assert not list(tmp_path.glob("*.incomplete"))
