"""Task lookup by name."""

from __future__ import annotations

from .base import Task, TaskError
from .frozenlake import FrozenLake
from .maze import Maze
from .minibehaviour import MiniBehaviour

TASKS: tuple[str, ...] = ("frozenlake", "maze", "minibehaviour")
_ALIASES = {"minibehavior": "minibehaviour", "mini_behaviour": "minibehaviour", "frozen_lake": "frozenlake"}
_INSTANCES: dict[str, Task] = {"frozenlake": FrozenLake(), "maze": Maze(), "minibehaviour": MiniBehaviour()}


def normalise_task_name(name: str) -> str:
    key = str(name).strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in _INSTANCES:
        raise TaskError(f"unknown task {name!r}; expected one of {', '.join(TASKS)}")
    return key


def get_task(name: str) -> Task:
    """The task object for ``name`` (``frozenlake``, ``maze`` or ``minibehaviour``)."""
    return _INSTANCES[normalise_task_name(name)]
