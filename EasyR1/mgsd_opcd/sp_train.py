"""Single-process OPCD trainer (one GPU or a CPU): the same data, prompts, teacher context, advantage,
loss and reward as the verl path; only the loop is its own.

    python -m mgsd_opcd.sp_train --config EasyR1/configs/opcd_single_process.yaml [key=value ...]

Each step: sample one response per prompt from the student (image + student prompt); score the
response tokens under the student (old log-probs) and under the frozen teacher (teacher system prompt
+ symbolic state [+ reference plan], text only); advantage = log p_teacher - log p_student per token;
PPO-clip update, under autocast to ``dtype`` over fp32 master weights by default. The task reward is
logged and drives validation only. Writes
``OUTPUT_DIR/global_step_N/`` (Hugging Face folders), ``metrics.jsonl``, ``checkpoint_tracker.json``;
a rerun resumes from the last checkpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

import torch

from task_envs.io_utils import atomic_write_json, atomic_write_text

from .algorithm import masked_mean, ppo_clip_loss, reverse_kl_advantages
from .reward import SCORE_KEYS, score_response
from .sp_config import ConfigError, OPCDConfig, as_dict, load_config
from .sp_data import drop_overlong, read_rows, warn_without_reference_plan
from .sp_model import (
    eos_ids,
    generate,
    load_model,
    load_processor,
    mixed_precision,
    pick_device,
    pick_dtype,
    pick_master_dtype,
    prompt_length,
    student_inputs,
    student_logprobs,
    teacher_logprobs,
)
from .validation import CheckpointTracker, validation_metrics

STATE_FILE = "trainer_state.pt"


def chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def spread(rows: list, limit: int) -> list:
    """At most ``limit`` rows taken round-robin over (task, level) cells, so a small validation set
    still covers every task and level."""
    cells: dict[tuple, list] = {}
    for row in rows:
        cells.setdefault((row.extra_info.get("task"), row.extra_info.get("level")), []).append(row)
    out, depth = [], 0
    while len(out) < limit and any(len(c) > depth for c in cells.values()):
        out += [c[depth] for c in cells.values() if len(c) > depth][: limit - len(out)]
        depth += 1
    return out


class MetricsLog:
    """metrics.jsonl (always) plus swanlab / wandb when listed (a listed logger that is missing is an error)."""

    def __init__(self, cfg: OPCDConfig, out: Path, resume_step: int = 0):
        self.path = out / "metrics.jsonl"
        if self.path.is_file():
            # Rows past the checkpoint we resume from belong to steps that are about to be redone.
            kept = [l for l in self.path.read_text().splitlines() if l.strip() and json.loads(l)["step"] <= resume_step]
            atomic_write_text(self.path, "".join(l + "\n" for l in kept))
        self.backends = []
        for name in cfg.loggers:
            if name == "jsonl":
                continue
            try:
                module = __import__(name)
            except ImportError:
                raise ConfigError(f"setting 'loggers': {name} is not installed (pip install {name})") from None
            if name == "swanlab":  # mode and log dir from SWANLAB_MODE / SWANLAB_LOG_DIR, as in verl
                module.init(
                    project=cfg.project_name,
                    experiment_name=cfg.experiment_name,
                    config=as_dict(cfg),
                    logdir=os.environ.get("SWANLAB_LOG_DIR", str(out / "swanlog")),
                    mode=os.environ.get("SWANLAB_MODE", "offline"),
                )
            else:
                module.init(project=cfg.project_name, name=cfg.experiment_name, config=as_dict(cfg))
            self.backends.append(module)

    def log(self, step: int, metrics: dict) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"step": step, **metrics}) + "\n")
        for backend in self.backends:
            backend.log(metrics, step=step)

    def close(self) -> None:
        """Finish the backends' runs (they print their summaries now, not after the trainer's result)."""
        for backend in self.backends:
            backend.finish()


class Trainer:
    def __init__(self, cfg: OPCDConfig):
        self.cfg = cfg
        self.out = Path(cfg.output_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.device = pick_device(cfg.device)
        self.dtype = pick_dtype(cfg.dtype, self.device)  # compute; the frozen teacher's weights too
        self.master_dtype = pick_master_dtype(cfg.master_dtype, self.dtype)  # the trainable weights
        self.processor = load_processor(cfg.model_path, cfg.min_pixels, cfg.max_pixels)
        self.tokenizer = self.processor.tokenizer
        self.train_rows = self._read_rows(cfg.train_file)
        if cfg.teacher_reference_plan:
            warn_without_reference_plan(self.train_rows, cfg.train_file)
        self.val_rows = self._read_rows(cfg.val_file) if cfg.val_file else []
        if cfg.val_limit:
            self.val_rows = spread(self.val_rows, cfg.val_limit)
        self.steps_per_epoch = len(self.train_rows) // cfg.batch_size  # drop_last, as upstream
        if self.steps_per_epoch == 0:
            raise ConfigError(
                f"{cfg.train_file}: {len(self.train_rows)} rows are fewer than batch_size {cfg.batch_size}"
            )
        self.total_steps = self.steps_per_epoch * cfg.epochs
        if cfg.max_steps:
            self.total_steps = min(self.total_steps, cfg.max_steps)

        self.teacher_tokenizer = load_processor(cfg.teacher_model_path, cfg.min_pixels, cfg.max_pixels).tokenizer
        if self.teacher_tokenizer.get_vocab() != self.tokenizer.get_vocab():
            raise ConfigError(
                f"teacher {cfg.teacher_model_path} and student {cfg.model_path} have different vocabularies; "
                "the teacher scores the student's token ids, so they must share a tokenizer"
            )
        # A shared teacher is the student's own base weights with the adapter switched off (_teacher_logprobs).
        self.teacher = (
            None
            if cfg.shared_teacher
            else load_model(cfg.teacher_model_path, self.dtype, self.device, cfg.attn_implementation).eval()
        )
        if self.teacher is not None:
            self.teacher.requires_grad_(False)
        self.checkpoints = CheckpointTracker(self.out, cfg.save_limit)
        self.tracker = self.checkpoints.read()
        resume = self.tracker.get("last_global_step")
        self.step = int(resume) if resume else 0
        self.model = self._build_student(self.out / f"global_step_{self.step}" if self.step else None)
        self.eos = eos_ids(self.model, self.tokenizer)
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
        # fp16 gradients underflow without loss scaling; bf16 has fp32's range and needs none.
        self.scaler = torch.amp.GradScaler(
            self.device.type, enabled=self.dtype == torch.float16 and self.master_dtype == torch.float32
        )
        if self.step:
            state = torch.load(
                self.out / f"global_step_{self.step}" / STATE_FILE, map_location="cpu", weights_only=False
            )
            self.optimizer.load_state_dict(state["optimizer"])
            if state.get("scaler"):
                self.scaler.load_state_dict(state["scaler"])
            print(f"mgsd_opcd: resumed from {self.out}/global_step_{self.step}", file=sys.stderr)
        self.metrics = MetricsLog(cfg, self.out, self.step)

    def _read_rows(self, path: str) -> list:
        rows = read_rows(path)
        lengths = [prompt_length(self.processor, row) for row in rows]
        return drop_overlong(rows, lengths, self.cfg.max_prompt_length, path)

    def _autocast(self):
        return mixed_precision(self.device, self.dtype)

    # ---- model -------------------------------------------------------------------------------------
    def _build_student(self, resume_dir: Path | None):
        cfg = self.cfg
        if not cfg.trains_adapter:
            model = load_model(resume_dir or cfg.model_path, self.master_dtype, self.device, cfg.attn_implementation)
        else:
            # The frozen base stays in the compute dtype; peft keeps the adapters in float32.
            from peft import LoraConfig, PeftModel, get_peft_model

            model = load_model(cfg.model_path, self.dtype, self.device, cfg.attn_implementation)
            if resume_dir is not None or cfg.student_adapter:
                adapter = resume_dir / "adapter" if resume_dir is not None else cfg.student_adapter
                model = PeftModel.from_pretrained(model, adapter, is_trainable=True)
            else:
                # Adapters on the language model's linear layers only (the vision tower stays as it is).
                target = (
                    r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"
                    if cfg.lora_target == "all-linear"
                    else cfg.lora_target.split(",")
                )
                model = get_peft_model(
                    model,
                    LoraConfig(r=cfg.lora_rank, lora_alpha=cfg.lora_alpha, target_modules=target, lora_dropout=0.0),
                )
        if cfg.freeze_vision_tower and not cfg.trains_adapter:
            for name, param in model.named_parameters():
                if ".visual." in f".{name}" or name.startswith("visual."):
                    param.requires_grad_(False)
        model.config.use_cache = True
        if cfg.gradient_checkpointing:  # active in train mode only: generation keeps its KV cache
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        return model

    # ---- rollouts and scoring -----------------------------------------------------------------------
    def _rollout(self, rows, temperature: float, top_p: float) -> list[list[int]]:
        """One sampled response per row, ``rollout_batch_size`` prompts per ``generate`` call (0: all)."""
        self.model.eval()
        responses = []
        for part in chunks(rows, self.cfg.rollout_batch_size or len(rows)):
            inputs = student_inputs(self.processor, part, self.device)
            with self._autocast():
                responses += generate(
                    self.model, self.processor, inputs, self.cfg.max_response_length, temperature, top_p, self.eos
                )
        return responses

    def _student_logprobs(self, rows, responses, grad: bool) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.set_grad_enabled(grad), self._autocast():
            return student_logprobs(self.model, self.processor, rows, responses, self.device, self.cfg.logprob_chunk)

    @torch.no_grad()
    def _teacher_logprobs(self, rows, responses) -> torch.Tensor:
        # A shared teacher is the student's base: the same model with the adapter switched off.
        shared = self.teacher is None
        with self.model.disable_adapter() if shared else contextlib.nullcontext(), self._autocast():
            return teacher_logprobs(
                self.model if shared else self.teacher,
                self.teacher_tokenizer,
                rows,
                responses,
                self.cfg.teacher_reference_plan,
                self.device,
                self.cfg.logprob_chunk,
            )

    def _decode(self, responses) -> list[str]:
        return self.tokenizer.batch_decode(responses, skip_special_tokens=True)

    # ---- one step ----------------------------------------------------------------------------------
    def train_step(self, rows) -> dict:
        cfg = self.cfg
        t0 = time.perf_counter()
        torch.manual_seed(cfg.seed * 1_000_003 + self.step)
        responses = self._rollout(rows, cfg.temperature, cfg.top_p)
        t_rollout = time.perf_counter() - t0
        micro = cfg.micro_batch_size
        old, teacher, masks = [], [], []
        self.model.eval()
        for part_rows, part_resp in zip(chunks(rows, micro), chunks(responses, micro)):
            logp, mask = self._student_logprobs(part_rows, part_resp, grad=False)
            old.append(logp.detach())
            masks.append(mask)
            teacher.append(self._teacher_logprobs(part_rows, part_resp).to(logp.dtype))
        advantages = [reverse_kl_advantages(o, t, m) for o, t, m in zip(old, teacher, masks)]
        # Per-sequence mean of log p_student - log p_teacher (upstream's actor/reverse_kl).
        seq_kl = torch.cat([((o - t) * m).sum(1) / m.sum(1).clamp_min(1) for o, t, m in zip(old, teacher, masks)])

        self.model.train()
        micro_per_mini = max(1, cfg.effective_mini_batch // micro)
        row_parts, resp_parts = chunks(rows, micro), chunks(responses, micro)
        stats = {"pg_loss": [], "pg_clipfrac": [], "ppo_kl": [], "grad_norm": []}
        for _ in range(cfg.ppo_epochs):
            for start in range(0, len(old), micro_per_mini):
                idx = range(start, min(start + micro_per_mini, len(old)))
                tokens = sum(masks[i].sum() for i in idx).clamp_min(1)
                self.optimizer.zero_grad(set_to_none=True)
                for i in idx:
                    logp, _ = self._student_logprobs(row_parts[i], resp_parts[i], grad=True)
                    loss, m = ppo_clip_loss(
                        logp,
                        old[i],
                        advantages[i],
                        masks[i],
                        cfg.clip_ratio_low,
                        cfg.clip_ratio_high,
                        cfg.clip_ratio_dual,
                    )
                    self.scaler.scale(loss * masks[i].sum() / tokens).backward()
                    stats["pg_loss"].append(loss.item())
                    stats["pg_clipfrac"].append(m["pg_clipfrac"])
                    stats["ppo_kl"].append(m["ppo_kl"])
                self.scaler.unscale_(self.optimizer)
                params = [p for p in self.model.parameters() if p.requires_grad]
                norm = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                if torch.isfinite(norm):
                    self.scaler.step(self.optimizer)
                self.scaler.update()
                stats["grad_norm"].append(float(norm))
        elapsed = time.perf_counter() - t0
        scores = [score_response(row.extra_info, text) for row, text in zip(rows, self._decode(responses))]
        n_tokens = int(sum(m.sum() for m in masks))
        metrics = {
            "actor/reverse_kl": seq_kl.mean().item(),
            "actor/advantage_mean": masked_mean(
                torch.cat([a.flatten() for a in advantages]), torch.cat([m.flatten() for m in masks])
            ).item(),
            **{f"actor/{k}": sum(v) / len(v) for k, v in stats.items() if v},
            **{f"reward/{k}": sum(s[k] for s in scores) / len(scores) for k in SCORE_KEYS},
            "response_length/mean": n_tokens / len(responses),
            "perf/samples_per_s": len(rows) / elapsed,
            "perf/response_tokens_per_s": n_tokens / elapsed,
            "perf/rollout_s": t_rollout,
            "perf/step_s": elapsed,
            "lr": cfg.lr,
        }
        if self.device.type == "cuda":
            metrics["perf/max_memory_gib"] = torch.cuda.max_memory_allocated(self.device) / 2**30
        return metrics

    # ---- validation and checkpoints ------------------------------------------------------------------
    def validate(self) -> dict:
        if not self.val_rows:
            return {}
        texts = []
        torch.manual_seed(self.cfg.seed)
        for part in chunks(self.val_rows, self.cfg.val_batch_size):
            texts += self._decode(self._rollout(part, self.cfg.val_temperature, self.cfg.val_top_p))
        rows = []
        for row, text in zip(self.val_rows, texts):
            scores = score_response(row.extra_info, text)
            rows.append({"task": scores.pop("task"), "level": scores.pop("level"), "scores": scores})
        return validation_metrics(rows)

    def save(self, val_score: float | None) -> Path:
        cfg = self.cfg
        final = self.out / f"global_step_{self.step}"
        tmp = self.out / f".global_step_{self.step}.incomplete"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        if cfg.trains_adapter:
            self.model.save_pretrained(tmp / "adapter")
            merged = load_model(cfg.model_path, self.dtype, torch.device("cpu"), cfg.attn_implementation)
            from peft import PeftModel

            merged = PeftModel.from_pretrained(merged, tmp / "adapter").merge_and_unload()
            merged.save_pretrained(tmp)
            del merged
        else:
            self.model.save_pretrained(tmp)
        self.processor.save_pretrained(tmp)
        from mgsd_sft.checkpoint import complete

        complete(Path(cfg.model_path), tmp)
        torch.save(
            {"optimizer": self.optimizer.state_dict(), "scaler": self.scaler.state_dict(), "step": self.step},
            tmp / STATE_FILE,
        )
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
        self.checkpoints.saved(self.step)
        self.checkpoints.scored(self.step, val_score)
        self.tracker = self.checkpoints.read()
        return final

    # ---- loop ----------------------------------------------------------------------------------------
    def epoch_order(self, epoch: int) -> list[int]:
        order = list(range(len(self.train_rows)))
        random.Random(self.cfg.seed + epoch).shuffle(order)
        return order

    def fit(self) -> dict:
        from tqdm import tqdm

        cfg = self.cfg
        atomic_write_json(self.out / "opcd_config.json", as_dict(cfg))
        if self.step == 0 and cfg.val_before_train and self.val_rows:
            self.metrics.log(0, self.validate())
        last_val = None
        bar = tqdm(total=self.total_steps, initial=self.step, desc="opcd", unit="step", dynamic_ncols=True)
        while self.step < self.total_steps:
            epoch, offset = divmod(self.step, self.steps_per_epoch)
            order = self.epoch_order(epoch)
            batch = [self.train_rows[i] for i in order[offset * cfg.batch_size : (offset + 1) * cfg.batch_size]]
            metrics = self.train_step(batch)
            self.step += 1
            metrics["epoch"] = epoch
            last = self.step == self.total_steps
            if self.val_rows and (last or (cfg.val_freq and self.step % cfg.val_freq == 0)):
                metrics.update(self.validate())
                last_val = metrics["val/reward_score"]
            if last or (cfg.save_freq and self.step % cfg.save_freq == 0):
                self.save(metrics.get("val/reward_score"))
            self.metrics.log(self.step, metrics)
            bar.update(1)
            bar.set_postfix(reverse_kl=f"{metrics['actor/reverse_kl']:.3f}", success=f"{metrics['reward/success']:.2f}")
        bar.close()
        self.metrics.close()
        return {"last_global_step": self.step, "val_reward_score": last_val, **self.tracker}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mgsd_opcd.sp_train", description="Single-process OPCD trainer (one GPU or a CPU)."
    )
    parser.add_argument("--config", help="YAML settings (EasyR1/configs/opcd_single_process.yaml)")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="settings that replace the file's")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config, args.overrides)
        trainer = Trainer(cfg)
    except (ConfigError, ValueError, OSError) as exc:
        print(f"mgsd_opcd: error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    result = trainer.fit()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
