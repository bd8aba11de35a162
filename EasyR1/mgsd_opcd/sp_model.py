"""Model-side pieces of the single-process trainer: loading, rollouts and per-token log-probs.

Sequences are laid out as ``[left-padded prompt ; right-padded response]``; a response ends at its
first EOS (kept, as verl keeps it) or at the length limit.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from task_envs.chat import content_parts

from .algorithm import token_logprobs


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def pick_dtype(name: str, device: torch.device) -> torch.dtype:
    """The compute dtype."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return getattr(torch, name)


def pick_master_dtype(name: str, compute: torch.dtype) -> torch.dtype:
    """The dtype of the trainable weights: float32 master weights, or the compute dtype itself."""
    return torch.float32 if name == "float32" else compute


def mixed_precision(device: torch.device, compute: torch.dtype):
    """Autocast to a half-precision compute dtype (weights stay as they are); a no-op in float32."""
    return torch.autocast(device.type, dtype=compute, enabled=compute in (torch.bfloat16, torch.float16))


def load_processor(path: str, min_pixels: int, max_pixels: int):
    """The model's processor, left-padding, with the image pixel limits of training."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(path)
    processor.tokenizer.padding_side = "left"
    image_processor = getattr(processor, "image_processor", None)
    size = getattr(image_processor, "size", None)
    if isinstance(size, dict) and "shortest_edge" in size:
        image_processor.size = {"shortest_edge": min_pixels, "longest_edge": max_pixels}
    return processor


def load_model(path: str | Path, dtype: torch.dtype, device: torch.device, attn_implementation: str = "sdpa"):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForImageTextToText

    model = AutoModelForImageTextToText.from_pretrained(path, dtype=dtype, attn_implementation=attn_implementation)
    return model.to(device)


def eos_ids(model, tokenizer) -> set[int]:
    ids = model.generation_config.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return set(ids)


def student_inputs(processor, rows, device: torch.device):
    """Processor inputs (left-padded) for the student's chats with their images."""
    texts, images = [], []
    for row in rows:
        messages = [{"role": m["role"], "content": content_parts(m["content"])} for m in row.prompt]
        texts.append(processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
        images.extend(row.images())
    return processor(text=texts, images=images, return_tensors="pt", padding=True).to(device)


def prompt_length(processor, row) -> int:
    """Tokens of the student's prompt, image tokens included (what verl's overlong filter counts)."""
    return student_inputs(processor, [row], torch.device("cpu"))["input_ids"].shape[1]


VISION_TOKENS = ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>")


def vision_token_ids(tokenizer) -> list[int]:
    """Ids a response must never hold: a sampled image placeholder would desynchronise the image features
    from the placeholders when the response is scored."""
    vocab = tokenizer.get_vocab()
    return [vocab[t] for t in VISION_TOKENS if t in vocab]


@torch.no_grad()
def generate(
    model, processor, inputs, max_new_tokens: int, temperature: float, top_p: float, eos: set[int]
) -> list[list[int]]:
    """Sample one response per prompt; each ends at its first EOS (included) or at the limit."""
    out = model.generate(
        **inputs,
        max_new_tokens=max_new_tokens,
        do_sample=True,
        temperature=temperature,
        top_p=top_p,
        top_k=0,
        pad_token_id=processor.tokenizer.pad_token_id,
        suppress_tokens=vision_token_ids(processor.tokenizer),
    )
    responses = []
    for seq in out[:, inputs["input_ids"].shape[1] :].tolist():
        cut = next((i + 1 for i, t in enumerate(seq) if t in eos), len(seq))
        responses.append(seq[:cut])
    return responses


def pad_responses(responses: list[list[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(1, max(len(r) for r in responses))
    ids = torch.full((len(responses), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(responses), width), dtype=torch.long)
    for i, r in enumerate(responses):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids.to(device), mask.to(device)


def left_pad(prompts: list[list[int]], pad_id: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p, dtype=torch.long)
        mask[i, width - len(p) :] = 1
    return ids.to(device), mask.to(device)


def backbone_and_head(model):
    """The decoder (hidden states) and the output projection of a Qwen3-VL model, bare or wrapped by peft."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.model, base.lm_head


def chunked_token_logprobs(hidden: torch.Tensor, head, targets: torch.Tensor, chunk: int) -> torch.Tensor:
    """``token_logprobs(head(hidden), targets)`` over ``chunk`` positions at a time.

    The ``[B, R, vocab]`` logits (fp32 for the softmax, and again in the backward) are the largest
    activation of a long response: 4 sequences of 2,048 tokens over Qwen3's 151,936 ids hold 5 GB per
    copy. Chunked, only one chunk's logits exist at a time; under grad each chunk is recomputed in the
    backward instead of kept.
    """
    if chunk <= 0 or chunk >= targets.shape[1]:
        return token_logprobs(head(hidden), targets)
    from torch.utils.checkpoint import checkpoint

    def part(h, t):
        return token_logprobs(head(h), t)

    parts = []
    for start in range(0, targets.shape[1], chunk):
        h, t = hidden[:, start : start + chunk], targets[:, start : start + chunk]
        parts.append(checkpoint(part, h, t, use_reentrant=False) if torch.is_grad_enabled() else part(h, t))
    return torch.cat(parts, dim=1)


def response_logprobs(
    model,
    prompt_ids: torch.Tensor,
    prompt_mask: torch.Tensor,
    response_ids: torch.Tensor,
    response_mask: torch.Tensor,
    logprob_chunk: int = 0,
    **multimodal,
) -> torch.Tensor:
    """log p(response token t | prompt, response[:t]) for every response position, shape ``[B, R]``.

    Works for the student (image inputs in ``multimodal``) and the text-only teacher alike; the logits
    are formed ``logprob_chunk`` positions at a time (0: all at once).
    """
    input_ids = torch.cat([prompt_ids, response_ids], dim=1)
    attention_mask = torch.cat([prompt_mask, response_mask], dim=1)
    width = response_ids.shape[1]
    # Per-token side inputs of the prompt (e.g. mm_token_type_ids) extend over the response as text.
    multimodal = {
        k: torch.cat([v, v.new_zeros(response_ids.shape)], dim=1)
        if torch.is_tensor(v) and v.shape == prompt_ids.shape
        else v
        for k, v in multimodal.items()
    }
    backbone, head = backbone_and_head(model)
    hidden = backbone(input_ids=input_ids, attention_mask=attention_mask, use_cache=False, **multimodal)[0]
    return chunked_token_logprobs(hidden[:, -(width + 1) : -1], head, response_ids, logprob_chunk)


def multimodal_kwargs(inputs) -> dict:
    return {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}


def student_logprobs(
    model, processor, rows, responses, device: torch.device, logprob_chunk: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The student's log-probs of ``responses`` given its own prompts (image included), and the response mask."""
    inputs = student_inputs(processor, rows, device)
    resp, mask = pad_responses(responses, processor.tokenizer.pad_token_id, device)
    logp = response_logprobs(
        model, inputs["input_ids"], inputs["attention_mask"], resp, mask, logprob_chunk, **multimodal_kwargs(inputs)
    )
    return logp, mask


def teacher_logprobs(
    teacher, tokenizer, rows, responses, reference_plan: bool, device: torch.device, logprob_chunk: int = 0
) -> torch.Tensor:
    """The text teacher's log-probs of the student's ``responses`` after its own context (no image)."""
    from .teacher import teacher_messages_for, teacher_prompt_ids

    prompts = [teacher_prompt_ids(tokenizer, teacher_messages_for(row.extra_info, reference_plan)) for row in rows]
    ids, pmask = left_pad(prompts, tokenizer.pad_token_id, device)
    resp, rmask = pad_responses(responses, tokenizer.pad_token_id, device)
    return response_logprobs(teacher, ids, pmask, resp, rmask, logprob_chunk)
