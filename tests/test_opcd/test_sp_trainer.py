"""A few real OPCD steps of the single-process trainer on the tiny Qwen3-VL (CPU)."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mgsd_opcd.sp_config import ConfigError, load_config
from mgsd_opcd.sp_train import Trainer, spread

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "EasyR1" / "configs" / "opcd_single_process.yaml"


def _settings(opcd_data, tiny_model, out, **extra):
    base = dict(
        model_path=tiny_model,
        teacher_model_path=tiny_model,
        train_file=opcd_data["train"],
        val_file=opcd_data["val"],
        output_dir=out,
        batch_size=4,
        micro_batch_size=2,
        max_response_length=12,
        val_limit=6,
        val_batch_size=6,
        lr=1e-3,
        save_freq=2,
        val_freq=2,
        max_steps=2,
        seed=3,
    )
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


def _params(model):
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def _changed_fraction(before, after) -> float:
    """Share of the trainable weights (elements) that differ."""
    changed = sum(int((before[n] != after[n]).sum()) for n in before)
    return changed / sum(p.numel() for p in before.values())


def _same_optimizer_state(a, b) -> bool:
    sa, sb = a.state_dict()["state"], b.state_dict()["state"]
    return sa.keys() == sb.keys() and all(torch.equal(sa[k][name], sb[k][name]) for k in sa for name in sa[k])


def test_steps_change_the_model_log_finite_kl_and_reload(opcd_data, tiny_model, tmp_path):
    cfg = load_config(CONFIG, _settings(opcd_data, tiny_model, tmp_path / "run"))
    trainer = Trainer(cfg)
    before = _params(trainer.model)
    result = trainer.fit()
    after = _params(trainer.model)
    assert any(not torch.equal(before[n], after[n]) for n in before)
    lines = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    steps = [l for l in lines if "actor/reverse_kl" in l]
    assert [l["step"] for l in steps] == [1, 2]
    assert all(math.isfinite(l["actor/reverse_kl"]) and l["actor/reverse_kl"] != 0 for l in steps)
    assert all(0 <= l["reward/success"] <= 1 and l["perf/samples_per_s"] > 0 for l in steps)
    assert lines[0]["step"] == 0 and "val/reward_score" in lines[0]  # validation before training
    assert result["last_global_step"] == 2 and result["best_global_step"] == 2
    ckpt = tmp_path / "run" / "global_step_2"
    # The checkpoint is a complete Hugging Face folder: it loads offline in a fresh process and generates.
    proc = subprocess.run(
        [sys.executable, "-m", "mgsd_sft.checkpoint", "verify", str(ckpt)], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "loads and generates" in proc.stderr
    from transformers import AutoModelForImageTextToText

    reloaded = AutoModelForImageTextToText.from_pretrained(ckpt)
    state = dict(reloaded.named_parameters())
    assert all(torch.allclose(state[n], p) for n, p in after.items())


def test_resume_continues_from_the_last_checkpoint(opcd_data, tiny_model, tmp_path):
    out = tmp_path / "run"
    Trainer(
        load_config(CONFIG, _settings(opcd_data, tiny_model, out, max_steps=2, save_freq=1, save_limit=1, val_freq=0))
    ).fit()
    assert sorted(p.name for p in out.glob("global_step_*")) == ["global_step_2"]  # save_limit prunes
    with (out / "metrics.jsonl").open("a") as f:  # a step logged by a run killed before its checkpoint
        f.write(json.dumps({"step": 3, "actor/reverse_kl": 9.0}) + "\n")
    trainer = Trainer(
        load_config(CONFIG, _settings(opcd_data, tiny_model, out, max_steps=3, save_freq=1, save_limit=1, val_freq=0))
    )
    assert trainer.step == 2
    trainer.fit()
    lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert [l["step"] for l in lines] == [0, 1, 2, 3] and lines[-1]["actor/reverse_kl"] != 9.0
    assert json.loads((out / "checkpoint_tracker.json").read_text())["last_global_step"] == 3


def test_teacher_equal_to_student_gives_zero_advantage(opcd_data, tiny_model, tmp_path):
    cfg = load_config(CONFIG, _settings(opcd_data, tiny_model, tmp_path / "run", weight_decay=0, val_file=""))
    trainer = Trainer(cfg)
    # The teacher scores exactly what the student scores: same weights, same (visual) input.
    trainer._teacher_logprobs = lambda rows, responses: trainer._student_logprobs(rows, responses, grad=False)[0]
    before = _params(trainer.model)
    metrics = trainer.train_step(trainer.train_rows[:4])
    assert metrics["actor/reverse_kl"] == 0 and metrics["actor/advantage_mean"] == 0
    assert metrics["actor/grad_norm"] == 0
    assert all(torch.equal(before[n], p) for n, p in _params(trainer.model).items())


def test_lora_trains_adapters_only_and_saves_a_merged_folder(opcd_data, tiny_model, tmp_path):
    cfg = load_config(
        CONFIG, _settings(opcd_data, tiny_model, tmp_path / "run", lora_rank=4, max_steps=1, save_freq=1, val_file="")
    )
    trainer = Trainer(cfg)
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    trainer.fit()
    ckpt = tmp_path / "run" / "global_step_1"
    assert (ckpt / "adapter" / "adapter_config.json").is_file() and (ckpt / "model.safetensors").is_file()
    from mgsd_sft.checkpoint import verify

    assert verify(ckpt, max_new_tokens=4)


def test_spread_covers_every_cell(opcd_data):
    from mgsd_opcd.sp_data import read_rows

    rows = read_rows(opcd_data["val"])
    cells = {(r.extra_info["task"], r.extra_info["level"]) for r in rows}
    picked = spread(rows, len(cells))
    assert {(r.extra_info["task"], r.extra_info["level"]) for r in picked} == cells


def test_bad_settings_fail_with_one_line(opcd_data, tiny_model, tmp_path):
    with pytest.raises(ConfigError, match="unknown setting 'batchsize'"):
        load_config(CONFIG, _settings(opcd_data, tiny_model, tmp_path) + ["batchsize=3"])
    # a rollout at another temperature than the one both policies are scored at: off-policy, refused
    with pytest.raises(ConfigError, match=r"^setting 'temperature': OPCD samples at 1.0, .* got 0.7 "):
        load_config(CONFIG, _settings(opcd_data, tiny_model, tmp_path, temperature=0.7))
    with pytest.raises(ConfigError, match="teacher_model_path.*not a Hugging Face model folder"):
        load_config(CONFIG, _settings(opcd_data, tiny_model, tmp_path, teacher_model_path=tmp_path))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mgsd_opcd.sp_train",
            "--config",
            str(CONFIG),
            *_settings(opcd_data, tiny_model, tmp_path, lr="fast"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "mgsd_opcd: error: setting 'lr': cannot read 'fast' as float"


def test_long_responses_never_hold_vision_placeholders(opcd_data, tiny_model, tmp_path):
    """An untrained model samples anything; a sampled <|image_pad|> would break scoring of the response."""
    from mgsd_opcd.sp_model import vision_token_ids

    cfg = load_config(CONFIG, _settings(opcd_data, tiny_model, tmp_path / "run", max_response_length=48, val_file=""))
    trainer = Trainer(cfg)
    trainer.eos = set()  # never stop early: 48 sampled tokens per response
    responses = trainer._rollout(trainer.train_rows[:4], 1.0, 1.0)
    assert all(len(r) == 48 for r in responses)
    banned = set(vision_token_ids(trainer.tokenizer))
    assert len(banned) == 4 and not banned & {t for r in responses for t in r}
    assert math.isfinite(trainer.train_step(trainer.train_rows[:4])["actor/reverse_kl"])


def test_bf16_full_fine_tuning_updates_fp32_master_weights_and_resumes_exactly(opcd_data, tiny_model, tmp_path):
    """At lr 1e-6 an update is far below a bf16 weight's resolution: only fp32 master weights take it."""
    cfg = load_config(
        CONFIG, _settings(opcd_data, tiny_model, tmp_path / "run", dtype="bfloat16", lr=1e-6, val_file="", save_freq=2)
    )
    trainer = Trainer(cfg)
    before = _params(trainer.model)
    trainer.fit()
    after = _params(trainer.model)
    changed = _changed_fraction(before, after)
    print(f"bf16 full fine-tuning, lr 1e-6, 2 steps: {changed:.2%} of trainable weights changed")
    assert changed > 0.9, f"only {changed:.1%} of the trainable weights changed"
    resumed = Trainer(cfg)
    assert resumed.step == 2
    assert all(p.dtype == torch.float32 and torch.equal(after[n], p) for n, p in _params(resumed.model).items())
    assert _same_optimizer_state(trainer.optimizer, resumed.optimizer)


def test_upstream_precision_keeps_bf16_weights_where_small_updates_round_away(opcd_data, tiny_model, tmp_path):
    """PRECISION=bf16 (dtype=bfloat16 master_dtype=compute), upstream's: the trainable weights and the AdamW
    states are bf16, and at lr 1e-6 most updates are lost (what the fp32 default exists for)."""
    cfg = load_config(
        CONFIG,
        _settings(
            opcd_data,
            tiny_model,
            tmp_path / "run",
            dtype="bfloat16",
            master_dtype="compute",
            lr=1e-6,
            val_file="",
            save_freq=0,
            max_steps=2,
        ),
    )
    trainer = Trainer(cfg)
    before = _params(trainer.model)
    trainer.fit()
    after = _params(trainer.model)
    assert all(p.dtype == torch.bfloat16 for p in after.values())
    assert all(
        s.dtype == torch.bfloat16
        for state in trainer.optimizer.state.values()
        for s in state.values()
        if torch.is_tensor(s) and s.dim()
    )
    changed = _changed_fraction(before, after)
    print(f"bf16 weights without a master copy, lr 1e-6, 2 steps: {changed:.2%} of trainable weights changed")
    assert changed < 0.5, f"{changed:.1%} of the bf16 weights changed at lr 1e-6"


def test_bad_master_dtype_fails_with_one_line(opcd_data, tiny_model, tmp_path):
    with pytest.raises(ConfigError, match="^setting 'master_dtype': expected float32 or compute, got 'fp32'$"):
        load_config(CONFIG, _settings(opcd_data, tiny_model, tmp_path, master_dtype="fp32"))


def test_overlong_prompts_are_dropped_with_a_warning(opcd_data, tiny_model, tmp_path, capsys):
    """As verl's filter_overlong_prompts: prompt tokens (image tokens included) above max_prompt_length."""
    from mgsd_opcd.sp_data import read_rows
    from mgsd_opcd.sp_model import load_processor, student_inputs

    cfg = load_config(CONFIG, _settings(opcd_data, tiny_model, tmp_path / "run", val_file=""))
    processor = load_processor(tiny_model, cfg.min_pixels, cfg.max_pixels)
    rows = read_rows(opcd_data["train"])
    lengths = [student_inputs(processor, [r], torch.device("cpu"))["input_ids"].shape[1] for r in rows]
    limit = sorted(lengths)[len(lengths) // 2]
    kept = sum(n <= limit for n in lengths)
    assert 4 <= kept < len(rows)
    capsys.readouterr()
    trainer = Trainer(
        load_config(CONFIG, _settings(opcd_data, tiny_model, tmp_path / "run", val_file="", max_prompt_length=limit))
    )
    assert len(trainer.train_rows) == kept
    assert [r.extra_info["id"] for r in trainer.train_rows] == [
        r.extra_info["id"] for r, n in zip(rows, lengths) if n <= limit
    ]
    warnings = [l for l in capsys.readouterr().err.splitlines() if "max_prompt_length" in l]
    assert warnings == [
        f"mgsd_opcd: warning: {opcd_data['train']}: dropped {len(rows) - kept} of {len(rows)} rows "
        f"whose prompt is longer than max_prompt_length ({limit} tokens)"
    ]
    with pytest.raises(ValueError, match="all .* prompts are longer than max_prompt_length"):
        Trainer(
            load_config(
                CONFIG,
                _settings(opcd_data, tiny_model, tmp_path / "run", val_file="", max_prompt_length=min(lengths) - 1),
            )
        )


def test_relative_paths_become_absolute(opcd_data, tiny_model, tmp_path, monkeypatch):
    """Other nodes or a changed working directory must find the same files."""
    monkeypatch.chdir(tmp_path)
    rel = {
        "model_path": tiny_model,
        "teacher_model_path": tiny_model,
        "train_file": opcd_data["train"],
        "val_file": opcd_data["val"],
    }
    rel = {k: os.path.relpath(v, tmp_path) for k, v in rel.items()}
    cfg = load_config(CONFIG, _settings(opcd_data, tiny_model, "run", **rel))
    monkeypatch.chdir(ROOT)
    for name in (*rel, "output_dir"):
        assert os.path.isabs(getattr(cfg, name)), name
    assert Path(cfg.output_dir) == tmp_path.resolve() / "run"
    assert (Path(cfg.model_path) / "config.json").is_file() and Path(cfg.train_file).is_file()


def test_warns_once_when_the_data_has_no_reference_plan(opcd_data, tiny_model, tmp_path, capsys):
    """Data exported with --no-reference-plan while teacher_reference_plan is on: the teacher sees no plan."""
    from task_envs.exporters.verl import export_verl

    no_plan, n = export_verl([str(opcd_data["train_dir"])], tmp_path / "no_plan.parquet", reference_plan=False)
    capsys.readouterr()
    Trainer(load_config(CONFIG, _settings(opcd_data, tiny_model, tmp_path / "a", train_file=no_plan, val_file="")))
    warnings = [l for l in capsys.readouterr().err.splitlines() if "reference plan" in l]
    assert len(warnings) == 1 and warnings[0].startswith(f"mgsd_opcd: warning: {no_plan}: {n} of {n} rows")
    Trainer(
        load_config(
            CONFIG,
            _settings(
                opcd_data, tiny_model, tmp_path / "b", train_file=no_plan, val_file="", teacher_reference_plan=False
            ),
        )
    )
    Trainer(load_config(CONFIG, _settings(opcd_data, tiny_model, tmp_path / "c", val_file="")))
    assert "reference plan" not in capsys.readouterr().err


def test_chunked_logprobs_equal_the_whole_and_so_do_their_gradients(tiny_model):
    from mgsd_opcd.sp_model import load_model, response_logprobs

    model = load_model(tiny_model, torch.float32, torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    prompt, resp = torch.randint(10, 400, (2, 7), generator=gen), torch.randint(10, 400, (2, 11), generator=gen)
    pmask, rmask = torch.ones_like(prompt), torch.ones_like(resp)
    rmask[1, 8:] = 0
    results = []
    for chunk in (0, 4):
        model.zero_grad()
        logp = response_logprobs(model, prompt, pmask, resp, rmask, chunk)
        (logp * rmask).sum().backward()
        results.append((logp.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}))
    (whole, g_whole), (chunked, g_chunked) = results
    assert torch.allclose(whole, chunked, atol=1e-6) and g_whole.keys() == g_chunked.keys()
    assert all(torch.allclose(g_whole[n], g_chunked[n], atol=1e-6) for n in g_whole)


def test_student_adapter_trains_the_adapter_and_the_teacher_is_its_base(opcd_data, tiny_model, tmp_path):
    """One copy of the weights: the teacher scores with the adapter off, so its log-probs are the base model's."""
    from peft import LoraConfig, get_peft_model

    from mgsd_opcd.sp_model import load_model

    base = load_model(tiny_model, torch.float32, torch.device("cpu"))
    target = r".*language_model.*\.(q_proj|v_proj|up_proj)"
    adapted = get_peft_model(
        load_model(tiny_model, torch.float32, torch.device("cpu")),
        LoraConfig(r=4, target_modules=target, init_lora_weights=False),
    )
    adapted.save_pretrained(tmp_path / "adapter")
    cfg = load_config(
        CONFIG,
        _settings(
            opcd_data,
            tiny_model,
            tmp_path / "run",
            student_adapter=tmp_path / "adapter",
            max_steps=1,
            save_freq=1,
            val_file="",
            gradient_checkpointing="true",
            rollout_batch_size=3,
            logprob_chunk=4,
        ),
    )
    trainer = Trainer(cfg)
    assert cfg.shared_teacher and trainer.teacher is None
    trainable = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    rows = trainer.train_rows[:4]
    responses = trainer._rollout(rows, 1.0, 1.0)
    assert len(responses) == 4  # rollouts of 3, then 1
    from mgsd_opcd.sp_model import teacher_logprobs

    expected = teacher_logprobs(base, trainer.teacher_tokenizer, rows, responses, True, torch.device("cpu"))
    assert torch.allclose(trainer._teacher_logprobs(rows, responses), expected, atol=1e-5)
    student = trainer._student_logprobs(rows, responses, grad=False)[0]
    assert not torch.allclose(student, expected, atol=1e-3)  # the adapter is on for the student
    before = _params(trainer.model)
    trainer.fit()
    assert _changed_fraction(before, _params(trainer.model)) > 0.5
    ckpt = tmp_path / "run" / "global_step_1"
    assert (ckpt / "adapter" / "adapter_config.json").is_file() and (ckpt / "model.safetensors").is_file()
