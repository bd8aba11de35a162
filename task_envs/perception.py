"""Perception targets: numbered questions about a task image, their exact answer text, and a per-field scorer.

The questions live in the perception prompts (``perception_<task>.txt``); the task lists what each numbered
question asks for (``Task.perception_questions``, :class:`~task_envs.questions.Question`) and computes the true
answers (``Task.perception_truth``); this module writes the target text the SFT stage trains on and scores a
model's reply field by field, by the kind of each answer. Directions are always words.
"""

from __future__ import annotations

import re

from .grid import MOVES, Pos, format_pos
from .prompts import load_prompt
from .questions import MOVE_SET, OPEN_DIRECTIONS, POSITION, POSITIONS, SET_KINDS, SIZE, Question
from .registry import get_task, task_names

# Question and the kinds are re-exported: callers read them from here
__all__ = ["Question", "format_perception", "perception_metrics", "perception_prompt", "perception_target"]
__all__ += ["perception_truth", "score_perception", "MOVE_SET", "OPEN_DIRECTIONS", "POSITION", "POSITIONS", "SIZE"]


def perception_metrics() -> tuple[str, ...]:
    """Every key ``score_perception`` can return for the registered tasks, headline first (for
    ``metrics.summarise``)."""
    keys = ["field_accuracy", "all_correct"]
    for name in task_names():
        for q in get_task(name).perception_questions:
            keys += [q.key] + ([f"{q.key}_f1"] if q.kind in SET_KINDS else [])
    return tuple(dict.fromkeys(keys))


def perception_prompt(task: str) -> str:
    """The perception question prompt for ``task`` (no image placeholder)."""
    return load_prompt("perception", task)


def perception_truth(task: str, instance) -> dict:
    """The true answer of every question, as structured values (tuples, frozensets, dicts)."""
    return get_task(task).perception_truth(instance)


def _format_value(kind: str, value) -> str:
    if kind == SIZE:
        return f"{value[0]}x{value[1]}"
    if kind == POSITION:
        return format_pos(value)
    if kind == POSITIONS:
        return ", ".join(format_pos(p) for p in sorted(value)) if value else "none"
    if kind == MOVE_SET:
        return ", ".join(m for m in MOVES if m in value) if value else "none"
    lines = [
        f"{format_pos(cell)}: " + (", ".join(m for m in MOVES if m in dirs) or "none")
        for cell, dirs in sorted(value.items())
    ]
    return "\n" + "\n".join(lines)


def format_perception(task: str, truth: dict) -> str:
    """Answer text for structured values: ``1. 4x4`` lines, question 4 of Maze spread over cell lines."""
    questions = get_task(task).perception_questions
    lines = []
    for q in questions:
        value = _format_value(q.kind, truth[q.key])
        lines.append(f"{q.number}.{value}" if value.startswith("\n") else f"{q.number}. {value}")
    return "\n".join(lines)


def perception_target(task: str, instance) -> str:
    """The exact answer text the perception SFT trains on."""
    return format_perception(task, perception_truth(task, instance))


# ---- scoring ---------------------------------------------------------------------------------
_SECTION = re.compile(r"^\s*(\d+)\s*[.):]", re.MULTILINE)
_PAIR = re.compile(r"\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_SIZE = re.compile(r"(\d+)\s*[x×X*]\s*(\d+)")
_NUMBER = re.compile(r"\d+")
_MOVE_WORD = re.compile(r"\b(up|down|left|right)\b", re.IGNORECASE)
_CELL_LINE = re.compile(r"\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*:?(.*)")


def _sections(text: str) -> dict[int, str]:
    """Numbered sections of a reply; the first occurrence of a number wins."""
    marks = list(_SECTION.finditer(text))
    out: dict[int, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        out.setdefault(int(m.group(1)), text[m.end() : end])
    return out


def _parse_value(kind: str, text: str):
    if kind == SIZE:
        m = _SIZE.search(text)
        if m:
            return (int(m.group(1)), int(m.group(2)))
        m = _NUMBER.search(text)
        return (int(m.group()), int(m.group())) if m else None
    if kind == POSITION:
        m = _PAIR.search(text)
        return (int(m.group(1)), int(m.group(2))) if m else None
    if kind == POSITIONS:
        return frozenset((int(a), int(b)) for a, b in _PAIR.findall(text))
    if kind == MOVE_SET:
        return frozenset(w.lower() for w in _MOVE_WORD.findall(text))
    cells: dict[Pos, frozenset[str]] = {}
    for line in text.splitlines():
        m = _CELL_LINE.search(line)
        if m:
            cells.setdefault(
                (int(m.group(1)), int(m.group(2))), frozenset(w.lower() for w in _MOVE_WORD.findall(m.group(3)))
            )
    return cells


def _items(kind: str, value) -> set:
    if kind == OPEN_DIRECTIONS:
        return {(cell, d) for cell, dirs in value.items() for d in dirs} | {(cell, None) for cell in value}
    return set(value)


def _f1(predicted: set, truth: set) -> float:
    if not predicted and not truth:
        return 1.0
    hits = len(predicted & truth)
    if not hits:
        return 0.0
    precision, recall = hits / len(predicted), hits / len(truth)
    return 2 * precision * recall / (precision + recall)


def score_perception(task: str, instance, response: str) -> dict:
    """Per-question exact match (``<key>``), set F1 where the answer is a set (``<key>_f1``),
    the fraction of questions right (``field_accuracy``) and ``all_correct``."""
    questions = get_task(task).perception_questions
    truth = perception_truth(task, instance)
    sections = _sections(response)
    scores: dict[str, float] = {}
    for q in questions:
        text = sections.get(q.number)
        value = _parse_value(q.kind, text) if text is not None else None
        scores[q.key] = int(value is not None and value == truth[q.key])
        if q.kind in SET_KINDS:
            scores[f"{q.key}_f1"] = (
                _f1(_items(q.kind, value), _items(q.kind, truth[q.key])) if value is not None else 0.0
            )
    exact = [scores[q.key] for q in questions]
    scores["field_accuracy"] = sum(exact) / len(exact)
    scores["all_correct"] = int(all(exact))
    return scores
