"""`mgsd eval --tasks/--levels`: the syntax (and parser) of `mgsd data generate`, on every pipeline; recorded in
the fingerprint (tests/test_eval/test_fingerprint.py)."""

import json

import pytest
from evalhelpers import mgsd_inproc

from task_envs import TASKS, get_task


def cells(run) -> set:
    return {(r["task"], r["level"]) for r in map(json.loads, (run / "results.jsonl").read_text().splitlines())}


def run_eval(capsys, server, data, run, pipeline, *flags):
    rc, _, err = mgsd_inproc(
        capsys,
        "eval",
        pipeline,
        "--data",
        data,
        "--out",
        run,
        "--base-url",
        server.base_url,
        "--model",
        "m",
        "--limit",
        "1",
        "--quiet",
        *flags,
    )
    assert rc == 0, err
    return cells(run)


def all_cells(tasks=TASKS) -> set:
    return {(t, level) for t in tasks for level in get_task(t).default_levels}


@pytest.mark.parametrize("pipeline", ["planning", "perception", "modality-gap"])
def test_tasks_and_levels_select_cases(mock_server, test_split, tmp_path, capsys, pipeline):
    server = mock_server()
    assert run_eval(capsys, server, test_split, tmp_path / "a", pipeline, "--tasks", "maze") == all_cells(["maze"])
    assert run_eval(
        capsys, server, test_split, tmp_path / "b", pipeline, "--tasks", "maze,frozenlake", "--levels", "3-4"
    ) == {(t, level) for t in ("frozenlake", "maze") for level in (3, 4)}
    info = json.loads((tmp_path / "b" / "run.json").read_text())
    assert info["tasks"] == ["frozenlake", "maze"] and info["levels"] == {"frozenlake": [3, 4], "maze": [3, 4]}


def test_a_level_for_one_task_leaves_the_others_whole(mock_server, test_split, tmp_path, capsys):
    server = mock_server()
    got = run_eval(
        capsys, server, test_split, tmp_path / "a", "planning", "--levels", "maze=3,5", "--levels", "frozenlake=4"
    )
    assert got == {("maze", 3), ("maze", 5), ("frozenlake", 4)} | all_cells(["minibehaviour"])
    # later values win, as for `mgsd data generate`
    got = run_eval(capsys, server, test_split, tmp_path / "b", "planning", "--levels", "6", "--levels", "maze=3")
    assert got == {("frozenlake", 6), ("maze", 3), ("minibehaviour", 6)}


def test_an_installed_task_the_data_does_not_hold_leaves_an_all_task_level_valid(
    mock_server, test_split, tmp_path, capsys
):
    from task_envs.maze import Maze
    from task_envs.registry import register_task, unregister_task

    class Tall(Maze):
        name, min_level = "tall", 10

    register_task(Tall)
    try:
        got = run_eval(capsys, mock_server(), test_split, tmp_path / "a", "planning", "--levels", "5")
    finally:
        unregister_task("tall")
    assert got == {("frozenlake", 5), ("maze", 5), ("minibehaviour", 5)}


@pytest.mark.parametrize(
    "flags",
    [["--levels", "2"], ["--levels", "3-x"], ["--tasks", "nope"], ["--tasks", "maze", "--levels", "frozenlake=3"]],
)
def test_bad_filters_fail_as_in_data_generate(test_split, tmp_path, capsys, flags):
    """One line, the same as `mgsd data generate` gives for the same values; nothing written, no server asked."""
    rc, _, err = mgsd_inproc(capsys, "data", "generate", *flags, "--out", tmp_path / "never")
    assert rc == 2 and err.startswith("mgsd: error: ")
    expected = err
    rc, _, err = mgsd_inproc(
        capsys,
        "eval",
        "planning",
        "--data",
        test_split,
        "--out",
        tmp_path / "run",
        "--base-url",
        "http://127.0.0.1:9/v1",
        *flags,
    )
    assert (rc, err) == (2, expected) and len(err.splitlines()) == 1
    assert not (tmp_path / "never").exists() and not (tmp_path / "run").exists()


def test_a_filter_that_selects_nothing_is_an_error(test_split, tmp_path, capsys):
    from task_envs.dataset.generate import GenerateSpec, build_dataset

    data, _ = build_dataset(GenerateSpec(("maze",), {"maze": (3,)}, 1, "test", 0), tmp_path / "maze3", progress=False)
    rc, _, err = mgsd_inproc(
        capsys,
        "eval",
        "planning",
        "--data",
        data,
        "--out",
        tmp_path / "run",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--tasks",
        "frozenlake",
    )
    assert (rc, err) == (2, f"mgsd: error: no case of {data} matches --tasks/--levels\n")
