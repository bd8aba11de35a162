"""OPCD's update rule, as pure tensor functions shared by both trainers' tests and the
single-process trainer.

Per response token t of a sampled response y:

- advantage ``A_t = log p_teacher(y_t) - log p_student_old(y_t)`` (reverse-KL reward, no baseline, no
  normalisation; verl's distillation ``k1`` estimator with ``use_policy_gradient``: ``-kl``);
- loss: PPO-clip with asymmetric ratios and dual clip, averaged over all response tokens of the batch
  (verl's ``vanilla`` policy loss with ``loss_agg_mode=token-mean``).
"""

from __future__ import annotations

import torch


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


def reverse_kl_advantages(student_logp: torch.Tensor, teacher_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``(log p_teacher - log p_student) * mask``, detached."""
    return ((teacher_logp - student_logp) * mask.to(student_logp.dtype)).detach()


def ppo_clip_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    clip_low: float = 0.2,
    clip_high: float = 0.3,
    clip_dual: float = 3.0,
) -> tuple[torch.Tensor, dict]:
    """Token-mean PPO-clip loss and its metrics (``pg_clipfrac``, ``ppo_kl``)."""
    log_ratio = (logp - old_logp).clamp(-20.0, 20.0)
    ratio = torch.exp(log_ratio)
    loss1 = -advantages * ratio
    loss2 = -advantages * ratio.clamp(1.0 - clip_low, 1.0 + clip_high)
    clipped = torch.maximum(loss1, loss2)
    # Dual clip bounds the loss of negative-advantage tokens whose ratio exploded.
    loss3 = -advantages * clip_dual
    dual = torch.minimum(loss3, clipped)
    per_token = torch.where(advantages < 0, dual, clipped)
    loss = masked_mean(per_token, mask)
    metrics = {
        "pg_clipfrac": masked_mean(torch.gt(loss2, loss1).float(), mask).item(),
        "ppo_kl": masked_mean(-log_ratio, mask).item(),
    }
    return loss, metrics


def token_logprobs(logits: torch.Tensor, targets: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """log p(targets) under ``logits / temperature`` (``logits[..., t, :]`` predicts ``targets[..., t]``)."""
    logp = torch.log_softmax(logits.float() / temperature, dim=-1)
    return logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
