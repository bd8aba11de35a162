"""The mgsd CLI end to end: generate, import, oracle, score; bad input gives one line and exit 2."""

import json
import subprocess
import sys

import pytest

from .fixtures import write_visualplanning, write_vsp


def mgsd(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "task_envs", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def assert_one_line_error(result, *needles):
    assert result.returncode == 2, result.stderr
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mgsd")
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    r = mgsd(
        "data",
        "generate",
        "--per-level",
        4,
        "--split",
        "test",
        "--levels",
        "frozenlake=3,8",
        "--levels",
        "maze=3",
        "--levels",
        "minibehaviour=5",
        "--out",
        root / "test",
        "--workers",
        2,
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    write_vsp(root / "maps", levels=(3, 5), per_level=2)
    assert mgsd("data", "import", "vsp", "--src", root / "maps", "--out", root / "vsp", "--quiet").returncode == 0
    src = root / "vp" / "minibehaviour" / "test_dataset.jsonl"
    write_visualplanning(src, "minibehaviour", (5, 6), per_level=2)
    r = mgsd(
        "data", "import", "visualplanning", "--task", "minibehavior", "--src", src, "--out", root / "vp_mb", "--quiet"
    )
    assert r.returncode == 0, r.stderr
    return root


def test_oracle_scores_perfectly_on_generated_and_imported_data(built):
    data = ["--data", built / "test", "--data", built / "vsp", "--data", built / "vp_mb"]
    r = mgsd("oracle", *data, "--out", built / "preds.jsonl", "--quiet")
    assert r.returncode == 0, r.stderr
    r = mgsd("score", *data, "--predictions", built / "preds.jsonl", "--out", built / "metrics.json", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "headline (all_tasks_macro.success): 1.000" in r.stdout
    metrics = json.loads((built / "metrics.json").read_text())
    assert metrics["headline"]["metric"] == "all_tasks_macro.success"
    for entry in [metrics["all_tasks_macro"], *metrics["by_task"].values()] + [
        e for levels in metrics["by_task_level"].values() for e in levels.values()
    ]:
        assert entry["success"] == entry["optimal"] == entry["progress"] == 1.0
    assert metrics["by_task_level"]["frozenlake"].keys() == {"3", "5", "8"}
    assert metrics["missing_predictions"] == 0


def test_score_macro_is_over_levels_then_tasks(built):
    preds = [json.loads(l) for l in (built / "preds.jsonl").read_text().splitlines()]
    # Break every frozenlake level-3 answer: frozenlake macro = 2/3 (levels 3, 5, 8), all-task = (2/3 + 1 + 1) / 3.
    broken = [
        {"id": p["id"], "response": "no idea"}
        if p["id"].startswith(("frozenlake_test_level3", "frozenlake_vsp_level3"))
        else p
        for p in preds
    ]
    (built / "broken.jsonl").write_text("".join(json.dumps(p) + "\n" for p in broken))
    r = mgsd(
        "score",
        "--data",
        built / "test",
        "--data",
        built / "vsp",
        "--data",
        built / "vp_mb",
        "--predictions",
        built / "broken.jsonl",
        "--out",
        built / "m2.json",
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    m = json.loads((built / "m2.json").read_text())
    assert m["by_task_level"]["frozenlake"]["3"]["success"] == 0.0
    assert m["by_task"]["frozenlake"]["success"] == pytest.approx(2 / 3)
    assert m["all_tasks_macro"]["success"] == pytest.approx((2 / 3 + 1 + 1) / 3)


def test_missing_predictions_count_as_failures(built):
    preds = (built / "preds.jsonl").read_text().splitlines()
    (built / "half.jsonl").write_text("\n".join(preds[::2]) + "\n")
    r = mgsd(
        "score",
        "--data",
        built / "test",
        "--data",
        built / "vsp",
        "--data",
        built / "vp_mb",
        "--predictions",
        built / "half.jsonl",
        "--quiet",
    )
    assert r.returncode == 0 and "have no prediction" in r.stdout


def test_rerun_with_same_spec_reuses(built):
    r = mgsd(
        "data",
        "generate",
        "--per-level",
        4,
        "--split",
        "test",
        "--levels",
        "frozenlake=3,8",
        "--levels",
        "maze=3",
        "--levels",
        "minibehaviour=5",
        "--out",
        built / "test",
        "--quiet",
    )
    assert r.returncode == 0 and "reused" in r.stdout


def test_bad_inputs(built, tmp_path):
    assert_one_line_error(
        mgsd("score", "--data", tmp_path / "nope", "--predictions", built / "preds.jsonl"),
        "nope",
        "no such dataset folder",
    )
    assert_one_line_error(
        mgsd("score", "--data", built / "test", "--predictions", tmp_path / "none.jsonl"), "none.jsonl", "no such file"
    )
    corrupt = tmp_path / "corrupt.jsonl"
    lines = (built / "preds.jsonl").read_text().splitlines()
    corrupt.write_text("\n".join([lines[0], "{oops", lines[1]]) + "\n")
    assert_one_line_error(
        mgsd("score", "--data", built / "test", "--predictions", corrupt), "corrupt.jsonl line 2", "not valid JSON"
    )
    assert_one_line_error(
        mgsd("data", "import", "visualplanning", "--task", "chess", "--src", corrupt, "--out", tmp_path / "o"),
        "unknown task 'chess'",
    )
    assert_one_line_error(mgsd("data", "generate", "--tasks", "frozenlake,sudoku", "--out", tmp_path / "o"), "sudoku")
    assert_one_line_error(mgsd("data", "generate", "--levels", "maze=40", "--out", tmp_path / "o"), "level")
    assert_one_line_error(mgsd("data", "generate", "--levels", "three", "--out", tmp_path / "o"), "--levels")
    assert_one_line_error(
        mgsd("data", "import", "vsp", "--src", tmp_path / "missing", "--out", tmp_path / "o"), "no such folder"
    )
    samples = built / "test" / "samples.jsonl"
    broken = tmp_path / "broken_ds"
    subprocess.run(["cp", "-r", built / "test", broken], check=True)
    text = (broken / "samples.jsonl").read_text().splitlines()
    text[2] = text[2].replace('"map"', '"mop"')
    (broken / "samples.jsonl").write_text("\n".join(text) + "\n")
    assert_one_line_error(
        mgsd("oracle", "--data", broken, "--out", tmp_path / "p.jsonl"), "samples.jsonl line 3", "state.map"
    )
    assert not (tmp_path / "p.jsonl").exists()
    assert_one_line_error(mgsd("data", "verify", broken), "sha256")
    assert samples.exists()


def test_help_explains_every_command():
    for args in (
        ["--help"],
        ["data", "generate", "--help"],
        ["data", "import", "vsp", "--help"],
        ["data", "import", "visualplanning", "--help"],
        ["oracle", "--help"],
        ["score", "--help"],
    ):
        r = mgsd(*args)
        assert r.returncode == 0 and "usage: mgsd" in r.stdout
