"""Benchmark importers: VSP FrozenLake maps and VisualPlanning JSONL, with provenance and clear errors."""

import json

import numpy as np
import pytest
from PIL import Image

from task_envs import TASKS, get_task
from task_envs.dataset.folder import DatasetError, load_dataset
from task_envs.dataset.importers import import_visualplanning, import_vsp

from .fixtures import write_visualplanning, write_vsp


def test_vsp_import_parses_tables_and_keeps_the_benchmark_image(tmp_path):
    written = write_vsp(tmp_path / "maps")
    out, built = import_vsp(tmp_path / "maps", tmp_path / "vsp", progress=False)
    assert built
    ds = load_dataset(out)
    ds.verify()
    assert len(ds.samples) == len(written)
    task = get_task("frozenlake")
    for sample, inst in ds.instances():
        level, n = sample["level"], int(sample["id"].rsplit("_", 1)[1])
        assert inst.rows == written[(level, n)].rows
        assert sample["source"] == {
            "benchmark": "vsp",
            "file": f"level{level}/table/{n}.txt",
            "image": f"level{level}/img/{n}.png",
        }
        assert sample["split"] == "test" and "seed" not in sample
        image = Image.open(out / sample["image"])
        assert image.size == (256, 256) and image.mode == "RGB"
        # The benchmark's image, resized, is pixel-identical to our own render of the same map.
        assert (np.asarray(image) == np.asarray(task.render(inst))).all()


def test_vsp_levels_filter_and_reuse(tmp_path):
    write_vsp(tmp_path / "maps")
    out, _ = import_vsp(tmp_path / "maps", tmp_path / "vsp", levels=[4], progress=False)
    assert {s["level"] for s in load_dataset(out).samples} == {4}
    assert import_vsp(tmp_path / "maps", tmp_path / "vsp", levels=[4], progress=False)[1] is False


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda t: t.replace("_", "?", 1), "line 3: unknown cell token '?'"),
        (lambda t: t.replace("| Row 1 | ", "| Row 1 | _ | ", 1), "line 3: expected 3 cells in the row, got 4"),
        (lambda t: "\n".join(t.splitlines()[:-1]), "expected 3 'Row' lines, found 2"),
        (lambda t: t.replace("@", "_"), "exactly one S and one G"),
    ],
)
def test_vsp_malformed_table_names_file_and_line(tmp_path, corrupt, message):
    write_vsp(tmp_path / "maps", levels=(3,), per_level=1)
    table = tmp_path / "maps" / "level3" / "table" / "0.txt"
    table.write_text(corrupt(table.read_text()))
    with pytest.raises(DatasetError) as err:
        import_vsp(tmp_path / "maps", tmp_path / "vsp", progress=False)
    assert str(table) in str(err.value) and message in str(err.value)
    assert not (tmp_path / "vsp").exists() and not (tmp_path / "vsp.incomplete").exists()


def test_vsp_missing_image_and_empty_root(tmp_path):
    write_vsp(tmp_path / "maps", levels=(3,), per_level=1)
    (tmp_path / "maps" / "level3" / "img" / "0.png").unlink()
    with pytest.raises(DatasetError, match="missing image"):
        import_vsp(tmp_path / "maps", tmp_path / "vsp", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no level<N>/table"):
        import_vsp(tmp_path / "empty", tmp_path / "vsp", progress=False)


@pytest.mark.parametrize("name", TASKS)
def test_visualplanning_import_renders_from_meta(tmp_path, name):
    task = get_task(name)
    src = tmp_path / name / "tokenized_dataset" / "SFT" / "test_dataset.jsonl"
    instances = write_visualplanning(src, name, task.default_levels[:2])
    out, _ = import_visualplanning(name, src, tmp_path / "out", progress=False)
    ds = load_dataset(out)
    assert len(ds.samples) == len(instances)
    for line, ((sample, inst), expected) in enumerate(zip(ds.instances(), instances), start=1):
        assert task.key(inst) == task.key(expected)
        assert sample["source"] == {"benchmark": "visualplanning", "file": "test_dataset.jsonl", "line": line}
        assert sample["split"] == "test" and sample["id"].startswith(f"{name}_visualplanning_test_level")
        assert (np.asarray(Image.open(out / sample["image"])) == np.asarray(task.render(inst))).all()


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "line 2: not valid JSON"),
        ('{"input_state": []}', "line 2: missing field 'meta'"),
        ('{"meta": {"level": 4, "start_pos": 99, "target_pos": 1, "layout": []}}', "line 2: field 'meta.layout'"),
        ('{"meta": {"level": "four"}}', "line 2: field 'meta.level'"),
    ],
)
def test_visualplanning_malformed_line_names_file_and_line(tmp_path, line, message):
    src = tmp_path / "test_dataset.jsonl"
    write_visualplanning(src, "maze", (3,), per_level=1)
    with open(src, "a") as f:
        f.write(line + "\n")
    with pytest.raises(DatasetError) as err:
        import_visualplanning("maze", src, tmp_path / "out", progress=False)
    assert str(src) in str(err.value) and message in str(err.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, field", [("maze", "start_pos"), ("minibehaviour", "printer_pos")])
def test_visualplanning_position_outside_the_grid(tmp_path, name, field):
    src = tmp_path / "test_dataset.jsonl"
    write_visualplanning(src, name, (get_task(name).default_levels[0],), per_level=1)
    record = json.loads(src.read_text())
    record["meta"][field] = [99, 0]
    src.write_text(json.dumps(record) + "\n")
    with pytest.raises(DatasetError, match=f"line 1: field 'meta.{field}'.*outside"):
        import_visualplanning(name, src, tmp_path / "out", progress=False)


@pytest.mark.parametrize(
    "found, asked, level",
    [
        ("maze", "minibehaviour", 3),
        ("maze", "minibehaviour", 4),
        ("maze", "frozenlake", 4),
        ("frozenlake", "maze", 5),
        ("frozenlake", "minibehaviour", 5),
        ("minibehaviour", "maze", 5),
        ("minibehaviour", "frozenlake", 5),
    ],
)
def test_visualplanning_wrong_task_is_named(tmp_path, found, asked, level):
    """A file of another task is a wrong-task error (not a level or field error), before any other check."""
    src = tmp_path / "test_dataset.jsonl"
    write_visualplanning(src, found, (level,), per_level=1)
    with pytest.raises(
        DatasetError,
        match=f"line 1: field 'meta': this is a {found} case, not {asked} "
        rf"\(import it with --task {found}\)$",
    ):
        import_visualplanning(asked, src, tmp_path / "out", progress=False)
