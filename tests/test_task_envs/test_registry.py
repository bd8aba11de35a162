"""Task plugins: a package on the path with an ``mgsd.tasks`` entry point adds a task that every lookup finds;
a broken one is reported, by name, without hiding the others; the parser reads a plugin's own action names."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from task_envs import TASKS, get_task
from task_envs.answers import parse_answer
from task_envs.maze import Maze
from task_envs.registry import register_task, task_names, unregister_task

from .fixtures import CORRIDOR_SOURCE, write_task_distribution

ROOT = Path(__file__).resolve().parents[2]


def _mgsd(site: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return subprocess.run([sys.executable, "-m", "task_envs", *args], capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    write_task_distribution(
        site, "corridor-task", "corridor_task", CORRIDOR_SOURCE, {"corridor": "corridor_task:Corridor"}
    )
    broken = {"ghost": "ghost_task:Ghost", "renamed": "corridor_task:Corridor", "maze": "corridor_task:Corridor"}
    write_task_distribution(site, "ghost-task", "ghost_task", "import no_such_module\n", broken)
    return site


def test_mgsd_tasks_lists_installed_tasks_and_reports_broken_ones(site):
    result = _mgsd(site, "tasks")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:4]] == [*TASKS, "corridor"]
    assert lines[3].split()[1:3] == ["corridor-task", "0.3"] and "levels 3-16" in lines[3]
    assert all("(built-in)" in line for line in lines[:3])
    broken = [line for line in lines[4:]]
    assert len(broken) == 3 and all("[not loaded]" in line for line in broken)
    errors = result.stderr.splitlines()
    assert any("ghost = ghost_task:Ghost (ghost-task 0.3): cannot be loaded: ModuleNotFoundError" in e for e in errors)
    assert any("renamed = corridor_task:Corridor" in e and "the task's name is 'corridor'" in e for e in errors)
    assert any("task 'maze' of ghost-task 0.3: the name is taken" in e for e in errors)
    assert _mgsd(site, "tasks", "--strict").returncode == 1


def test_every_stage_finds_an_installed_task_by_name_and_a_broken_one_fails_with_its_reason(site, tmp_path):
    out = tmp_path / "corridor"
    result = _mgsd(
        site, "data", "generate", "--tasks", "corridor", "--per-level", "2", "--levels", "3", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert '"corridor"' in (out / "manifest.json").read_text()
    assert _mgsd(site, "data", "verify", str(out)).returncode == 0
    result = _mgsd(site, "data", "generate", "--tasks", "ghost", "--out", str(tmp_path / "ghost"))
    assert result.returncode == 2 and "mgsd: error: entry point ghost = ghost_task:Ghost" in result.stderr
    assert not (tmp_path / "ghost").exists()
    result = _mgsd(site, "data", "generate", "--tasks", "chess", "--out", str(tmp_path / "chess"))
    assert "unknown task 'chess'; expected one of frozenlake, maze, minibehaviour, corridor" in result.stderr


class _Hopper(Maze):
    name = "hopper"
    actions = ("up", "down", "left", "right", "hop")

    def step(self, instance, state, action):
        return super().step(instance, state, "right" if action == "hop" else action)


def test_register_task_at_run_time_and_the_parser_reads_the_tasks_own_actions():
    task = register_task(_Hopper)
    try:
        assert task_names()[-1] == "hopper" and get_task("Hopper") is task
        assert parse_answer("<answer>hop, HOP up hopleft</answer>", "hopper").actions == (
            "hop",
            "hop",
            "up",
            "hop",
            "left",
        )
        assert parse_answer("<answer>hop</answer>", "maze").invalid_tokens == ("hop",)
        with pytest.raises(ValueError, match="already registered"):
            register_task(_Hopper)
    finally:
        unregister_task("hopper")
    with pytest.raises(ValueError, match="unknown task 'hopper'"):
        get_task("hopper")
    with pytest.raises(ValueError, match="built-in"):
        unregister_task("maze")


def test_bad_names_are_refused_and_a_name_registered_again_gets_its_own_prompts(tmp_path):
    class Named(Maze):
        pass

    for name, why in (("Hopper", "lower case"), ("minibehavior", "alias of 'minibehaviour'"), ("", "lower case")):
        Named.name = name
        with pytest.raises(ValueError, match=why):
            register_task(Named)

    from task_envs.prompts import load_prompt

    class First(Maze):
        name = "twice"

        def prompt_source(self, role):
            return Maze().prompt_source(role)

    class Second(First):
        def prompt_source(self, role):
            path = tmp_path / f"{role}.txt"
            path.write_text(f"the second {role} prompt")
            return path, str(path)

    for task, expected in ((First, load_prompt("teacher", "maze")), (Second, "the second teacher prompt")):
        register_task(task)
        try:
            assert load_prompt("teacher", "twice") == expected
        finally:
            unregister_task("twice")


def test_a_task_whose_constructor_fails_is_reported_and_the_others_still_work(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    source = """
        from task_envs.maze import Maze

        class Fragile(Maze):
            name = "fragile"

            def __init__(self):
                raise RuntimeError("no GPU here")
    """
    write_task_distribution(site, "fragile-task", "fragile_task", source, {"fragile": "fragile_task:Fragile"})
    result = _mgsd(site, "tasks")
    assert result.returncode == 0 and "fragile" in result.stdout and "maze" in result.stdout
    assert "cannot be loaded: RuntimeError: no GPU here" in result.stderr
