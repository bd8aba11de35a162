"""The memory plan (mgsd_opcd/memory_plan.py): parameter counts against transformers' own models, the
estimate against the measured peak RSS of real single-trainer runs on this CPU, and the launcher's use of it
(printed under DRY_RUN without an environment, settings that fit, refusal before any model loads)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mgsd_opcd import memory_plan as mp

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "EasyR1" / "mgsd_opcd" / "memory_plan.py"


def _meta_params(config: dict) -> int:
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    with torch.device("meta"):
        model = Qwen3VLForConditionalGeneration(Qwen3VLConfig(**config))
    return sum(p.numel() for p in model.parameters())  # tied weights are counted once


def _tiny_config(tiny_model) -> dict:
    return json.loads((Path(tiny_model) / "config.json").read_text())


@pytest.mark.parametrize("size", ["4b", "8b"])
def test_parameter_count_of_the_public_shapes_is_transformers_own(size):
    config = json.loads(json.dumps(mp.BUILTIN_CONFIGS[size]))
    config["text_config"]["rope_parameters"] = {
        "rope_type": "default",
        "rope_theta": 5e6,
        "mrope_interleaved": True,
        "mrope_section": [24, 20, 20],
    }
    assert mp.shape_from_config(config).params == _meta_params(config)
    assert 4.3e9 < mp.shape_from_config(mp.BUILTIN_CONFIGS["4b"]).params < 4.5e9


def test_parameter_count_of_other_shapes(tiny_model):
    for change in (
        {},
        {"tie_word_embeddings": False},
        {"text_config": {"num_key_value_heads": 4, "num_hidden_layers": 3}},
    ):
        config = _tiny_config(tiny_model)
        config.update({k: v for k, v in change.items() if k != "text_config"})
        config["text_config"].update(change.get("text_config", {}))
        assert mp.shape_from_config(config).params == _meta_params(config), change


def test_plans_for_one_gpu():
    four, eight = mp.read_shape(None, "4b"), mp.read_shape(None, "8b")
    # The paper's full fine-tuning of 4B needs ~80 GB of weights and states alone: LoRA is what fits one card.
    label, run, parts = mp.plan("single", four, four, 80, [])
    assert run.lora_rank == 64 and run.gradient_checkpointing and parts["peak"] <= 0.92 * 80 * mp.GIB
    label, run, parts = mp.plan("single", four, four, 24, [])
    assert parts["peak"] <= 0.92 * 24 * mp.GIB
    label, run, parts = mp.plan("single", eight, eight, 24, [], adapter_rank=8, shared_teacher=True)
    assert parts["teacher weights"] == 0 and parts["peak"] <= 0.92 * 24 * mp.GIB
    # A user's own setting is kept in every candidate: rollouts of 32 at once cannot fit 24 GB for 8B.
    with pytest.raises(mp.PlanError, match=r"^estimated peak GPU memory per GPU: .* of 24 GiB: does not fit; "):
        mp.plan("single", eight, eight, 24, ["rollout_batch_size=32"], adapter_rank=8, shared_teacher=True)
    # verl on 1 + 1 GPUs: the FSDP state of 4B (16 bytes per parameter) beside vLLM's half of the card.
    with pytest.raises(mp.PlanError, match=r"use \d+ or more actor GPUs"):
        mp.plan("verl", four, four, 80, [], actor_gpus=1)
    assert mp.plan("verl", four, four, 80, [], actor_gpus=4)[0] == "as configured"


def test_verl_defaults_mirror_the_recipe():
    """The plan reads the recipe's memory settings from its own table (it runs before any environment):
    composed by verl, the recipe must say the same."""
    from mgsd_opcd.verl_config import compose_config

    for size in ("4b", "8b"):
        cfg = compose_config(size, [])
        run = mp.VerlRun(**mp.VERL_SIZE_DEFAULTS.get(size, {}))
        for key, name in mp.VERL_KEYS.items():
            node = cfg
            for part in key.split("."):
                node = node[part]
            assert node == getattr(run, name), (size, key)


# ---- estimate vs measured ----------------------------------------------------------------------------------
SIZES = [(64, 2), (768, 4)]  # (text hidden, layers); head_dim 32 (the tiny's mRoPE)


def _sized_model(tiny_model, out: Path, hidden: int, layers: int) -> Path:
    from transformers import Qwen3VLConfig, Qwen3VLForConditionalGeneration

    shutil.copytree(tiny_model, out)
    config = _tiny_config(tiny_model)
    config["text_config"].update(
        hidden_size=hidden,
        intermediate_size=3 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=hidden // 32,
        num_key_value_heads=max(1, hidden // 128),
    )
    config["vision_config"]["out_hidden_size"] = hidden
    for f in out.glob("*.safetensors"):
        f.unlink()
    torch.manual_seed(0)
    Qwen3VLForConditionalGeneration(Qwen3VLConfig(**config)).save_pretrained(out)
    return out


# Runs the trainer in a fresh process and reports the peak RSS of its training steps alone: the high-water
# mark is reset (/proc/self/clear_refs) after the models loaded, so load and save transients stay out. glibc
# serves every allocation over 128 KiB with its own mmap (MALLOC_MMAP_THRESHOLD_), so freed tensors leave RSS
# at once and RSS follows the live tensors, as torch.cuda.max_memory_allocated does on a GPU.
STEP_PEAK = """
import ctypes, gc, json, sys
from mgsd_opcd.sp_config import load_config
from mgsd_opcd.sp_train import Trainer
def status(key):
    return int(next(l.split()[1] for l in open("/proc/self/status") if l.startswith(key))) * 1024
trainer = Trainer(load_config(sys.argv[1], sys.argv[2:]))
gc.collect(); ctypes.CDLL("libc.so.6").malloc_trim(0)
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
size = trainer.cfg.batch_size
for step in range(2):  # the second step holds the optimizer's states from the first
    trainer.train_step(trainer.train_rows[step * size:(step + 1) * size])
print(json.dumps({"peak": status("VmHWM:")}))
"""


def _step_peak(sets: dict) -> int:
    args = [f"{k}={v}" for k, v in sets.items()]
    proc = subprocess.run(
        [sys.executable, "-c", STEP_PEAK, str(ROOT / "EasyR1/configs/opcd_single_process.yaml"), *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "OMP_NUM_THREADS": "2", "MALLOC_MMAP_THRESHOLD_": "131072"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])["peak"]


def test_estimate_bounds_measured_peak_memory(opcd_data, tiny_model, tmp_path):
    """Single-trainer steps of models of several sizes on this CPU (fp32): the increase of the steps' peak RSS
    over the smallest model's is within the increase the plan estimates, and not far below it. RSS also holds
    the runtime (torch, the processor, the data), which the smallest model's run measures."""
    from mgsd_opcd.sp_data import read_rows
    from mgsd_opcd.sp_model import load_processor, prompt_length

    processor = load_processor(str(tiny_model), 65536, 262144)
    longest = max(prompt_length(processor, row) for row in read_rows(opcd_data["train"]))
    models = {
        (h, n): _sized_model(tiny_model, tmp_path / f"m{h}", h, n) if h != 64 else Path(tiny_model) for h, n in SIZES
    }
    modes = [
        ({}, "full fine-tuning", SIZES),
        ({"lora_rank": 16, "gradient_checkpointing": True, "logprob_chunk": 32}, "LoRA, checkpointing, chunks", SIZES),
    ]
    table = []
    for settings, label, sizes in modes:
        rows = []
        for hidden, layers in sizes:
            run = mp.SingleRun(
                batch_size=2,
                micro_batch_size=2,
                max_prompt_length=longest,
                max_response_length=64,
                compute_bytes=4,
                **settings,
            )
            shape = mp.read_shape(str(models[hidden, layers]), None)
            estimate = mp.single_parts(shape, shape, run)["peak"]
            measured = _step_peak(
                {
                    "model_path": models[hidden, layers],
                    "teacher_model_path": models[hidden, layers],
                    "train_file": opcd_data["train"],
                    "val_file": "",
                    "output_dir": tmp_path / "run",
                    "batch_size": 2,
                    "micro_batch_size": 2,
                    "max_response_length": 64,
                    "max_prompt_length": longest,
                    "device": "cpu",
                    "dtype": "float32",
                    **settings,
                }
            )
            rows.append((hidden, layers, shape.params, estimate, measured))
        (_, _, _, base_est, base_meas) = rows[0]
        for hidden, layers, params, estimate, measured in rows[1:]:
            est, meas = estimate - base_est, measured - base_meas
            table.append(
                (
                    f"{label:28s} {params / 1e6:6.1f}M params (hidden {hidden}, {layers} layers): estimated "
                    f"+{est / 2**20:5.0f} MiB, measured +{meas / 2**20:5.0f} MiB",
                    meas / est,
                )
            )
    print("\n" + "\n".join(f"{line} ({ratio:.2f})" for line, ratio in table))
    for line, ratio in table:
        assert 0.7 <= ratio <= 1.1, line


# ---- the launcher ---------------------------------------------------------------------------------------------
def _launch(env: dict) -> subprocess.CompletedProcess:
    # No environment: MGSD_OPCD_PYTHON names one that does not exist, so anything past the plan would fail.
    full = {**os.environ, "MGSD_OPCD_PYTHON": "/nonexistent/python", "DRY_RUN": "1", **env}
    return subprocess.run(
        ["bash", str(ROOT / "EasyR1" / "train_opcd.sh")],
        capture_output=True,
        text=True,
        env=full,
        cwd=ROOT,
        timeout=120,
    )


def test_dry_run_prints_the_estimate_without_an_environment_and_passes_the_plan_on(tmp_path):
    adapter = tmp_path / "perception_lora"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 8}))
    proc = _launch({"TRAINER": "single", "MODEL_SIZE": "8b", "GPU_MEMORY_GB": "24", "STUDENT_ADAPTER": str(adapter)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(l for l in proc.stderr.splitlines() if "estimated peak GPU memory per GPU" in l)
    gib = float(line.split(": ")[1].split(" GiB of ")[0])
    assert line.strip().startswith("estimated peak GPU memory per GPU: ") and " GiB of 24 " in line and gib <= 24
    sets = [l.strip() for l in proc.stderr.splitlines()]
    assert f"student_adapter={adapter}" in sets and "gradient_checkpointing=true" in sets
    assert f"model_path={ROOT / 'models/Qwen3-VL-8B-Instruct'}" in sets  # the adapter's base = the teacher
    # the user's own setting wins over the plan's
    proc = _launch(
        {"TRAINER": "single", "MODEL_SIZE": "4b", "GPU_MEMORY_GB": "80", "OPCD_OVERRIDES": "logprob_chunk=64"}
    )
    assert proc.returncode == 0 and "logprob_chunk=64" in proc.stderr and "logprob_chunk=256" not in proc.stderr


@pytest.mark.parametrize(
    "env",
    [
        {"TRAINER": "single", "MODEL_SIZE": "8b", "GPU_MEMORY_GB": "24"},
        {"TRAINER": "verl", "MODEL_SIZE": "4b", "GPU_MEMORY_GB": "80", "TRAINER_GPUS": "1", "TEACHER_GPUS": "1"},
    ],
)
def test_a_run_that_cannot_fit_is_refused_with_one_line(env):
    proc = _launch(env)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: estimated peak GPU memory per GPU: ") and "does not fit; " in last
    assert "resolved config" not in proc.stderr
