"""The ``mgsd`` command line: ``mgsd tasks``, ``mgsd data ...``, ``mgsd oracle``, ``mgsd score``, ``mgsd eval ...``, ``mgsd report``.

Upper layers add their subcommands through the entry point group ``mgsd.cli``: each entry is a
``register(subparsers)`` function (the evaluation package registers ``eval`` and ``report``); ``task_envs``
never imports them. Bad input ends with one line ``mgsd: error: <what and where>`` and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from ..base import TaskError
from . import data, evaluation, plans, tasks

ENTRY_POINT_GROUP = "mgsd.cli"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``mgsd ...: error: ...``), not usage plus error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mgsd",
        description="MGSD: visual spatial planning tasks (FrozenLake, Maze, MiniBehaviour and installed ones: mgsd tasks), "
        "data pipeline and scoring.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    tasks.register(sub)
    data.register(sub)
    plans.register(sub)
    register_providers(sub)
    evaluation.register_missing(sub)
    return parser


def register_providers(sub: argparse._SubParsersAction) -> None:
    """Let every ``mgsd.cli`` entry point add its subcommands; one whose package cannot be imported is skipped
    (its commands then get the stand-ins of :mod:`.evaluation`, which name the extra to install)."""
    from importlib.metadata import entry_points

    seen = set()
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if entry.value in seen:  # one distribution visible twice on sys.path
            continue
        seen.add(entry.value)
        try:
            register = entry.load()
        except ImportError:
            continue
        register(sub)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TaskError as exc:
        print(f"mgsd: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"mgsd: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mgsd: interrupted", file=sys.stderr)
        return 130
