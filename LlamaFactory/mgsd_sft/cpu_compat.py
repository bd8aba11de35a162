"""CPU compatibility step for LLaMA-Factory + Qwen3-VL, applied only where torchvision/torchaudio are absent.

Every torchvision/torchaudio wheel on PyPI is a CUDA build: with CPU torch they crash on import, so the
CPU `sft` environment goes without them. Two things then need help:
- LLaMA-Factory imports ``torchaudio`` at module level (audio plugins, unused here): a stub module with a
  ``__spec__`` stands in;
- transformers refuses to build Qwen3-VL's processor because its video processor needs torchvision,
  although image data never calls it: the processor is told not to load one, and gets an image-only
  stand-in that carries the sizes LLaMA-Factory reads (``merge_size``) and refuses real video.

``requirements/setup_env.sh`` installs ``mgsd_cpu_compat.pth`` into such an environment, so that
:func:`apply` runs at the start of every Python process there (``llamafactory-cli``, torchrun workers).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

PROCESSOR_MODULE = "transformers.models.qwen3_vl.processing_qwen3_vl"


def _absent(name: str) -> bool:
    return name not in sys.modules and importlib.util.find_spec(name) is None


def _stub_torchaudio() -> None:
    stub = types.ModuleType("torchaudio")
    stub.__spec__ = importlib.machinery.ModuleSpec("torchaudio", None)
    stub.__version__ = "0.0.0+mgsd-stub"
    stub.MGSD_STUB = True
    sys.modules["torchaudio"] = stub


class ImageOnlyVideoProcessor:
    """Stands in for Qwen3-VL's video processor where torchvision is missing; images only."""

    def __init__(self, image_processor):
        self.merge_size = getattr(image_processor, "merge_size", 2)
        self.patch_size = getattr(image_processor, "patch_size", 16)
        self.temporal_patch_size = getattr(image_processor, "temporal_patch_size", 2)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("video input needs torchvision, which this CPU environment does not have")


def patch_processor(module) -> None:
    """Let Qwen3VLProcessor load from a checkpoint without a video processor."""
    processor = module.Qwen3VLProcessor
    original_attributes = processor.get_attributes.__func__
    if getattr(original_attributes, "mgsd_patched", False):
        return
    original_init = processor.__init__
    original_to_dict = processor.to_dict

    def get_attributes(cls):
        return [a for a in original_attributes(cls) if a != "video_processor"]

    def __init__(self, image_processor=None, tokenizer=None, video_processor=None, chat_template=None, **kwargs):
        original_init(self, image_processor, tokenizer, video_processor, chat_template=chat_template, **kwargs)
        if getattr(self, "video_processor", None) is None:
            self.video_processor = ImageOnlyVideoProcessor(image_processor)

    def to_dict(self, *args, **kwargs):
        stand_in = self.__dict__.pop("video_processor", None)
        try:
            return original_to_dict(self, *args, **kwargs)
        finally:
            if stand_in is not None:
                self.video_processor = stand_in

    get_attributes.mgsd_patched = True
    processor.get_attributes = classmethod(get_attributes)
    processor.__init__ = __init__
    processor.to_dict = to_dict


class _Loader(importlib.abc.Loader):
    def __init__(self, inner):
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        patch_processor(module)


class _Finder(importlib.abc.MetaPathFinder):
    """Wraps the loader of the Qwen3-VL processor module so the patch lands right after its import."""

    def find_spec(self, name, path, target=None):
        if name != PROCESSOR_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _Loader(spec.loader)
                return spec
        return None


def apply() -> None:
    """Install the stub and the processor patch if torchvision/torchaudio are not installed."""
    if _absent("torchaudio"):
        _stub_torchaudio()
    if _absent("torchvision") and not any(isinstance(f, _Finder) for f in sys.meta_path):
        if PROCESSOR_MODULE in sys.modules:
            patch_processor(sys.modules[PROCESSOR_MODULE])
        else:
            sys.meta_path.insert(0, _Finder())
