"""Settings of the single-process OPCD trainer: one YAML file (``EasyR1/configs/opcd_single_process.yaml``)
plus ``key=value`` overrides, checked up front with one-line errors."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    pass


@dataclass
class OPCDConfig:
    # Models and data
    model_path: str = ""  #: student init (the merged perception-SFT model)
    teacher_model_path: str = ""  #: frozen text teacher (the base Instruct model by default)
    student_adapter: str = ""  #: perception-SFT LoRA adapter on model_path (unmerged); the student is
    #: model_path + this adapter, trained further. When the teacher is
    #: model_path, it is the same weights with the adapter off (one copy)
    train_file: str = ""  #: verl RL parquet (`mgsd data export verl`)
    val_file: str = ""  #: the same format; empty: no validation
    output_dir: str = ""
    teacher_reference_plan: bool = True  #: the teacher's context includes the reference plan
    # Schedule (upstream: batch 32, lr 1e-6, 5 epochs, one optimizer step per rollout batch)
    epochs: int = 5
    max_steps: int = 0  #: > 0 stops earlier
    batch_size: int = 32  #: prompts per rollout batch (n = 1 response each)
    mini_batch_size: int = 0  #: prompts per optimizer step; 0: = batch_size
    micro_batch_size: int = 4  #: sequences per forward/backward (gradient accumulation)
    rollout_batch_size: int = 0  #: prompts per generate call; 0: the whole batch at once
    logprob_chunk: int = 0  #: response positions per logits chunk; 0: all at once
    gradient_checkpointing: bool = False  #: recompute each decoder layer in the backward
    ppo_epochs: int = 1
    lr: float = 1e-6
    weight_decay: float = 1e-2
    betas: tuple[float, float] = (0.9, 0.999)
    max_grad_norm: float = 1.0
    clip_ratio_low: float = 0.2
    clip_ratio_high: float = 0.3
    clip_ratio_dual: float = 3.0
    # Rollout
    max_prompt_length: int = 5120
    max_response_length: int = 2048
    temperature: float = 1.0
    top_p: float = 1.0
    min_pixels: int = 65536
    max_pixels: int = 262144
    # Validation and checkpoints
    val_temperature: float = 0.6
    val_top_p: float = 0.95
    val_batch_size: int = 16
    val_limit: int = 0  #: > 0 validates on the first N rows only
    val_before_train: bool = True
    val_freq: int = 20
    save_freq: int = 20
    save_limit: int = 3  #: keep the newest N checkpoints (the best is always kept)
    # Model options
    lora_rank: int = 0  #: 0: full fine-tuning (upstream); > 0: LoRA on the language model
    lora_alpha: int = 16
    lora_target: str = "all-linear"
    freeze_vision_tower: bool = False
    dtype: str = "auto"  #: compute dtype; auto: bf16 on CUDA, fp32 on CPU
    master_dtype: str = "float32"  #: trainable weights: float32 (mixed precision) or compute (= dtype)
    device: str = "auto"
    attn_implementation: str = "sdpa"
    seed: int = 1
    loggers: list[str] = field(default_factory=lambda: ["jsonl"])  #: jsonl, swanlab, wandb
    project_name: str = "mgsd_opcd"
    experiment_name: str = "opcd"

    @property
    def effective_mini_batch(self) -> int:
        return self.mini_batch_size or self.batch_size

    @property
    def shared_teacher(self) -> bool:
        """The teacher is the student's base model: one copy of the weights, the adapter off for the teacher."""
        return bool(self.student_adapter) and self.teacher_model_path == self.model_path

    @property
    def trains_adapter(self) -> bool:
        return self.lora_rank > 0 or bool(self.student_adapter)


_FIELDS = {f.name: f for f in dataclasses.fields(OPCDConfig)}
_REQUIRED = ("model_path", "teacher_model_path", "train_file", "output_dir")
_PATHS = ("model_path", "teacher_model_path", "student_adapter", "train_file", "val_file", "output_dir")


def _coerce(name: str, value: Any, default: Any) -> Any:
    """``value`` (from YAML or a ``key=value`` string) as the type of the field's default."""
    where = f"setting '{name}'"
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if isinstance(default, int):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, tuple):
            items = value if isinstance(value, (list, tuple)) else str(value).strip("[]()").split(",")
            return tuple(float(v) for v in items)
        if isinstance(default, list):
            items = value if isinstance(value, (list, tuple)) else [v for v in str(value).strip("[]").split(",")]
            return [str(v).strip() for v in items if str(v).strip()]
        return "" if value is None else str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: cannot read {value!r} as {type(default).__name__}") from None


def load_config(path: str | Path | None, overrides: list[str] = ()) -> OPCDConfig:
    """The YAML file's settings, then each ``key=value`` override; validated."""
    import yaml

    values: dict[str, Any] = {}
    if path:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of settings")
        for key, value in loaded.items():
            if key not in _FIELDS:
                raise ConfigError(f"{path}: unknown setting '{key}'")
            values[key] = value
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"override {item!r}: expected key=value")
        if key.strip() not in _FIELDS:
            raise ConfigError(f"override {item!r}: unknown setting '{key.strip()}'")
        values[key.strip()] = value
    defaults = OPCDConfig()
    cfg = OPCDConfig(**{k: _coerce(k, v, getattr(defaults, k)) for k, v in values.items()})
    cfg = absolute_paths(cfg)
    validate(cfg)
    return cfg


def absolute_paths(cfg: OPCDConfig) -> OPCDConfig:
    """``cfg`` with its (non-empty) paths absolute, so that another working directory or node reads the same files."""
    paths = {name: str(Path(os.path.expanduser(getattr(cfg, name))).resolve()) for name in _PATHS if getattr(cfg, name)}
    return dataclasses.replace(cfg, **paths)


def validate(cfg: OPCDConfig) -> None:
    for name in _REQUIRED:
        if not getattr(cfg, name):
            raise ConfigError(f"setting '{name}' is required")
    for name in ("model_path", "teacher_model_path"):
        if not (Path(getattr(cfg, name)) / "config.json").is_file():
            raise ConfigError(
                f"setting '{name}': {getattr(cfg, name)} is not a Hugging Face model folder (no config.json)"
            )
    if cfg.student_adapter:
        if not (Path(cfg.student_adapter) / "adapter_config.json").is_file():
            raise ConfigError(
                f"setting 'student_adapter': {cfg.student_adapter} is not a peft adapter folder "
                "(no adapter_config.json)"
            )
        if cfg.lora_rank > 0:
            raise ConfigError(
                "settings 'student_adapter' and 'lora_rank' exclude each other: the student adapter is the one trained"
            )
    for name in ("train_file", "val_file"):
        value = getattr(cfg, name)
        if value and not Path(value).is_file():
            raise ConfigError(f"setting '{name}': {value} not found")
    for name in ("rollout_batch_size", "logprob_chunk"):
        if getattr(cfg, name) < 0:
            raise ConfigError(f"setting '{name}' must be 0 or more, got {getattr(cfg, name)}")
    for name in (
        "epochs",
        "batch_size",
        "micro_batch_size",
        "ppo_epochs",
        "max_response_length",
        "max_prompt_length",
        "val_batch_size",
        "save_limit",
    ):
        if getattr(cfg, name) < 1:
            raise ConfigError(f"setting '{name}' must be at least 1, got {getattr(cfg, name)}")
    if cfg.batch_size % cfg.effective_mini_batch:
        raise ConfigError(
            f"setting 'mini_batch_size' ({cfg.mini_batch_size}) must divide batch_size ({cfg.batch_size})"
        )
    if not 0 < cfg.clip_ratio_low < 1 or cfg.clip_ratio_high <= 0 or cfg.clip_ratio_dual <= 1:
        raise ConfigError("clip ratios: need 0 < clip_ratio_low < 1, clip_ratio_high > 0, clip_ratio_dual > 1")
    if not 0 < cfg.top_p <= 1:
        raise ConfigError("rollout sampling: need 0 < top_p <= 1")
    if cfg.temperature != 1.0:  # the student's and teacher's log-probs are those of temperature 1
        raise ConfigError(
            f"setting 'temperature': OPCD samples at 1.0, the temperature both policies are scored at, "
            f"got {cfg.temperature} (validation has its own val_temperature)"
        )
    unknown = set(cfg.loggers) - {"jsonl", "swanlab", "wandb"}
    if unknown:
        raise ConfigError(f"setting 'loggers': unknown {sorted(unknown)}; expected jsonl, swanlab, wandb")
    if cfg.dtype not in ("auto", "float32", "bfloat16", "float16"):
        raise ConfigError(f"setting 'dtype': expected auto, float32, bfloat16 or float16, got {cfg.dtype!r}")
    if cfg.master_dtype not in ("float32", "compute"):
        raise ConfigError(f"setting 'master_dtype': expected float32 or compute, got {cfg.master_dtype!r}")


def as_dict(cfg: OPCDConfig) -> dict:
    out = dataclasses.asdict(cfg)
    out["betas"] = list(cfg.betas)
    return out
