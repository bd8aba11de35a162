"""Dataset folders: splits disjoint, byte-identical for any worker count, atomic, verified, reused."""

import filecmp
import json

import pytest

import task_envs.dataset.generate as generate_module
from task_envs import TASKS, get_task
from task_envs.dataset.folder import DatasetError, load_dataset
from task_envs.dataset.generate import GenerateSpec, build_dataset
from task_envs.dataset.splits import split_of

LEVELS = {"frozenlake": (3, 4), "maze": (3, 4), "minibehaviour": (5,)}


def spec(split, per_level=9, seed=3, tasks=TASKS):
    return GenerateSpec(tuple(tasks), {t: LEVELS[t] for t in tasks}, per_level, split, seed)


def keys(folder):
    return {(s["task"], get_task(s["task"]).key(inst)) for s, inst in load_dataset(folder).instances()}


def tree_equal(a, b):
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    return all(tree_equal(a / d, b / d) for d in cmp.common_dirs)


def test_splits_of_one_build_are_disjoint(tmp_path):
    folders = {s: build_dataset(spec(s), tmp_path / s, progress=False)[0] for s in ("train", "val", "test")}
    found = {s: keys(f) for s, f in folders.items()}
    assert not found["train"] & found["val"]
    assert not found["train"] & found["test"]
    assert not found["val"] & found["test"]
    for split, ks in found.items():
        assert all(split_of(task, key) == split for task, key in ks)


def test_splits_stay_disjoint_across_seeds(tmp_path):
    train = keys(build_dataset(spec("train", seed=1), tmp_path / "a", progress=False)[0])
    test = keys(build_dataset(spec("test", seed=2), tmp_path / "b", progress=False)[0])
    assert not train & test


def test_no_duplicates_and_counts(tmp_path):
    out, _ = build_dataset(spec("train", per_level=30), tmp_path / "d", progress=False)
    ds = load_dataset(out)
    assert len(ds.samples) == 30 * 5
    assert len(keys(out)) == len(ds.samples)
    assert ds.manifest["counts"] == {
        "frozenlake": {"3": 30, "4": 30},
        "maze": {"3": 30, "4": 30},
        "minibehaviour": {"5": 30},
    }


def test_difficulty_buckets_cycle_for_maze_and_minibehaviour(tmp_path):
    out, _ = build_dataset(spec("train", per_level=9, tasks=("maze", "minibehaviour")), tmp_path / "d", progress=False)
    for sample in load_dataset(out).samples:
        index = int(sample["id"].rsplit("_", 1)[1])
        assert sample["difficulty"] == ("easy", "medium", "hard")[index % 3]


def test_byte_identical_for_any_worker_count(tmp_path):
    a, _ = build_dataset(spec("val"), tmp_path / "w1", workers=1, progress=False)
    b, _ = build_dataset(spec("val"), tmp_path / "w2", workers=2, progress=False)
    assert tree_equal(a, b)
    assert (a / "manifest.json").read_bytes() == (b / "manifest.json").read_bytes()


def test_samples_are_self_contained_and_verified(tmp_path):
    out, _ = build_dataset(spec("test", per_level=3), tmp_path / "d", progress=False)
    ds = load_dataset(out)
    ds.verify()
    for sample, inst in ds.instances():
        task = get_task(sample["task"])
        for key in (
            "id",
            "task",
            "level",
            "split",
            "seed",
            "state",
            "optimal_plan",
            "optimal_length",
            "difficulty",
            "image",
        ):
            assert key in sample
        assert task.optimal_plan(inst) == sample["optimal_plan"]
        assert (
            task.generate(sample["level"], sample["seed"], sample["difficulty"] if task.balanced_difficulty else None)
            == inst
        )
        assert (out / sample["image"]).is_file()
    (out / ds.samples[0]["image"]).write_bytes(b"tampered")
    with pytest.raises(DatasetError, match="sha256"):
        ds.verify()


def test_interrupted_build_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = generate_module._render_and_write

    def failing(args):
        calls["n"] += 1
        if calls["n"] == 7:
            raise KeyboardInterrupt
        return real(args)

    monkeypatch.setattr(generate_module, "_render_and_write", failing)
    with pytest.raises(KeyboardInterrupt):
        build_dataset(spec("train"), tmp_path / "d", workers=1, progress=False)
    assert not (tmp_path / "d").exists()
    assert not list(tmp_path.iterdir())


def test_leftover_incomplete_folder_is_not_a_dataset_and_is_replaced(tmp_path):
    stale = tmp_path / "d.incomplete"
    (stale / "images").mkdir(parents=True)
    with pytest.raises(DatasetError, match="manifest.json is missing"):
        load_dataset(stale)
    build_dataset(spec("train", per_level=2), tmp_path / "d", progress=False)
    assert not stale.exists() and (tmp_path / "d" / "manifest.json").is_file()


def test_same_spec_is_reused_other_spec_needs_force(tmp_path):
    out = tmp_path / "d"
    assert build_dataset(spec("train", per_level=2), out, progress=False)[1] is True
    assert build_dataset(spec("train", per_level=2), out, progress=False)[1] is False
    with pytest.raises(DatasetError, match="--force"):
        build_dataset(spec("train", per_level=3), out, progress=False)
    assert build_dataset(spec("train", per_level=3), out, force=True, progress=False)[1] is True
    assert load_dataset(out).manifest["spec"]["per_level"] == 3


def test_force_never_replaces_a_folder_that_is_not_a_dataset(tmp_path):
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("keep me")
    with pytest.raises(DatasetError):
        build_dataset(spec("train", per_level=2), precious, force=True, progress=False)
    assert (precious / "thesis.tex").read_text() == "keep me"


def test_impossible_request_fails_clearly(tmp_path):
    tiny = GenerateSpec(("frozenlake",), {"frozenlake": (2,)}, 500, "test", 0)
    with pytest.raises(DatasetError, match="distinct frozenlake level-2"):
        build_dataset(tiny, tmp_path / "d", progress=False)
    assert not (tmp_path / "d").exists()


def test_manifest_lists_every_file(tmp_path):
    out, _ = build_dataset(spec("train", per_level=2), tmp_path / "d", progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk
