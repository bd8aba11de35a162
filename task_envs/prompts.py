"""Prompt texts, kept as package data (``task_envs/prompts/<variant>_<task>.txt``).

One text per role and task, used identically in training and evaluation. Variants:
``student`` (brief reasoning, then one answer block; what OPCD trains) and ``direct`` (the answer
block only; API baselines).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from .registry import normalise_task_name

PROMPT_VARIANTS = ("student", "direct")


@lru_cache(maxsize=None)
def load_prompt(variant: str, task: str) -> str:
    """The prompt text for ``variant`` and ``task`` (no image placeholder; callers place the image)."""
    if variant not in PROMPT_VARIANTS:
        raise ValueError(f"unknown prompt variant {variant!r}; expected one of {', '.join(PROMPT_VARIANTS)}")
    name = f"{variant}_{normalise_task_name(task)}.txt"
    return resources.files("task_envs").joinpath("prompts", name).read_text(encoding="utf-8").strip()
