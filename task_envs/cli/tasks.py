"""``mgsd tasks``: the registered tasks, one per line, name first, with the package each comes from."""

from __future__ import annotations

import argparse
import sys

from ..registry import task_entries


def _tasks(args) -> int:
    entries = task_entries()
    width = max(len(e.name) for e in entries)
    broken = 0
    for entry in entries:
        if entry.task is None:
            broken += 1
            print(f"{entry.name:<{width}}  {entry.source}  [not loaded]")
            print(f"mgsd tasks: {entry.error}", file=sys.stderr)
            continue
        task = entry.task
        levels = f"levels {task.min_level}-{task.max_level}"
        print(f"{entry.name:<{width}}  {entry.source}  {levels}; actions {', '.join(task.actions)}")
    return 1 if broken and args.strict else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tasks",
        help="list the registered tasks (built-in and installed)",
        description="One line per task: its name, the package it comes from, its levels and actions. Installed "
        "packages add tasks through the entry-point group mgsd.tasks (README: Add your own task); one that cannot "
        "be loaded is listed as [not loaded], with the reason on stderr.",
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when a task package cannot be loaded")
    p.set_defaults(func=_tasks)
