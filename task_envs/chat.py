"""The chat turns each model sees, built in one place for training and evaluation alike.

- The **student** (and every evaluated model on the visual side) gets one user turn: the image
  placeholder first, then the task prompt. It never sees the symbolic state.
- The **teacher** (OPCD) gets a system turn (``teacher_<task>.txt``) and a user turn holding the
  symbolic state, optionally followed by a reference plan. It never sees an image.
- The **symbolic** side of the modality gap gets the student's instructions with the symbolic state
  in place of the image.
"""

from __future__ import annotations

from typing import Any

from .answers import format_answer
from .prompts import IMAGE, STATE, load_prompt
from .registry import get_task

IMAGE_TOKEN = IMAGE
REFERENCE_PLAN_LABEL = "Reference plan (one of the shortest):"


def student_user_content(task: str, variant: str = "student") -> str:
    """The student's user turn text: the prompt of ``variant`` with the image placeholder where it marks one,
    else before it."""
    text = load_prompt(variant, task)
    return text if IMAGE_TOKEN in text else IMAGE_TOKEN + text


def student_messages(task: str, variant: str = "student") -> list[dict]:
    return [{"role": "user", "content": student_user_content(task, variant)}]


def teacher_context(task: str, instance: Any, reference_plan: bool = True) -> str:
    """The teacher's user turn: the exact state as text (with its facts), then (by default) an optimal plan."""
    rules = get_task(task)
    lines = ["Exact state of the puzzle:", rules.symbolic_state(instance)]
    if reference_plan:
        lines += [f"{REFERENCE_PLAN_LABEL} {', '.join(rules.optimal_plan(instance))}"]
    lines += ["", "Solve the puzzle and finish with one answer block."]
    return "\n".join(lines)


def strip_reference_plan(context: str) -> str:
    """``context`` without its reference-plan line (the teacher's ``reference_plan`` switch at run time)."""
    return "\n".join(line for line in context.split("\n") if not line.startswith(REFERENCE_PLAN_LABEL))


def teacher_messages(task: str, instance: Any, reference_plan: bool = True) -> list[dict]:
    """System + user turns for the OPCD teacher (text only)."""
    return [
        {"role": "system", "content": load_prompt("teacher", task)},
        {"role": "user", "content": teacher_context(task, instance, reference_plan)},
    ]


def symbolic_messages(task: str, instance: Any) -> list[dict]:
    """The text-only planning query of the modality-gap evaluation."""
    rules = get_task(task)
    text, state = load_prompt("symbolic", task), rules.symbolic_state(instance)
    content = text.replace(STATE, state) if STATE in text else text + "\n\n" + state
    return [{"role": "user", "content": content}]


def reference_answer(task: str, instance: Any) -> str:
    """An optimal plan in answer-block form (the ground truth carried beside RL data)."""
    return format_answer(get_task(task).optimal_plan(instance))


def content_parts(text: str) -> list[dict]:
    """A message text with ``<image>`` placeholders as typed chat parts (Hugging Face processor style):
    ``[{"type": "image"}, {"type": "text", "text": ...}]``."""
    parts: list[dict] = []
    for i, chunk in enumerate(text.split(IMAGE_TOKEN)):
        if i:
            parts.append({"type": "image"})
        if chunk:
            parts.append({"type": "text", "text": chunk})
    return parts
