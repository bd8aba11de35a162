"""``mgsd data export llamafactory --kind symbolic-plan``: text-only records (no image), two per case (the
modality-gap symbolic query and the OPCD teacher's input), each answered with an optimal plan."""

import json
import subprocess
import sys

import pytest

from task_envs import get_task
from task_envs.answers import format_answer
from task_envs.chat import IMAGE_TOKEN, REFERENCE_PLAN_LABEL, symbolic_messages, teacher_messages
from task_envs.dataset.folder import DatasetError, load_dataset
from task_envs.dataset.generate import GenerateSpec, build_dataset
from task_envs.exporters.llamafactory import export_llamafactory


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("symbolic")
    spec = GenerateSpec(
        ("frozenlake", "maze", "minibehaviour"),
        {"frozenlake": (3, 4), "maze": (3, 4), "minibehaviour": (4, 5)},
        3,
        "train",
        0,
    )
    return root, str(build_dataset(spec, root / "train", progress=False)[0])


def _records(out, name):
    info = json.loads((out / "dataset_info.json").read_text())
    return info, json.loads((out / info[name]["file_name"]).read_text())


def test_two_text_only_records_per_case_holding_the_optimal_plan(data):
    root, path = data
    out, name, count = export_llamafactory([path], root / "sp", kind="symbolic-plan")
    assert name == "mgsd_symbolic_plan" and count == 2 * 18
    info, records = _records(out, name)
    assert info[name]["columns"] == {"messages": "messages"} and info[name]["formatting"] == "sharegpt"
    assert info[name]["tags"]["system_tag"] == "system"
    assert not (out / "images").exists()
    samples = {s["id"]: (s, inst) for s, inst in load_dataset(path).instances()}
    variants = {}
    for record in records:
        assert "images" not in record and IMAGE_TOKEN not in json.dumps(record["messages"])
        sample, inst = samples[record["id"]]
        task = get_task(sample["task"])
        variants.setdefault(record["id"], []).append(record["variant"])
        *prompt, answer = record["messages"]
        # The exact chats the evaluation and the OPCD teacher build, so the trained model sees the same text.
        expected = (
            symbolic_messages(task.name, inst) if record["variant"] == "symbolic" else teacher_messages(task.name, inst)
        )
        assert prompt == expected
        assert answer == {"role": "assistant", "content": format_answer(sample["optimal_plan"])}
        scores = task.score(inst, answer["content"])
        assert scores["success"] == 1 and scores["optimal"] == 1 and scores["format"] == 1
    assert set(variants) == set(samples) and all(v == ["symbolic", "teacher"] for v in variants.values())
    teacher = [r for r in records if r["variant"] == "teacher"]
    assert all(
        r["messages"][0]["role"] == "system" and REFERENCE_PLAN_LABEL in r["messages"][1]["content"] for r in teacher
    )
    symbolic = [r for r in records if r["variant"] == "symbolic"]
    assert all([m["role"] for m in r["messages"]] == ["user", "assistant"] for r in symbolic)


def test_no_reference_plan_and_task_mix(data):
    root, path = data
    out, name, count = export_llamafactory(
        [path], root / "sp_noref", kind="symbolic-plan", reference_plan=False, per_level=1, name="plan_text"
    )
    assert name == "plan_text" and count == 2 * 6
    _, records = _records(out, name)
    assert not any(REFERENCE_PLAN_LABEL in json.dumps(r["messages"]) for r in records)
    samples = {s["id"]: inst for s, inst in load_dataset(path).instances()}
    for r in records:
        if r["variant"] == "teacher":
            assert r["messages"][:2] == teacher_messages(r["task"], samples[r["id"]], reference_plan=False)


def test_cli(data, tmp_path):
    root, path = data
    run = lambda *a: subprocess.run(
        [sys.executable, "-m", "task_envs", "data", "export", "llamafactory", *map(str, a)],
        capture_output=True,
        text=True,
    )
    r = run("--data", path, "--out", tmp_path / "sp", "--kind", "symbolic-plan")
    assert r.returncode == 0, r.stderr
    assert "36 symbolic-plan records" in r.stdout and "dataset: mgsd_symbolic_plan" in r.stdout
    r = run("--data", path, "--out", tmp_path / "sp2", "--kind", "symbolic-plan", "--no-reference-plan")
    assert r.returncode == 0 and REFERENCE_PLAN_LABEL not in (tmp_path / "sp2" / "mgsd_symbolic_plan.json").read_text()
    r = run("--data", path, "--out", tmp_path / "p", "--kind", "plan", "--no-reference-plan")
    assert r.returncode == 2 and "only for --kind symbolic-plan" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    with pytest.raises(DatasetError, match="--kind"):
        export_llamafactory([path], tmp_path / "x", kind="symbolic")
