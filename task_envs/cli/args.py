"""argparse types shared by the subcommands."""

from __future__ import annotations

import argparse

from ..base import TaskError
from ..registry import normalise_task_name


def task_arg(value: str) -> str:
    """argparse type for a task name (aliases accepted)."""
    try:
        return normalise_task_name(value)
    except TaskError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
