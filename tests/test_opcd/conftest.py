"""Fixtures of the opcd tests: a small generated build exported to verl parquet, and the tiny model."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def opcd_data(tmp_path_factory):
    """(train.parquet, val.parquet, train dataset folder) from small generated splits."""
    from task_envs.dataset.generate import build_dataset, default_spec
    from task_envs.exporters.verl import export_verl

    root = tmp_path_factory.mktemp("opcddata")
    out = {}
    for split in ("train", "val"):
        data, _ = build_dataset(default_spec(split, per_level=2, seed=11), root / split, progress=False)
        out[split] = export_verl([str(data)], root / f"{split}.parquet")[0]
        out[f"{split}_dir"] = data
    return out


@pytest.fixture(scope="session")
def tiny_model():
    from mgsd_sft.tiny_model import build

    return build(ROOT / "models" / "tiny-qwen3-vl")
