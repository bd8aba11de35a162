"""Prompt texts, kept as package data (``task_envs/prompts/<variant>_<task>.txt``).

One text per role and task, used identically in training and evaluation. Roles:
``student`` (brief reasoning, then one answer block; what OPCD trains), ``direct`` (the answer block
only; API baselines), ``perception`` (numbered questions about the image; perception SFT),
``symbolic`` (the student's instructions for a text-only state; the modality-gap baseline) and
``teacher`` (the OPCD teacher's system prompt; the teacher reads the symbolic state, never an image).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from .registry import normalise_task_name

PLAN_PROMPTS = ("student", "direct")
PROMPT_ROLES = PLAN_PROMPTS + ("perception", "symbolic", "teacher")


@lru_cache(maxsize=None)
def load_prompt(variant: str, task: str) -> str:
    """The prompt text for ``variant`` and ``task`` (no image placeholder; callers place the image)."""
    if variant not in PROMPT_ROLES:
        raise ValueError(f"unknown prompt {variant!r}; expected one of {', '.join(PROMPT_ROLES)}")
    name = f"{variant}_{normalise_task_name(task)}.txt"
    return resources.files("task_envs").joinpath("prompts", name).read_text(encoding="utf-8").strip()
