"""Helpers shared by the evaluation tests."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def mgsd(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    """The `mgsd` command of this environment, run from the repository root."""
    full = {**os.environ, **(env or {})}
    return subprocess.run([str(Path(sys.executable).parent / "mgsd"), *args], capture_output=True, text=True,
                          env=full, timeout=timeout, cwd=ROOT)
