"""MGSD task environments: FrozenLake, Maze and MiniBehaviour.

One source of truth for every task rule: generation, rendering, symbolic text, prompts, answer
parsing, simulation, optimal plans and scoring. Training rewards, evaluation and data exporters all
call this package.

>>> from task_envs import get_task
>>> task = get_task("maze")
>>> inst = task.generate(level=4, seed=0)
>>> task.score(inst, task.oracle_response(inst))["success"]
1
"""

from .answers import ParsedAnswer, format_answer, parse_answer
from .base import DIFFICULTIES, Outcome, Task, TaskError
from .registry import TASKS, get_task, normalise_task_name

__all__ = [
    "DIFFICULTIES",
    "Outcome",
    "ParsedAnswer",
    "TASKS",
    "Task",
    "TaskError",
    "format_answer",
    "get_task",
    "normalise_task_name",
    "parse_answer",
]
__version__ = "0.1.0"
