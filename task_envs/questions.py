"""Perception questions: what a numbered question about a task image asks for (its kind of answer).

A task lists its questions (``Task.perception_questions``) and computes their true answers
(``Task.perception_truth``); :mod:`task_envs.perception` writes and scores the answer text by kind.
"""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of answer: a grid size, one position, a set of positions, open directions per cell, a set of moves.
SIZE, POSITION, POSITIONS, OPEN_DIRECTIONS, MOVE_SET = "size", "position", "positions", "open_directions", "moves"
KINDS = (SIZE, POSITION, POSITIONS, OPEN_DIRECTIONS, MOVE_SET)
SET_KINDS = (POSITIONS, OPEN_DIRECTIONS, MOVE_SET)


@dataclass(frozen=True)
class Question:
    """Question ``number`` of a task's perception prompt; ``key`` names its answer in scores and truths.

    Values by kind: ``size`` a (rows, columns) pair; ``position`` a (row, column) pair; ``positions`` a frozenset
    of pairs; ``open_directions`` a dict from every cell to the frozenset of moves not blocked by a wall;
    ``moves`` the frozenset of moves that are safe from the start (legal and not ending the episode in failure).
    """

    number: int
    key: str
    kind: str

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(
                f"question {self.number} ({self.key}): unknown kind {self.kind!r}; expected one of {KINDS}"
            )
