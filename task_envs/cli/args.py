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


def add_scoring_argument(parser: argparse.ArgumentParser) -> None:
    """``--scoring strict|lenient|upstream`` (and ``--lenient``, the same as ``--scoring lenient``)."""
    from ..answers import SCORINGS

    parser.add_argument("--scoring", choices=SCORINGS, default="strict",
                        help="how replies are read: strict (the last <answer> block, one unknown word makes the plan "
                             "unplayable; default), lenient (also plans outside tags, unknown words skipped; API "
                             "baselines, reported apart) or upstream (upstream MGSD's evaluation reading, quirks "
                             "included: docs/scoring.md). Every summary also shows the upstream reading beside.")
    parser.add_argument("--lenient", dest="scoring", action="store_const", const="lenient",
                        help="the same as --scoring lenient")
