"""EasyR1 launchers end to end on CPU: data preparation, the single-process trainer through train_opcd.sh,
the verl dry run (composed and validated by verl), and merge_checkpoint.sh on both checkpoint kinds.
verl's trainer end to end through train_opcd.sh is in test_learning.py (one verl run serves both)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(script: str, env: dict, *args, timeout: int = 600) -> subprocess.CompletedProcess:
    full = {**os.environ, "MGSD_OPCD_PYTHON": sys.executable, "MGSD_EVAL_PYTHON": sys.executable, **env}
    return subprocess.run(
        ["bash", str(ROOT / "EasyR1" / script), *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=ROOT,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    out = tmp_path_factory.mktemp("prep")
    proc = run(
        "prepare_opcd_data.sh",
        {
            "OUT_DIR": str(out),
            "PER_LEVEL": "2",
            "VAL_PER_LEVEL": "1",
            "LEVELS": "3;minibehaviour=4",
            "TASK_WEIGHTS": "minibehaviour=2",
        },
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def test_prepare_writes_both_parquet_files(prepared):
    import pyarrow.parquet as pq

    train = pq.read_table(prepared / "train.parquet").to_pylist()
    tasks = [r["extra_info"]["task"] for r in train]
    assert tasks.count("minibehaviour") == 4 and tasks.count("maze") == 2  # weight 2 doubles MiniBehaviour
    assert pq.read_metadata(prepared / "val.parquet").num_rows == 3


def test_upstream_data_size_is_selectable(prepared, tmp_path):
    """DATA_SIZE=upstream: 750 train cases per task and level (generated, and the export's cap)."""
    env = {
        "OUT_DIR": str(tmp_path),
        "TRAIN_DIRS": str(prepared / "raw" / "train"),
        "VAL_DIRS": str(prepared / "raw" / "val"),
        "DATA_SIZE": "upstream",
    }
    proc = run("prepare_opcd_data.sh", env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (
        "DATA_SIZE=upstream" in proc.stderr
        and "PER_LEVEL=750 " in proc.stderr
        and "TRAIN_PER_LEVEL_CAP=750 " in proc.stderr
    )
    bad = run("prepare_opcd_data.sh", {**env, "DATA_SIZE": "paper"})
    assert bad.returncode == 2 and bad.stderr.strip() == "error: DATA_SIZE must be recipe or upstream, got 'paper'"


def test_single_process_training_and_merge(prepared, tiny_model, tmp_path):
    out = tmp_path / "opcd"
    # A card just too small for the run as configured: the memory plan's lean settings reach the trainer.
    proc = run(
        "train_opcd.sh",
        {
            "TRAINER": "single",
            "MODEL_PATH": str(tiny_model),
            "TEACHER_MODEL_PATH": str(tiny_model),
            "DATA_DIR": str(prepared),
            "OUTPUT_DIR": str(out),
            "SWANLAB_MODE": "offline",
            "SWANLAB_RUN_NAME": "ci_single",
            "GPU_MEMORY_GB": "0.73",
            "OPCD_OVERRIDES": "max_steps=2 batch_size=3 micro_batch_size=3 max_response_length=8 "
            "val_batch_size=3 save_freq=2 val_freq=2",
        },
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["last_global_step"] == 2 and result["best_global_step"] == 2
    assert "TRAINER=single" in proc.stderr and "EXPERIMENT_NAME=ci_single" in proc.stderr
    assert "estimated peak GPU memory per GPU: " in proc.stderr and "gradient checkpointing" in proc.stderr
    ran = json.loads((out / "opcd_config.json").read_text())
    assert ran["gradient_checkpointing"] and ran["logprob_chunk"] == 256 and ran["micro_batch_size"] == 3  # the user's
    assert any((out / "swanlog").rglob("*")), "swanlab (SWANLAB_MODE=offline) wrote no local run"
    export = tmp_path / "hf"
    proc = run(
        "merge_checkpoint.sh", {"EXPORT_DIR": str(export), "MODEL_PATH": str(tiny_model)}, str(out / "global_step_2")
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "loads and generates" in proc.stderr
    assert (export / "model.safetensors").is_file() and not (export / "trainer_state.pt").exists()


def test_merge_of_a_verl_fsdp_checkpoint(tiny_model, tmp_path):
    """A world-size-1 FSDP actor checkpoint in verl's layout, merged by verl's own model merger."""
    import shutil

    import torch
    from transformers import AutoModelForImageTextToText

    actor = tmp_path / "global_step_3" / "actor"
    (actor / "huggingface").mkdir(parents=True)
    model = AutoModelForImageTextToText.from_pretrained(tiny_model)
    with torch.no_grad():
        next(model.parameters()).add_(0.5)  # a recognisable change
    torch.save(model.state_dict(), actor / "model_world_size_1_rank_0.pt")
    (actor / "fsdp_config.json").write_text(json.dumps({"FSDP_version": 2, "world_size": 1}))
    for f in Path(tiny_model).iterdir():
        if f.suffix == ".json" and f.name != "model.safetensors.index.json" or f.suffix == ".jinja":
            shutil.copy(f, actor / "huggingface" / f.name)
    for f in ("preprocessor_config.json", "video_preprocessor_config.json"):
        (actor / "huggingface" / f).unlink(missing_ok=True)  # the merge must restore these
    proc = run("merge_checkpoint.sh", {"BASE_MODEL": str(tiny_model)}, str(tmp_path / "global_step_3"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    export = tmp_path / "global_step_3" / "huggingface"
    assert (export / "preprocessor_config.json").is_file()
    merged = AutoModelForImageTextToText.from_pretrained(export)
    name, param = next(iter(model.named_parameters()))
    assert torch.equal(
        dict(merged.named_parameters())[name].float(), param.detach().to(torch.bfloat16).float()
    )  # verl saves bf16


def test_verl_dry_run_is_validated_by_verl():
    proc = run(
        "train_opcd.sh",
        {
            "TRAINER": "verl",
            "DEVICE": "cuda",
            "MODEL_SIZE": "8b",
            "DRY_RUN": "1",
            "LOGGER": "swanlab",
            "OPCD_OVERRIDES": "trainer.total_epochs=1",
            "CHECKPOINT_CONTENTS": "model",
        },
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    from omegaconf import OmegaConf

    cfg = OmegaConf.create(proc.stdout)
    assert cfg.trainer.total_epochs == 1 and list(cfg.trainer.logger) == ["console", "file", "swanlab"]
    # paths reach Ray absolute (workers on other nodes resolve them as given)
    assert cfg.distillation.teacher_models.teacher_model.model_path == str(ROOT / "models/Qwen3-VL-8B-Instruct")
    assert cfg.trainer.n_gpus_per_node == 4 and cfg.distillation.n_gpus_per_node == 4
    # the GPU recipe: vLLM with a bounded context, sdpa with remove-padding, FSDP2, verl's trainer with MGSD's validation
    rollout, model = cfg.actor_rollout_ref.rollout, cfg.actor_rollout_ref.model
    assert rollout.name == "vllm" and rollout.max_model_len == 7168 and cfg.trainer.device == "cuda"
    assert model.override_config.attn_implementation == "sdpa" and model.use_remove_padding
    assert (
        cfg.actor_rollout_ref.actor.strategy == "fsdp2" and cfg.actor_rollout_ref.actor.fsdp_config.strategy == "fsdp2"
    )
    assert cfg.trainer.v1.trainer_mode == "mgsd_opcd" and cfg.trainer.max_actor_ckpt_to_keep is None
    assert list(cfg.actor_rollout_ref.actor.checkpoint.save_contents) == ["model"]  # CHECKPOINT_CONTENTS
    # the teacher's prompt_logprobs are computed over at most 4096 scheduled tokens at a time
    assert cfg.distillation.teacher_models.teacher_model.inference.max_num_batched_tokens == 4096
    assert cfg.ray_kwargs.ray_init.runtime_env.env_vars.VERL_USE_EXTERNAL_MODULES == "mgsd_opcd.verl_plugin"
    assert cfg.ray_kwargs.ray_init.address == "local"  # one node: a private Ray instance, never another job's
    for overrides, words in (
        ("actor_rollout_ref.rollout.temperature=0.7", "rollout.temperature=0.7: OPCD samples at 1.0"),
        (
            "actor_rollout_ref.actor.ppo_mini_batch_size=16",
            "ppo_mini_batch_size=16 with data.train_batch_size=32: the k1 advantage is on-policy only",
        ),
        ("actor_rollout_ref.actor.ppo_epochs=2", "ppo_epochs=2"),
    ):
        off = run("train_opcd.sh", {"TRAINER": "verl", "DEVICE": "cuda", "DRY_RUN": "1", "OPCD_OVERRIDES": overrides})
        assert off.returncode == 2 and words in off.stderr.strip().splitlines()[-1], off.stderr[-500:]
    # upstream's precision with one setting: bf16 weights and optimizer states (verl), no fp32 master (single)
    bf16 = run("train_opcd.sh", {"TRAINER": "verl", "DEVICE": "cuda", "DRY_RUN": "1", "PRECISION": "bf16"})
    assert OmegaConf.create(bf16.stdout).actor_rollout_ref.actor.fsdp_config.model_dtype == "bf16"
    assert cfg.actor_rollout_ref.actor.fsdp_config.model_dtype == "fp32"  # the default: fp32 master weights
    single = run("train_opcd.sh", {"TRAINER": "single", "DRY_RUN": "1", "PRECISION": "bf16"})
    assert "dtype=bfloat16" in single.stderr and "master_dtype=compute" in single.stderr
    assert run("train_opcd.sh", {"TRAINER": "single", "DRY_RUN": "1", "PRECISION": "fp16"}).returncode == 2
    bad = run("train_opcd.sh", {"TRAINER": "verl", "DEVICE": "cuda", "DRY_RUN": "1", "TRAINER_GPUS": "6"})
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1] == (
        "mgsd_opcd: invalid verl config: ValueError: the train batch (32 prompts "
        "x 1 responses) must divide by TRAINER_GPUS x NNODES = 6 x 1: change "
        "TRAINER_GPUS, NNODES or data.train_batch_size"
    )


def test_missing_logger_fails_before_training(tmp_path):
    fake = tmp_path / "python"  # an interpreter that has none of the loggers
    fake.write_text(f'#!/bin/sh\ncase "$*" in *\'import swanlab\'*) exit 1 ;; esac\nexec {sys.executable} "$@"\n')
    fake.chmod(0o755)
    proc = subprocess.run(
        ["bash", str(ROOT / "EasyR1" / "train_opcd.sh")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            **os.environ,
            "MGSD_OPCD_PYTHON": str(fake),
            "TRAINER": "single",
            "LOGGER": "swanlab",
            "MODEL_PATH": str(tmp_path),
            "TEACHER_MODEL_PATH": str(tmp_path),
            "DRY_RUN": "0",
        },
        timeout=120,
    )
    assert proc.returncode == 2
    # the model check comes first when the folder is not a model; with the logger check alone:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.parquet").write_text("")
    proc = subprocess.run(
        ["bash", str(ROOT / "EasyR1" / "train_opcd.sh")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            **os.environ,
            "MGSD_OPCD_PYTHON": str(fake),
            "TRAINER": "single",
            "LOGGER": "swanlab",
            "MODEL_PATH": str(tmp_path),
            "TEACHER_MODEL_PATH": str(tmp_path),
            "DATA_DIR": str(tmp_path / "data"),
        },
        timeout=120,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().splitlines()[-1]
        == f"error: LOGGER=swanlab but the swanlab package is not installed in {fake} (pip install swanlab)"
    )


def test_missing_paths_fail_early(tmp_path):
    proc = run("train_opcd.sh", {"TRAINER": "single", "MODEL_PATH": str(tmp_path / "nope")})
    assert (
        proc.returncode == 2
        and proc.stderr.strip().splitlines()[-1]
        == f"error: {tmp_path / 'nope'} is not a Hugging Face model folder (no config.json)"
    )
    proc = run("merge_checkpoint.sh", {}, str(tmp_path))
    assert proc.returncode == 2 and "neither a verl FSDP checkpoint" in proc.stderr


@pytest.mark.parametrize("driver,ok", [("570.86.15", False), ("580.65.06", True)])
def test_gpu_driver_too_old_for_cuda_13_is_refused_with_one_line(tmp_path, driver, ok):
    """On a GPU machine the launcher reads the CUDA its environment's torch was built for (the opcd lock's
    torch 2.11.0: CUDA 13) and refuses a driver that cannot run it, saying what to do. nvidia-smi is faked."""
    import torch

    assert torch.version.cuda.startswith("13.")  # this environment is the lock's
    smi = tmp_path / "bin" / "nvidia-smi"
    smi.parent.mkdir()
    smi.write_text(
        f"#!/bin/sh\ncase \"$*\" in *-L*) echo 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)' ;;\n"
        f"  *driver_version*) echo '{driver}' ;; esac\n"
    )
    smi.chmod(0o755)
    proc = run("train_opcd.sh", {"PATH": f"{smi.parent}:{os.environ['PATH']}", "TRAINER": "verl", "DRY_RUN": "1"})
    if ok:
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "DEVICE=cuda" in proc.stderr
    else:
        assert proc.returncode == 2
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith(f"error: NVIDIA driver {driver} cannot run CUDA 13.0")
        assert "needs driver >= 580" in last and "MGSD_TORCH_PIP_ARGS=" in last
