"""The vLLM CPU compatibility step (mgsd_sft.vllm_compat) in the vllm environment, where torchvision is absent:
without it Qwen3-VL's processors cannot load (the failure it exists for), with it they load as vLLM needs them."""

import importlib.util
import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from served import ROOT

pytestmark = pytest.mark.skipif(importlib.util.find_spec("vllm") is None or importlib.util.find_spec("torchvision") is not None,
                                reason="needs the vllm environment without torchvision (bash requirements/setup_env.sh vllm)")

PROBE = r"""
import json, sys
result = {}
def attempt(key, fn):
    try:
        result[key] = fn()
    except Exception as exc:
        result[key] = "error: %s: %s" % (type(exc).__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else "")
def image_module():
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize, Qwen2VLImageProcessor
    return [smart_resize(256, 256, factor=32, min_pixels=65536, max_pixels=262144), Qwen2VLImageProcessor.__name__]
def processor():
    from transformers import AutoProcessor
    from transformers.models.qwen3_vl import Qwen3VLVideoProcessor
    p = AutoProcessor.from_pretrained(sys.argv[1])
    v = p.video_processor
    return {"class": type(v).__module__ + "." + type(v).__name__, "isinstance": isinstance(v, Qwen3VLVideoProcessor),
            "valid_kwargs": hasattr(v, "valid_kwargs"), "size": [v.size.shortest_edge, v.size.longest_edge],
            "merge_size": v.merge_size, "patch_size": v.patch_size, "stand_in": getattr(v, "mgsd_stand_in", False),
            "saved": "video_processor" in p.to_dict()}
attempt("image_module", image_module)
attempt("processor", processor)
print(json.dumps(result))
"""


def probe(tiny_model, hook: bool) -> dict:
    """Run PROBE in a fresh interpreter; without the hook, site's .pth files are skipped (python -S) and only the
    plain paths are added, so the environment is the same but for the compatibility step."""
    site = sysconfig.get_paths()["purelib"]
    prefix = "import sys; sys.path.append(%r); " % site
    if hook:
        prefix += "import site; site.addsitedir(%r); " % site
    proc = subprocess.run([sys.executable, "-S", "-c", prefix + "import mgsd_sft, task_envs\n" + PROBE, str(tiny_model)],
                          capture_output=True, text=True, timeout=300,
                          env={"HF_HUB_OFFLINE": "1", "PYTHONPATH": f"{ROOT}:{ROOT / 'LlamaFactory'}"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_hook_is_installed():
    site = sysconfig.get_paths()["purelib"]
    assert (Path(site) / "mgsd_vllm_compat.pth").read_text().startswith("import mgsd_sft.vllm_compat")
    assert any(type(f).__module__ == "mgsd_sft.vllm_compat" for f in sys.meta_path)


def test_without_the_step_qwen3_vl_processors_do_not_load(tiny_model):
    result = probe(tiny_model, hook=False)
    assert result["image_module"].startswith("error: ModuleNotFoundError") and "torchvision" in result["image_module"]
    assert result["processor"].startswith("error: ImportError") and "Torchvision" in result["processor"]


def test_with_the_step_the_processors_load_as_vllm_reads_them(tiny_model):
    result = probe(tiny_model, hook=True)
    assert result["image_module"] == [[256, 256], "Qwen2VLImageProcessorPil"]
    video = result["processor"]
    assert isinstance(video, dict), video
    assert video["class"] == "transformers.models.qwen3_vl.video_processing_qwen3_vl.Qwen3VLVideoProcessor"
    assert video["isinstance"] and video["valid_kwargs"] and video["stand_in"]
    config = json.loads((tiny_model / "preprocessor_config.json").read_text())
    assert video["size"] == [config["size"]["shortest_edge"], config["size"]["longest_edge"]] == [65536, 262144]
    assert video["merge_size"] == 2 and video["patch_size"] == 16
    assert not video["saved"]  # the stand-in is never written into a checkpoint
