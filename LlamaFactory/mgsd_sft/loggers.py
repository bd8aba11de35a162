"""Check, before training starts, that the experiment logger a launcher was asked for can run: its package
imports and, for swanlab's cloud mode, credentials exist. Without this check the trainer fails only when
training begins, after the model has loaded.

    python -m mgsd_sft.loggers swanlab --mode offline     # exit 0, or exit 2 with one error line
"""

from __future__ import annotations

import argparse
import importlib
import sys

MODULES = {"swanlab": "swanlab", "wandb": "wandb", "tensorboard": "tensorboard"}
SWANLAB_MODES = ("cloud", "offline", "local", "disabled")


def _swanlab_has_key() -> bool:
    """SWANLAB_API_KEY or a saved `swanlab login` (swanlab's own settings resolve both)."""
    try:
        from swanlab.sdk.internal.settings import Settings

        return bool(Settings().api_key)
    except Exception:  # an internal API that moved: do not block the run on it
        return True


def problem(name: str, mode: str | None = None) -> str | None:
    """Why logger `name` cannot run here, or None."""
    if name == "none":
        return None
    if name not in MODULES:
        return f"REPORT_TO must be none, {', '.join(MODULES)}; got '{name}'"
    try:
        importlib.import_module(MODULES[name])
    except ImportError:
        return (
            f"REPORT_TO={name}: the {MODULES[name]} package is not installed in {sys.prefix} "
            f"(pip install {MODULES[name]} there{'' if name == 'swanlab' else ', or use REPORT_TO=swanlab'})"
        )
    if name == "swanlab":
        if mode not in SWANLAB_MODES:
            return f"SWANLAB_MODE must be one of {', '.join(SWANLAB_MODES)}; got '{mode}'"
        if mode == "cloud" and not _swanlab_has_key():
            return (
                "SWANLAB_MODE=cloud needs SWANLAB_API_KEY (or a `swanlab login`); "
                "SWANLAB_MODE=offline logs locally without an account"
            )
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Check that an experiment logger can run before training starts.")
    parser.add_argument("name", help="none, swanlab, wandb or tensorboard")
    parser.add_argument("--mode", default="cloud", help="swanlab mode: cloud, offline, local or disabled")
    args = parser.parse_args(argv)
    reason = problem(args.name, args.mode)
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
