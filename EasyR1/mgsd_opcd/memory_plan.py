"""Peak GPU memory of an OPCD run, estimated from the models' shapes before anything loads, and the
configuration that fits the card.

Standard library only: ``EasyR1/train_opcd.sh`` runs this file with any ``python3`` before it builds the
training environment, so a run that cannot fit is refused in a second, not after minutes of loading.

    python3 EasyR1/mgsd_opcd/memory_plan.py --trainer single --size 4b --gpu-memory-gb 24 [--set key=value ...]

Prints ``estimated peak GPU memory per GPU: X GiB of G`` and the settings of the chosen plan
(``plan: key=value ...``, for the launcher); exits 3 with one line when nothing fits.

What is counted (bytes per parameter P or per token; ``c`` = compute dtype bytes, 2 for bf16):
- single trainer, full fine-tuning (the paper's): fp32 master weights 4P, their bf16 copies cached by
  autocast 2P, fp32 gradients 4P, AdamW's two fp32 moments 8P; the frozen teacher cP;
- single trainer with LoRA: the frozen base cP, adapters with their gradients and moments 16 bytes each;
  the teacher cP more, or nothing when it is the base itself with the adapter off (``student_adapter``);
- rollouts: the KV cache of ``rollout_batch_size`` sequences of prompt + response tokens;
- the backward: each decoder layer's saved activations (or, with gradient checkpointing, each layer's input
  and one layer's activations), and the fp32 logits of ``logprob_chunk`` response positions (all of them
  when 0) with their log-softmax and gradient;
- verl: the FSDP-sharded fp32 weights, gradients and Adam moments (16P / actor GPUs) beside vLLM's share
  of the card (``gpu_memory_utilization``) during rollouts, and the teacher's vLLM share on its own GPUs;
- a fixed 0.6 GiB for the CUDA context and cuBLAS workspaces, and a plan must fit in 92% of the card
  (fragmentation, NCCL buffers).
Lengths are the configured maxima (prompt + response), so the estimate bounds what the data can need.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path

GIB = 2**30
CUDA_CONTEXT = 0.6 * GIB
USABLE = 0.92

# The shapes of the public Qwen3-VL checkpoints (their config.json), for planning before they are downloaded.
BUILTIN_CONFIGS = {
    "4b": {
        "tie_word_embeddings": True,
        "text_config": {
            "vocab_size": 151936,
            "hidden_size": 2560,
            "num_hidden_layers": 36,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "intermediate_size": 9728,
        },
        "vision_config": {
            "depth": 24,
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "out_hidden_size": 2560,
            "patch_size": 16,
            "temporal_patch_size": 2,
            "in_channels": 3,
            "spatial_merge_size": 2,
            "num_position_embeddings": 2304,
            "deepstack_visual_indexes": [5, 11, 17],
        },
    },
    "8b": {
        "tie_word_embeddings": False,
        "text_config": {
            "vocab_size": 151936,
            "hidden_size": 4096,
            "num_hidden_layers": 36,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "intermediate_size": 12288,
        },
        "vision_config": {
            "depth": 27,
            "hidden_size": 1152,
            "intermediate_size": 4304,
            "out_hidden_size": 4096,
            "patch_size": 16,
            "temporal_patch_size": 2,
            "in_channels": 3,
            "spatial_merge_size": 2,
            "num_position_embeddings": 2304,
            "deepstack_visual_indexes": [8, 16, 24],
        },
    },
}


class PlanError(ValueError):
    pass


@dataclass(frozen=True)
class Shape:
    """What memory depends on in a Qwen3-VL model."""

    vocab: int
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    tied: bool
    vision_params: int

    @property
    def layer_params(self) -> int:
        attn = self.hidden * self.head_dim * (2 * self.heads + 2 * self.kv_heads) + 2 * self.head_dim
        return attn + 3 * self.hidden * self.intermediate + 2 * self.hidden

    @property
    def params(self) -> int:
        embeddings = self.vocab * self.hidden * (1 if self.tied else 2)
        return embeddings + self.layers * self.layer_params + self.hidden + self.vision_params

    def lora_params(self, rank: int) -> int:
        """LoRA on every linear layer of the language model (q, k, v, o, gate, up, down)."""
        q, kv, h, i = self.heads * self.head_dim, self.kv_heads * self.head_dim, self.hidden, self.intermediate
        per_layer = rank * ((h + q) + 2 * (h + kv) + (q + h) + 2 * (h + i) + (i + h))
        return self.layers * per_layer

    def kv_bytes_per_token(self, dtype_bytes: int) -> int:
        return self.layers * 2 * self.kv_heads * self.head_dim * dtype_bytes

    def layer_activation_bytes(self, tokens: int, dtype_bytes: int) -> int:
        """What one decoder layer keeps for its backward: norm inputs and outputs, q/k/v before and after
        their norms and rotary embedding, the attention output, and the MLP's gate, up, act and product."""
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        return tokens * dtype_bytes * (4 * self.hidden + 4 * q + 4 * kv + 4 * self.intermediate)


def vision_params(v: dict) -> int:
    """Parameters of Qwen3-VL's vision tower: patch embedding, position table, blocks, the merger and one
    merger per deepstack layer."""
    h, i, out = v["hidden_size"], v["intermediate_size"], v["out_hidden_size"]
    merged = h * v["spatial_merge_size"] ** 2
    patch = v["in_channels"] * v["temporal_patch_size"] * v["patch_size"] ** 2 * h + h
    block = 4 * h + (h * 3 * h + 3 * h) + (h * h + h) + (h * i + i) + (i * h + h)

    def merger(norm: int) -> int:
        return 2 * norm + (merged * merged + merged) + (merged * out + out)

    deepstack = len(v.get("deepstack_visual_indexes") or [])
    return patch + v["num_position_embeddings"] * h + v["depth"] * block + merger(h) + deepstack * merger(merged)


def shape_from_config(cfg: dict) -> Shape:
    t = cfg.get("text_config", cfg)
    heads = t["num_attention_heads"]
    return Shape(
        vocab=t["vocab_size"],
        hidden=t["hidden_size"],
        layers=t["num_hidden_layers"],
        heads=heads,
        kv_heads=t.get("num_key_value_heads", heads),
        head_dim=t.get("head_dim", t["hidden_size"] // heads),
        intermediate=t["intermediate_size"],
        tied=bool(cfg.get("tie_word_embeddings", t.get("tie_word_embeddings", False))),
        vision_params=vision_params(cfg["vision_config"]) if "vision_config" in cfg else 0,
    )


def read_shape(model_path: str | None, size: str | None) -> Shape:
    """The shape in ``model_path/config.json``, else the public checkpoint's of ``size`` (4b, 8b)."""
    if model_path and (Path(model_path) / "config.json").is_file():
        path = Path(model_path) / "config.json"
        try:
            return shape_from_config(json.loads(path.read_text()))
        except (KeyError, TypeError, ValueError) as exc:
            raise PlanError(f"{path}: not a Qwen3-VL config ({exc!r})") from None
    if size in BUILTIN_CONFIGS:
        return shape_from_config(BUILTIN_CONFIGS[size])
    raise PlanError(f"{model_path}/config.json not found and MODEL_SIZE '{size}' has no built-in shape (4b, 8b)")


# ---- the single-process trainer ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SingleRun:
    """The single trainer's settings that memory depends on (names as in opcd_single_process.yaml)."""

    batch_size: int = 32
    micro_batch_size: int = 4
    rollout_batch_size: int = 0
    logprob_chunk: int = 0
    gradient_checkpointing: bool = False
    lora_rank: int = 0
    adapter_rank: int = 0  #: rank of student_adapter; > 0 means the adapter is trained
    shared_teacher: bool = False
    max_prompt_length: int = 5120
    max_response_length: int = 2048
    compute_bytes: int = 2  #: bf16 on a GPU
    master_bytes: int = 4  #: fp32 master weights


def single_parts(student: Shape, teacher: Shape, run: SingleRun) -> dict[str, int]:
    """Bytes of each part at the single trainer's peak (``peak`` = what they add up to)."""
    c, tokens, resp = run.compute_bytes, run.max_prompt_length + run.max_response_length, run.max_response_length
    rank = run.adapter_rank or run.lora_rank
    p = student.params
    if rank:
        trainable = student.lora_params(rank)
        weights, state = p * c + trainable * 4, trainable * (4 + 8)
    else:
        trainable = p
        # Under autocast each fp32 weight's half-precision copy is cached for the forward and backward.
        cast = p * c if run.master_bytes != c else 0
        weights, state = p * run.master_bytes + cast, p * (run.master_bytes + 2 * run.master_bytes)
    parts = {
        "student weights": weights,
        "gradients + optimizer": state,
        "teacher weights": 0 if run.shared_teacher else teacher.params * c,
    }
    generating = run.rollout_batch_size or run.batch_size
    rollout = generating * tokens * student.kv_bytes_per_token(c) + generating * student.vocab * 4 * 2
    micro = run.micro_batch_size
    chunk = run.logprob_chunk if 0 < run.logprob_chunk < resp else resp
    logits = micro * chunk * student.vocab * (c + 3 * 4)  # head output, fp32 copy, log-softmax, its gradient
    layer = student.layer_activation_bytes(micro * tokens, c)
    if run.gradient_checkpointing:
        backward = student.layers * micro * tokens * student.hidden * c + layer + logits
    else:
        backward = student.layers * layer + logits
    scoring = 2 * micro * tokens * (student.hidden + student.intermediate) * c + logits
    parts["activations"] = max(rollout, backward, scoring)
    parts["peak"] = sum(parts.values())
    return parts


def _distinct(run, steps: list[tuple[str, dict]], fixed: set[str]) -> list[tuple[str, object]]:
    """``run`` with each step's changes, less the settings the user fixed; repeats dropped."""
    out = []
    for label, change in steps:
        candidate = dataclasses.replace(run, **{k: v for k, v in change.items() if k not in fixed})
        if all(candidate != c for _, c in out):
            out.append((label, candidate))
    return out


def single_candidates(run: SingleRun, fixed: set[str], adapter: bool) -> list[tuple[str, SingleRun]]:
    """Configurations from the paper's (full fine-tuning, the whole batch at once) to the leanest; the user's
    own settings (``fixed``) are kept in each."""
    lean = {"gradient_checkpointing": True, "logprob_chunk": 256, "micro_batch_size": 1}
    steps = [("as configured", {})]
    if adapter:  # the student is base + adapter: the adapter is what trains
        name = "the perception adapter trained, " + (
            "the teacher = its base with it off" if run.shared_teacher else "a separate teacher"
        )
        lora = {}
    else:
        steps += [
            (f"full fine-tuning, gradient checkpointing, rollouts of {n}", {**lean, "rollout_batch_size": n})
            for n in (8, 2)
        ]
        name, lora = "LoRA rank 64 on the student, a separate teacher", {"lora_rank": 64}
    steps += [
        (f"{name}, gradient checkpointing, rollouts of {n}", {**lean, **lora, "rollout_batch_size": n})
        for n in (16, 8, 4, 2, 1)
    ]
    return _distinct(run, steps, fixed)


# ---- verl ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VerlRun:
    """The recipe's settings that memory depends on (EasyR1/configs/opcd_recipe.yaml and the size's config)."""

    actor_gpus: int = 4  #: trainer.n_gpus_per_node x trainer.nnodes
    micro_batch_size: int = 4  #: actor.ppo_micro_batch_size_per_gpu
    param_offload: bool = False
    optimizer_offload: bool = False
    rollout_utilization: float = 0.5
    teacher_utilization: float = 0.8
    teacher_tp: int = 1
    teacher_batched_tokens: int = 4096
    teacher_max_model_len: int = 8192
    max_prompt_length: int = 5120
    max_response_length: int = 2048


def verl_parts(student: Shape, teacher: Shape, run: VerlRun, gpu_bytes: float) -> dict[str, int]:
    """Bytes per actor GPU at its peak, and the teacher GPU's vLLM share (``teacher_need``: what must fit in it)."""
    n, p = run.actor_gpus, student.params
    weights, grads, adam = 4 * p // n, 4 * p // n, 8 * p // n
    tokens = run.max_prompt_length + run.max_response_length
    micro = run.micro_batch_size
    # FSDP gathers each layer's bf16 weights (and prefetches the next); gradient checkpointing is on.
    gathered = 2 * 2 * student.layer_params
    act = (
        student.layers * micro * tokens * student.hidden * 2
        + student.layer_activation_bytes(micro * tokens, 2)
        + micro * tokens * student.vocab * (2 + 4 + 4)
    )
    training = weights + grads + adam + gathered + act
    rollout = (
        (0 if run.param_offload else weights)
        + (0 if run.optimizer_offload else adam)
        + int(run.rollout_utilization * gpu_bytes)
    )
    teacher_share = int(run.teacher_utilization * gpu_bytes)
    teacher_need = (
        teacher.params * 2 // run.teacher_tp
        + run.teacher_batched_tokens * teacher.vocab * 4 * 2
        + run.teacher_max_model_len * teacher.kv_bytes_per_token(2) // run.teacher_tp
    )
    return {
        "actor training": training,
        "actor rollout": rollout,
        "teacher share": teacher_share,
        "teacher need": teacher_need,
        "peak": max(training, rollout, teacher_share),
    }


def verl_candidates(run: VerlRun, fixed: set[str]) -> list[tuple[str, VerlRun]]:
    """As configured, then smaller micro-batches (the same updates, accumulated over more passes), then FSDP
    offload of the optimizer states and of the weights between phases."""
    steps = [("as configured", {})]
    steps += [(f"micro-batches of {m}", {"micro_batch_size": m}) for m in (2, 1) if m < run.micro_batch_size]
    lean = {"micro_batch_size": min(1, run.micro_batch_size)}
    steps += [
        ("micro-batches of 1, FSDP optimizer states offloaded to the CPU", {**lean, "optimizer_offload": True}),
        (
            "micro-batches of 1, FSDP weights and optimizer states offloaded to the CPU",
            {**lean, "param_offload": True, "optimizer_offload": True},
        ),
    ]
    return _distinct(run, steps, fixed)


VERL_KEYS = {  # Hydra keys of the recipe -> VerlRun fields
    "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": "micro_batch_size",
    "actor_rollout_ref.actor.fsdp_config.param_offload": "param_offload",
    "actor_rollout_ref.actor.fsdp_config.optimizer_offload": "optimizer_offload",
    "actor_rollout_ref.rollout.gpu_memory_utilization": "rollout_utilization",
    "distillation.teacher_models.teacher_model.inference.gpu_memory_utilization": "teacher_utilization",
    "distillation.teacher_models.teacher_model.inference.tensor_model_parallel_size": "teacher_tp",
    "distillation.teacher_models.teacher_model.inference.max_num_batched_tokens": "teacher_batched_tokens",
    "distillation.teacher_models.teacher_model.inference.max_model_len": "teacher_max_model_len",
    "data.max_prompt_length": "max_prompt_length",
    "data.max_response_length": "max_response_length",
}
VERL_SETTINGS = {v: k for k, v in VERL_KEYS.items()}
# The recipe's defaults per size, where they differ from VerlRun's (EasyR1/configs/opcd_qwen3vl_<size>.yaml).
VERL_SIZE_DEFAULTS = {"8b": {"micro_batch_size": 2, "optimizer_offload": True}}


def _value(field: dataclasses.Field, text: str):
    try:
        if field.type in ("bool", bool):
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        return (float if field.type in ("float", float) else int)(text)
    except ValueError:
        raise PlanError(f"override '{field.name}={text}': not a {field.type}") from None


def apply(run, sets: list[str], names: dict[str, str] | None = None):
    """``run`` with the ``key=value`` settings that concern memory; returns it and the fields they fixed."""
    fields = {f.name: f for f in dataclasses.fields(run)}
    change = {}
    for item in sets:
        key, _, value = item.partition("=")
        key = key.lstrip("+")
        name = names.get(key) if names is not None else key
        if name in fields:
            change[name] = _value(fields[name], value)
    return dataclasses.replace(run, **change), set(change)


def gib(n: float) -> str:
    return f"{n / GIB:.1f}"


def base_run(
    trainer: str,
    sets: list[str],
    *,
    size: str = "",
    adapter_rank: int = 0,
    shared_teacher: bool = False,
    actor_gpus: int = 4,
    device: str = "cuda",
):
    """The run as configured (the recipe's values, then the user's ``sets``) and the fields the user fixed."""
    if trainer == "single":
        run = SingleRun(
            adapter_rank=adapter_rank, shared_teacher=shared_teacher, compute_bytes=2 if device == "cuda" else 4
        )
        return apply(run, sets)
    return apply(
        dataclasses.replace(VerlRun(actor_gpus=actor_gpus), **VERL_SIZE_DEFAULTS.get(size, {})), sets, VERL_KEYS
    )


def plan(
    trainer: str,
    student: Shape,
    teacher: Shape,
    gpu_gb: float,
    sets: list[str],
    *,
    size: str = "",
    adapter_rank: int = 0,
    shared_teacher: bool = False,
    actor_gpus: int = 4,
    device: str = "cuda",
):
    """The first candidate that fits ``gpu_gb`` GiB: (label, settings to pass, parts). Raises PlanError when none does."""
    gpu = gpu_gb * GIB
    overhead = CUDA_CONTEXT if device == "cuda" else 0
    base, fixed = base_run(
        trainer,
        sets,
        size=size,
        adapter_rank=adapter_rank,
        shared_teacher=shared_teacher,
        actor_gpus=actor_gpus,
        device=device,
    )
    if trainer == "single":
        options = [
            (label, run, single_parts(student, teacher, run))
            for label, run in single_candidates(base, fixed, adapter_rank > 0)
        ]
    else:
        options = [(label, run, verl_parts(student, teacher, run, gpu)) for label, run in verl_candidates(base, fixed)]
        for _, run, parts in options:
            if parts["teacher need"] > parts["teacher share"]:
                raise PlanError(
                    f"the teacher needs ~{gib(parts['teacher need'])} GiB (weights, prompt_logprobs of "
                    f"{run.teacher_batched_tokens} tokens, one {run.teacher_max_model_len}-token sequence) but vLLM gets "
                    f"{run.teacher_utilization} x {gpu_gb:g} GiB: raise its gpu_memory_utilization or tensor_model_parallel_size"
                )
    for label, run, parts in options:
        parts = {**parts, "peak": parts["peak"] + overhead}
        if parts["peak"] <= USABLE * gpu:
            return label, run, parts
    label, run, parts = options[-1]
    first = options[0][2]["peak"] + overhead
    if trainer == "single":
        if adapter_rank == 0:
            advice = "set STUDENT_ADAPTER to the perception LoRA adapter (its base as the teacher: one copy of the weights), "
        elif not shared_teacher:
            advice = "make the adapter's base the teacher (one copy of the weights), "
        else:
            advice = ""
        advice += "lower max_response_length, or use a larger GPU / TRAINER=verl on several"
    else:
        need = next(
            (
                k
                for k in range(actor_gpus + 1, 257)
                if verl_parts(student, teacher, dataclasses.replace(run, actor_gpus=k), gpu)["peak"] + overhead
                <= USABLE * gpu
            ),
            None,
        )
        advice = (
            f"use {need} or more actor GPUs in all (TRAINER_GPUS x NNODES)" if need else "use larger GPUs"
        ) + " or TRAINER=single"
    raise PlanError(
        f"estimated peak GPU memory per GPU: {gib(first)} GiB as configured, {gib(parts['peak'] + overhead)} "
        f"GiB at the leanest ({label}), of {gpu_gb:g} GiB: does not fit; {advice}"
    )


def settings_of(trainer: str, run, base) -> list[str]:
    """The ``key=value`` settings (the trainer's own names) where ``run`` differs from ``base``."""
    out = []
    for f in dataclasses.fields(run):
        value, default = getattr(run, f.name), getattr(base, f.name)
        if value == default or f.name in ("shared_teacher", "adapter_rank", "compute_bytes", "actor_gpus"):
            continue
        text = str(value).lower() if isinstance(value, bool) else str(value)
        out.append(f"{f.name}={text}" if trainer == "single" else f"{VERL_SETTINGS[f.name]}={text}")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainer", choices=("single", "verl"), required=True)
    parser.add_argument("--size", default="", help="4b or 8b: the public shape when the model folder is absent")
    parser.add_argument("--model-path", default="")
    parser.add_argument("--teacher-model-path", default="")
    parser.add_argument("--student-adapter", default="", help="perception LoRA adapter on --model-path")
    parser.add_argument("--gpu-memory-gb", type=float, required=True, help="memory of one GPU, GiB")
    parser.add_argument("--actor-gpus", type=int, default=4, help="verl: TRAINER_GPUS x NNODES")
    parser.add_argument(
        "--device",
        choices=("cuda", "cpu"),
        default="cuda",
        help="cpu: fp32 compute, no CUDA context (what the estimate-vs-RSS test measures)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="key=value",
        help="the run's own overrides (OPCD_OVERRIDES); they are kept in every plan",
    )
    parser.add_argument("--verbose", action="store_true", help="print the parts of the estimate")
    args = parser.parse_args(argv)
    try:
        student = read_shape(args.model_path, args.size)
        teacher = read_shape(args.teacher_model_path or args.model_path, args.size)
        adapter_rank = 0
        if args.student_adapter:
            cfg = Path(args.student_adapter) / "adapter_config.json"
            adapter_rank = int(json.loads(cfg.read_text()).get("r", 8)) if cfg.is_file() else 8
        shared = bool(args.student_adapter) and (
            not args.teacher_model_path or Path(args.teacher_model_path).resolve() == Path(args.model_path).resolve()
        )
        label, run, parts = plan(
            args.trainer,
            student,
            teacher,
            args.gpu_memory_gb,
            args.set,
            size=args.size,
            adapter_rank=adapter_rank,
            shared_teacher=shared,
            actor_gpus=args.actor_gpus,
            device=args.device,
        )
    except (PlanError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    base, _ = base_run(
        args.trainer,
        args.set,
        size=args.size,
        adapter_rank=adapter_rank,
        shared_teacher=shared,
        actor_gpus=args.actor_gpus,
        device=args.device,
    )
    print(f"estimated peak GPU memory per GPU: {gib(parts['peak'])} GiB of {args.gpu_memory_gb:g} ({label})")
    if args.verbose:
        print("  " + ", ".join(f"{k} {gib(v)}" for k, v in parts.items() if k != "peak") + " (GiB)")
    print("plan: " + " ".join(settings_of(args.trainer, run, base)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
