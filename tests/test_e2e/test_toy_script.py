"""toy.sh (make toy) refuses bad settings in one line before it creates anything. The toy run itself takes
~30 minutes and is not part of the test command; its report code is tested in tests/test_eval/test_toy_report.py."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "name,value,message",
    [
        ("TRAINER", "ppo", "error: TRAINER must be verl or single, got 'ppo'"),
        ("TOY_SERVER", "sglang", "error: TOY_SERVER must be vllm or llamafactory, got 'sglang'"),
    ],
)
def test_bad_setting_is_one_line_and_writes_nothing(tmp_path, name, value, message):
    env = {
        **os.environ,
        name: value,
        "OUT": str(tmp_path / "data"),
        "RUNS": str(tmp_path / "runs"),
        "MODELS_DIR": str(tmp_path / "models"),
    }
    done = subprocess.run(["bash", str(ROOT / "toy.sh")], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == message
    assert list(tmp_path.iterdir()) == []


def test_toy_seeds_refuses_a_bad_seed_before_any_run(tmp_path):
    env = {**os.environ, "SEEDS": "0 one 2"}
    done = subprocess.run(
        ["bash", str(ROOT / "toy_seeds.sh")], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: SEEDS must be non-negative integers, got 'one'"
    assert done.stdout == ""
