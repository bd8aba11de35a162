"""The tiny Qwen3-VL: deterministic, cached, loads offline with the Auto classes and generates from a task image."""

import hashlib

from mgsd_sft.checkpoint import verify
from mgsd_sft.tiny_model import build


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_build_is_deterministic_and_cached(tiny_model, tmp_path):
    again = build(tmp_path / "tiny")
    assert digest(again) == digest(tiny_model)
    stamp = (again / "model.safetensors").stat().st_mtime_ns
    build(tmp_path / "tiny")
    assert (again / "model.safetensors").stat().st_mtime_ns == stamp


def test_loads_offline_and_generates_from_a_task_image(tiny_model):
    assert verify(tiny_model, max_new_tokens=4)


def test_cpu_compat_gives_an_image_only_processor(tiny_model):
    import importlib.util
    import sys

    import pytest
    from transformers import AutoProcessor

    if importlib.util.find_spec("torchvision") is not None:
        pytest.skip("torchvision is installed: the CPU compatibility step is not in use")
    processor = AutoProcessor.from_pretrained(tiny_model)
    assert getattr(sys.modules["torchaudio"], "MGSD_STUB", False)
    assert processor.video_processor.merge_size == 2
    with pytest.raises(RuntimeError, match="torchvision"):
        processor.video_processor([])
