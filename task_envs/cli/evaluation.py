"""Stand-ins for ``mgsd eval`` and ``mgsd report`` where the evaluation package is not installed.

The real commands live in the evaluation package (``mgsd_eval.cli``), which registers them through the
``mgsd.cli`` entry point; ``task_envs`` never imports it. Without it, or with its entry point failing to
load, these stand-ins accept any arguments and end with one line naming the extra to install.
"""

from __future__ import annotations

import argparse

from ..errors import TaskError

EVAL_EXTRA = (
    "the evaluation commands need the eval extra: pip install 'mgsd[eval]' (or bash requirements/setup_env.sh eval)"
)
#: Commands an extra provides: name -> (help, the error when it is missing).
OPTIONAL_COMMANDS = {
    "eval": ("evaluate a model behind an OpenAI-compatible endpoint (needs the eval extra)", EVAL_EXTRA),
    "report": ("tables and plots from evaluation runs (needs the eval extra)", EVAL_EXTRA),
}


def _missing(message: str):
    def run(args) -> int:
        raise TaskError(message)

    return run


def register_missing(sub: argparse._SubParsersAction) -> None:
    """A stand-in for every optional command no provider registered."""
    for name, (help_text, message) in OPTIONAL_COMMANDS.items():
        if name in sub.choices:
            continue
        # No option parsing at all (prefix_chars no argument uses), so that `--help` too gets the one line.
        p = sub.add_parser(name, help=help_text, add_help=False, prefix_chars="\0")
        p.add_argument("args", nargs=argparse.REMAINDER)
        p.set_defaults(func=_missing(message))
