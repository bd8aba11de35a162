"""The one answer parser: turns a model response into a list of actions.

Canonical semantics (DESIGN.md):
- the plan is the content of the **last** complete ``<answer>...</answer>`` block (tags case-insensitive);
- no block is a format failure with no actions, unless ``lenient=True`` (API baselines, reported apart),
  in which case the text after the last unclosed ``<answer>`` (or the whole response) is read and
  unknown tokens are skipped;
- accepted tokens: move words, the letters U/D/L/R (alone or run together, e.g. ``RRDL``), arrows,
  and for MiniBehaviour ``pick``/``drop`` (also ``pick up``/``pickup``/``put down``...). Anything else in
  the block is an invalid token, and a block with an invalid token is not a plan (``parse`` = 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .grid import MOVES

_OPEN = re.compile(r"<answer>", re.IGNORECASE)
_CLOSE = re.compile(r"</answer>", re.IGNORECASE)

# Multi-word spellings are rewritten to one word before tokenising, so that the separator "-" or a
# space inside them does not split them into a move.
_PHRASES = re.compile(r"\b(pick|put)[\s_\-]+(up|down)\b", re.IGNORECASE)
_PHRASE_TO_WORD = {"pick": "pick", "put": "drop"}

# A token is a run of letters (or a single arrow); everything else (spaces, commas, dots, "->",
# brackets, quotes, numbering) separates tokens. Digits and other symbols are tokens too, so that
# they are reported as invalid rather than silently dropped.
_TOKEN = re.compile(r"[A-Za-z]+|[←↑→↓⬅⬆➡⬇]|[0-9]+|[^\sA-Za-z0-9,;.:|/\\()\[\]{}<>\"'`*+=\-]")

_WORDS = {
    "up": "up", "down": "down", "left": "left", "right": "right",
    "u": "up", "d": "down", "l": "left", "r": "right",
    "←": "left", "↑": "up", "→": "right", "↓": "down",
    "⬅": "left", "⬆": "up", "➡": "right", "⬇": "down",
    "pick": "pick", "pickup": "pick", "drop": "drop", "putdown": "drop",
}
# Pieces a run-together token may be split into ("RRDL", "UUPICKRDROP").
_PIECES = ("pick", "drop", "up", "down", "left", "right", "u", "d", "l", "r")
# Longest run-together token that is split into pieces; a longer run is one invalid token.
_MAX_RUN = 320

_TASK_ACTIONS = {
    "frozenlake": frozenset(MOVES),
    "maze": frozenset(MOVES),
    "minibehaviour": frozenset(MOVES) | {"pick", "drop"},
}


@dataclass(frozen=True)
class ParsedAnswer:
    """What the parser found: the actions, whether a block was present, and what it rejected."""

    actions: tuple[str, ...]
    has_block: bool
    answer_text: str | None
    invalid_tokens: tuple[str, ...] = field(default=())
    lenient: bool = False

    @property
    def ok(self) -> bool:
        """A clean plan: at least one action and no invalid token (the ``parse`` metric)."""
        return bool(self.actions) and not self.invalid_tokens


def extract_answer(text: str) -> str | None:
    """Content of the last complete ``<answer>...</answer>`` block, or None. Linear time."""
    last_close = None
    for m in _CLOSE.finditer(text):
        last_close = m
    if last_close is None:
        return None
    last_open = None
    for m in _OPEN.finditer(text, 0, last_close.start()):
        last_open = m
    if last_open is None:
        return None
    return text[last_open.end() : last_close.start()]


def _segment(token: str) -> list[str] | None:
    """Split a run-together token into known pieces (dynamic programme), or None."""
    n = len(token)
    back: list[int | None] = [None] * (n + 1)
    reach = [False] * (n + 1)
    reach[0] = True
    for i in range(n):
        if not reach[i]:
            continue
        for piece in _PIECES:
            j = i + len(piece)
            if j <= n and not reach[j] and token.startswith(piece, i):
                reach[j] = True
                back[j] = i
    if not reach[n]:
        return None
    pieces = []
    j = n
    while j > 0:
        i = back[j]
        assert i is not None
        pieces.append(token[i:j])
        j = i
    return pieces[::-1]


def _read_actions(body: str, allowed: frozenset[str]) -> tuple[list[str], list[str]]:
    body = _PHRASES.sub(lambda m: _PHRASE_TO_WORD[m.group(1).lower()], body)
    actions: list[str] = []
    invalid: list[str] = []
    for raw in _TOKEN.findall(body):
        token = raw.lower()
        word = _WORDS.get(token)
        if word is not None:
            pieces = [word]
        elif token.isalpha() and token.isascii() and len(token) <= _MAX_RUN:
            segmented = _segment(token)
            pieces = [_WORDS[p] for p in segmented] if segmented else []
        else:
            pieces = []
        if not pieces or any(p not in allowed for p in pieces):
            invalid.append(raw)
        else:
            actions.extend(pieces)
    return actions, invalid


def parse_answer(text: str, task: str, lenient: bool = False) -> ParsedAnswer:
    """Parse a response for ``task``; see the module docstring for the rules."""
    try:
        allowed = _TASK_ACTIONS[task]
    except KeyError:
        raise ValueError(f"unknown task {task!r}; expected one of {sorted(_TASK_ACTIONS)}") from None
    if not isinstance(text, str):
        raise TypeError(f"response must be a string, got {type(text).__name__}")
    body = extract_answer(text)
    if body is not None:
        actions, invalid = _read_actions(body, allowed)
        if lenient:
            invalid = []
        return ParsedAnswer(tuple(actions), True, body, tuple(invalid), lenient)
    if not lenient:
        return ParsedAnswer((), False, None, (), False)
    opens = list(_OPEN.finditer(text))
    tail = text[opens[-1].end() :] if opens else text
    actions, _ = _read_actions(tail, allowed)
    return ParsedAnswer(tuple(actions), False, tail, (), True)


def format_answer(actions: list[str] | tuple[str, ...]) -> str:
    """The canonical answer block for a plan: ``<answer>right, right, down</answer>``."""
    return "<answer>" + ", ".join(actions) + "</answer>"
