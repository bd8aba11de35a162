"""``--levels``: every task's range is checked, and the error names the task, its range and a value that fits."""

import pytest

from task_envs import TASKS
from task_envs.cli.data import resolve_levels
from task_envs.errors import TaskError

from .test_cli import assert_one_line_error, mgsd


def test_one_range_for_all_then_one_task_overridden():
    levels = resolve_levels(TASKS, ["4-6", "frozenlake=3,8"])
    assert levels == {"frozenlake": (3, 8), "maze": (4, 5, 6), "minibehaviour": (4, 5, 6)}


@pytest.mark.parametrize(
    "values, tasks, message",
    [
        (
            ["3-6"],
            TASKS,
            "--levels 3-6: minibehaviour takes levels 4-16, not 3; give it its own range after it, "
            "e.g. --levels minibehaviour=4-6",
        ),
        (["maze=40"], TASKS, "--levels maze=40: maze takes levels 2-16, not 40; use e.g. --levels maze=2-16"),
        (["1,2,9,30"], ("minibehaviour",), "minibehaviour takes levels 4-16, not 1-2,30;"),
    ],
)
def test_out_of_range_names_the_task_and_a_fitting_value(values, tasks, message):
    with pytest.raises(TaskError) as err:
        resolve_levels(tasks, values)
    assert message in str(err.value)


def test_a_task_specific_value_after_the_shared_one_fixes_it():
    assert resolve_levels(TASKS, ["3-6", "minibehaviour=4-6"])["minibehaviour"] == (4, 5, 6)


def test_cli_error_is_one_line(tmp_path):
    result = mgsd("data", "generate", "--levels", "3-6", "--per-level", 1, "--out", tmp_path / "o")
    assert_one_line_error(result, "--levels 3-6: minibehaviour takes levels 4-16", "--levels minibehaviour=4-6")
    assert not (tmp_path / "o").exists()
