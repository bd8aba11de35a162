"""The tree is clean under the project's ruff configuration (pyproject.toml): lint and format."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_lint_and_format_are_clean():
    for args in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        proc = subprocess.run([sys.executable, "-m", "ruff", *args], capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0, (
            f"ruff {' '.join(args)}: run `make format`\n{proc.stdout[-3000:]}{proc.stderr[-1000:]}"
        )
