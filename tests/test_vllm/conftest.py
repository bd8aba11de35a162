"""Fixtures of the serving tests (the `vllm` suite, run in the opcd environment, whose vLLM serves): the tiny model and a test split."""

import pytest
from served import tiny_model as _tiny_model


@pytest.fixture(scope="session")
def tiny_model():
    return _tiny_model()


@pytest.fixture(scope="session")
def test_split(tmp_path_factory):
    from task_envs.dataset.generate import build_dataset, default_spec

    data, _ = build_dataset(
        default_spec("test", per_level=1, seed=21), tmp_path_factory.mktemp("data") / "test", progress=False
    )
    return data
