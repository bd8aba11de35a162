"""OPCD has to learn, with both trainers, through the launcher users run.

The modality gap in miniature: a tiny Qwen3-VL is taught in seconds to plan from the teacher's symbolic
context (a few SFT steps: it answers in ``<answer>`` blocks with move words). Reading the image prompt, the
same weights rarely produce that format. That model is the student, and its frozen copy the text teacher.
After a few OPCD steps, the student's reverse KL to the teacher on held-out prompts must fall by half or
more, and its format rate must rise (``mgsd_opcd.probe``).

What this catches (each was checked by breaking the code on purpose): a sign flip of the advantage, a
teacher log-prob realigned one token off, and updates that round away in bf16 (the single-process trainer
runs in bf16 at a learning rate where bf16 weights without an fp32 master copy lose most updates).
"""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
LEVELS = {"frozenlake": (3,), "maze": (3,), "minibehaviour": (4,)}
STEPS, BATCH, RESPONSE = 16, 8, 24
# The single-process run is in bf16 at lr 1e-5, where weights kept in bf16 lose most updates: more, smaller steps.
SP_STEPS, SP_LR = 48, 1e-5


def sft_text_teacher(base: Path, rows, out: Path, steps: int = 80, lr: float = 3e-3, seed: int = 0) -> Path:
    """``base`` fine-tuned on the OPCD teacher's own input (system prompt + symbolic context) -> the
    reference plan in an answer block, text only."""
    from transformers import AutoModelForImageTextToText

    from mgsd_opcd.sp_model import left_pad, load_processor, pad_responses, response_logprobs
    from mgsd_opcd.teacher import teacher_messages_for, teacher_prompt_ids

    torch.manual_seed(seed)
    pick = random.Random(seed)
    processor = load_processor(str(base), 65536, 262144)
    tok = processor.tokenizer
    end = [tok.convert_tokens_to_ids("<|im_end|>")]
    model = AutoModelForImageTextToText.from_pretrained(base, dtype=torch.float32)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    cpu = torch.device("cpu")
    for _ in range(steps):
        batch = pick.sample(rows, 8)
        prompts = [teacher_prompt_ids(tok, teacher_messages_for(r.extra_info, True)) for r in batch]
        targets = [
            tok.encode(f"<answer>{r.extra_info['reference_plan']}</answer>", add_special_tokens=False) + end
            for r in batch
        ]
        ids, pmask = left_pad(prompts, tok.pad_token_id, cpu)
        resp, rmask = pad_responses(targets, tok.pad_token_id, cpu)
        loss = -(response_logprobs(model, ids, pmask, resp, rmask) * rmask).sum() / rmask.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def measure(student: Path, teacher: Path, val: Path) -> dict:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mgsd_opcd.probe",
            "--student",
            str(student),
            "--teacher",
            str(teacher),
            "--data",
            str(val),
            "--samples",
            "2",
            "--max-new-tokens",
            str(RESPONSE),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def gap(tmp_path_factory, tiny_model):
    """(data folder with train.parquet, val.parquet, teacher folder, the student's probe before OPCD)."""
    from mgsd_opcd.sp_data import read_rows
    from task_envs.dataset.generate import GenerateSpec, build_dataset
    from task_envs.exporters.verl import export_verl

    root = tmp_path_factory.mktemp("learning")
    (root / "data").mkdir()
    for split, n in (("train", 40), ("val", 6)):
        data, _ = build_dataset(GenerateSpec(tuple(LEVELS), LEVELS, n, split, 5), root / split, progress=False)
        export_verl([str(data)], (root / "data" if split == "train" else root) / f"{split}.parquet")
    teacher = sft_text_teacher(tiny_model, read_rows(root / "data" / "train.parquet"), root / "teacher")
    before = measure(teacher, teacher, root / "val.parquet")
    return {"data": root / "data", "val": root / "val.parquet", "teacher": teacher, "before": before}


def run_launcher(env: dict, timeout: int = 1200) -> subprocess.CompletedProcess:
    full = {**os.environ, "MGSD_OPCD_PYTHON": sys.executable, **env}
    return subprocess.run(
        ["bash", str(ROOT / "EasyR1" / "train_opcd.sh")],
        capture_output=True,
        text=True,
        env=full,
        cwd=ROOT,
        timeout=timeout,
    )


def assert_learned(before: dict, after: dict) -> None:
    print(f"\nbefore OPCD: {before}\nafter OPCD:  {after}")
    assert before["format"] < 0.75 and before["success"] < 0.2, f"the student already plans from the image: {before}"
    assert after["reverse_kl"] <= 0.5 * before["reverse_kl"], f"reverse KL did not halve: {before} -> {after}"
    assert after["format"] > before["format"], f"format rate did not rise: {before} -> {after}"


def test_single_process_opcd_learns(gap, tmp_path):
    out = tmp_path / "single"
    proc = run_launcher(
        {
            "TRAINER": "single",
            "MODEL_PATH": str(gap["teacher"]),
            "TEACHER_MODEL_PATH": str(gap["teacher"]),
            "DATA_DIR": str(gap["data"]),
            "OUTPUT_DIR": str(out),
            # bf16 compute at a learning rate where only an fp32 master copy keeps the updates
            "OPCD_OVERRIDES": f"max_steps={SP_STEPS} batch_size={BATCH} micro_batch_size={BATCH} "
            f"max_response_length={RESPONSE} lr={SP_LR} dtype=bfloat16 master_dtype=float32 save_freq=0 seed=1",
        }
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert_learned(gap["before"], measure(out / f"global_step_{SP_STEPS}", gap["teacher"], gap["val"]))


def test_verl_trainer_learns_validates_checkpoints_and_merges(gap, tmp_path, unrelated_ray_cluster):
    """verl's real trainer through the launcher a GPU user runs, with verl's vLLM rollout and vLLM teacher on
    vLLM's CPU build: OPCD steps with the teacher
    reading the symbolic state, validation with the macro keys before and after, an FSDP2 checkpoint and its
    tracker, swanlab offline, then merge_checkpoint.sh (the merged folder loads offline and generates from a
    task image), and the merged student has learned. Another job's Ray cluster runs meanwhile: the run starts
    its own Ray instance and never joins it."""
    import math

    out = tmp_path / "verl"
    env = {
        "TRAINER": "verl",
        "MODEL_SIZE": "tiny",
        "MODEL_PATH": str(gap["teacher"]),
        "TEACHER_MODEL_PATH": str(gap["teacher"]),
        "DATA_DIR": str(gap["data"]),
        "VAL_DIR": str(gap["val"].parent),
        "OUTPUT_DIR": str(out),
        "SWANLAB_PROJECT": "mgsd_ci",  # swanlab on, offline without a key
        "OPCD_OVERRIDES": f"trainer.total_training_steps={STEPS} data.train_batch_size={BATCH} "
        f"actor_rollout_ref.actor.ppo_mini_batch_size={BATCH} data.max_response_length={RESPONSE} "
        f"actor_rollout_ref.rollout.max_model_len={1024 + RESPONSE} "
        f"actor_rollout_ref.actor.optim.lr=3e-5 trainer.save_freq={STEPS} trainer.test_freq={STEPS} "
        "trainer.total_epochs=2",
    }
    shm_before = set(os.listdir("/dev/shm"))
    proc = run_launcher(env)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "TRAINER=verl" in proc.stderr and "DEVICE=cpu" in proc.stderr  # detected: no GPU here
    output = proc.stdout + proc.stderr
    assert "Started a local Ray instance" in output and "Connecting to existing Ray cluster" not in output
    # vLLM's ring buffers of the servers Ray killed are removed by the launcher
    assert not {f for f in set(os.listdir("/dev/shm")) - shm_before if f.startswith("psm_")}
    import yaml

    resolved = yaml.safe_load((out / "resolved_verl_config.yaml").read_text())  # verl's vLLM rollout and teacher
    assert resolved["actor_rollout_ref"]["rollout"]["name"] == "vllm"
    assert resolved["distillation"]["teacher_models"]["teacher_model"]["inference"]["name"] == "vllm"
    by_step = {}
    for line in (out / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        by_step.setdefault(row["step"], {}).update(row["data"])
    assert sorted(by_step) == list(range(STEPS + 1))
    assert {
        "val/reward_score",
        "val/by_task/frozenlake_success",
        "val/by_task/maze_success",
        "val/by_task/minibehaviour_success",
        "val/by_task_level/maze_level_3_success",
    } <= set(by_step[STEPS])
    assert "val/reward_score" in by_step[0]
    for step in range(1, STEPS + 1):
        metrics = by_step[step]
        assert math.isfinite(metrics["actor/distillation/loss"]) and metrics["actor/distillation/abs_loss"] > 0
        # the actor's packed (remove-padding, sdpa; bf16 mixed precision) probabilities agree with those of the
        # vLLM server that sampled: vLLM starts from dummy weights, so this holds only if every sync reached it
        # (and attention leaking across packed sequences would break it too)
        assert metrics["training/rollout_probs_diff_mean"] < 0.01
        assert metrics["training/rollout_actor_probs_pearson_corr"] >= 0.99, (step, metrics)
    tracker = json.loads((out / "checkpoint_tracker.json").read_text())
    assert (
        tracker["best_global_step"] == STEPS and (out / f"global_step_{STEPS}" / "actor" / "fsdp_config.json").is_file()
    )
    assert not (ROOT / "outputs").exists() and not (ROOT / "mgsd_opcd").exists()  # nothing left in the cwd
    assert "SWANLAB_MODE=offline" in proc.stderr and any((out / "swanlog").rglob("*")), "swanlab wrote no offline run"
    merged = subprocess.run(
        ["bash", str(ROOT / "EasyR1" / "merge_checkpoint.sh"), str(out / f"global_step_{STEPS}")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={**os.environ, "MGSD_OPCD_PYTHON": sys.executable},
    )
    assert merged.returncode == 0, merged.stderr[-3000:]
    assert "loads and generates" in merged.stderr
    assert_learned(gap["before"], measure(out / f"global_step_{STEPS}" / "huggingface", gap["teacher"], gap["val"]))
