"""Helpers shared by the evaluation tests."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def mgsd(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    """The `mgsd` command of this environment, run from the repository root."""
    full = {**os.environ, **(env or {})}
    return subprocess.run(
        [str(Path(sys.executable).parent / "mgsd"), *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=timeout,
        cwd=ROOT,
    )


def mgsd_inproc(capsys, *args) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of the `mgsd` command run in this process (faster; monkeypatches apply)."""
    from task_envs.cli import main

    capsys.readouterr()
    try:
        rc = main([str(a) for a in args])
    except SystemExit as exc:
        rc = exc.code
    captured = capsys.readouterr()
    return rc, captured.out, captured.err
