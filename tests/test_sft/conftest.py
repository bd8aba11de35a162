"""Shared fixtures of the sft tests: the tiny model (cached under models/) and a small perception export."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def tiny_model():
    from mgsd_sft.tiny_model import build

    return build(ROOT / "models" / "tiny-qwen3-vl")


@pytest.fixture(scope="session")
def perception_data(tmp_path_factory):
    from task_envs.dataset.generate import build_dataset, default_spec
    from task_envs.exporters.llamafactory import export_llamafactory

    root = tmp_path_factory.mktemp("sftdata")
    data, _ = build_dataset(default_spec("train", per_level=2, seed=5), root / "train", progress=False)
    out, name, _ = export_llamafactory([str(data)], root / "lf")
    return out, name


def run_launcher(script: str, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    import os

    full = {**os.environ, "MGSD_SFT_PYTHON": sys.executable, **env}
    return subprocess.run(
        ["bash", str(ROOT / "LlamaFactory" / script)],
        capture_output=True,
        text=True,
        env=full,
        cwd=ROOT,
        timeout=timeout,
    )
