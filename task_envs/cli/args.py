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

    parser.add_argument(
        "--scoring",
        choices=SCORINGS,
        default="strict",
        help="how replies are read: strict (the last <answer> block, one unknown word makes the plan "
        "unplayable; default), lenient (also plans outside tags, unknown words skipped; API "
        "baselines, reported apart) or upstream (upstream MGSD's evaluation reading, quirks "
        "included: docs/scoring.md). Every summary also shows the upstream reading beside.",
    )
    parser.add_argument(
        "--lenient", dest="scoring", action="store_const", const="lenient", help="the same as --scoring lenient"
    )


def add_prompt_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prompt-dir",
        help="folder of prompt texts <role>_<task>.txt (or upstream MGSD's file names) "
        "that replace the package's where present (default: $PROMPT_DIR; see task_envs/prompts.py)",
    )


def use_prompt_dir(args: argparse.Namespace) -> None:
    """Make ``--prompt-dir`` the process's ``PROMPT_DIR`` (what every prompt reader consults) and check it."""
    import os

    from ..prompts import PROMPT_DIR_ENV, prompt_dir

    if getattr(args, "prompt_dir", None):
        os.environ[PROMPT_DIR_ENV] = args.prompt_dir
    prompt_dir()
