"""Which cases of one or more dataset folders an export takes (the task mix)."""

from __future__ import annotations

from ..dataset.folder import Dataset, DatasetError, load_datasets
from ..registry import TASKS, normalise_task_name


def parse_task_weights(text: str | None) -> dict[str, int]:
    """``maze=2,minibehaviour=3`` -> repeat factors per task (default 1)."""
    weights = {t: 1 for t in TASKS}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        try:
            factor = int(value)
        except ValueError:
            raise DatasetError(f"--task-weights: expected task=integer, got {part!r}") from None
        if factor < 0:
            raise DatasetError(f"--task-weights: {part!r} is negative")
        weights[normalise_task_name(name)] = factor
    return weights


def select_cases(
    paths: list[str], per_level: int | None = None, task_weights: dict[str, int] | None = None
) -> list[tuple[Dataset, dict]]:
    """(dataset, sample) pairs in file order: at most ``per_level`` per (task, level) across the
    folders (default: all), each case repeated by its task's weight (default 1).

    The default reproduces upstream's mix: every level contributes equally, so tasks weigh by
    their number of levels (FrozenLake 6 : Maze 4 : MiniBehaviour 2 with the default levels)."""
    if per_level is not None and per_level < 1:
        raise DatasetError(f"--per-level: expected a positive integer, got {per_level}")
    weights = task_weights or {}
    taken: dict[tuple[str, int], int] = {}
    out = []
    for dataset in load_datasets(paths):
        for sample in dataset.samples:
            cell = (sample["task"], int(sample["level"]))
            if per_level is not None and taken.get(cell, 0) >= per_level:
                continue
            taken[cell] = taken.get(cell, 0) + 1
            out.extend([(dataset, sample)] * weights.get(sample["task"], 1))
    if not out:
        raise DatasetError("the selection is empty: no case left after --per-level/--task-weights")
    return out
