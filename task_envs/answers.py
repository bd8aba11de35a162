"""The one answer parser: turns a model response into a list of actions.

Canonical semantics (DESIGN.md):
- the plan is the content of the **last** complete ``<answer>...</answer>`` block (tags case-insensitive);
- no block is a format failure with no actions, unless ``lenient=True`` (API baselines, reported apart),
  in which case the text after the last unclosed ``<answer>`` (or the whole response) is read and
  unknown tokens are skipped;
- accepted tokens: the task's actions (``Task.actions``), by name or, for the moves and ``pick``/``drop``,
  as move words, the letters U/D/L/R (alone or run together, e.g. ``RRDL``), arrows, ``pick up``/``pickup``/
  ``put down``... Anything else in the block is an invalid token, and a block with an invalid token is not
  a plan (``parse`` = 0).

``scoring="upstream"`` is upstream MGSD's checkpoint evaluation, which produced the paper's numbers
(``evaluate/ckpt_eval/evaluate_visualplanning_ckpt.py``: ``extract_answer_text`` and ``parse_actions``),
quirks included; docs/scoring.md lists them. In short: the block is the one of the last *non-overlapping*
``<answer>``...first-following-``</answer>`` match, else the whole text; FrozenLake and Maze (tasks with
``upstream_compact``) first try the block with ``[whitespace , ; | / > -]`` removed as a run of ``LRUD0123``; otherwise every word-bounded
action-like token is an action (digits 0-3 as moves, ``PLACE``/``5`` as drop, ``pick up`` as pick then up,
no arrows) and the rest of the text is ignored; tokens that are no action of the task are invalid, but the
others are still played (only ``parse`` reports them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

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
    "up": "up",
    "down": "down",
    "left": "left",
    "right": "right",
    "u": "up",
    "d": "down",
    "l": "left",
    "r": "right",
    "←": "left",
    "↑": "up",
    "→": "right",
    "↓": "down",
    "⬅": "left",
    "⬆": "up",
    "➡": "right",
    "⬇": "down",
    "pick": "pick",
    "pickup": "pick",
    "drop": "drop",
    "putdown": "drop",
}
# Pieces a run-together token may be split into ("RRDL", "UUPICKRDROP").
_PIECES = ("pick", "drop", "up", "down", "left", "right", "u", "d", "l", "r")
# Longest run-together token that is split into pieces; a longer run is one invalid token.
_MAX_RUN = 320

# ---- upstream's reading (scoring="upstream") ----
# Word-bounded, case-insensitive action tokens, longest spellings first (upstream's LONG_ACTION_PATTERN).
_UPSTREAM_ALTERNATIVES = r"pick-up|pickup|pick|drop|place|grab|(?:left|right|up|down)(?:wards?)?|[lrud0-5]"
_UPSTREAM_TOKEN = re.compile(rf"\b(?:{_UPSTREAM_ALTERNATIVES})\b", re.IGNORECASE)
_UPSTREAM_COMPACT_SEPARATORS = re.compile(r"[\s,;|/>\-]+")
_UPSTREAM_COMPACT = re.compile(r"[LRUD0123]+")
_UPSTREAM_MOVES = {
    "L": "left",
    "R": "right",
    "U": "up",
    "D": "down",
    "0": "left",
    "1": "down",
    "2": "right",
    "3": "up",
    **{w + s: w.lower() for w in ("LEFT", "RIGHT", "UP", "DOWN") for s in ("", "WARD", "WARDS")},
}
# read as pick/drop where the task has those actions (MiniBehaviour); elsewhere invalid (a bare PUT never matches)
_UPSTREAM_HANDS = {
    "PICK-UP": "pick",
    "PICKUP": "pick",
    "PICK": "pick",
    "GRAB": "pick",
    "4": "pick",
    "DROP": "drop",
    "PLACE": "drop",
    "5": "drop",
}

SCORINGS = ("strict", "lenient", "upstream")


@dataclass(frozen=True)
class ParsedAnswer:
    """What the parser found: the actions, whether a block was present, and what it rejected."""

    actions: tuple[str, ...]
    has_block: bool
    answer_text: str | None
    invalid_tokens: tuple[str, ...] = field(default=())
    scoring: str = "strict"

    @property
    def ok(self) -> bool:
        """A clean plan: at least one action and no invalid token (the ``parse`` metric)."""
        return bool(self.actions) and not self.invalid_tokens

    @property
    def playable(self) -> bool:
        """Whether the actions are played: a clean plan, or (upstream's reading) any action at all."""
        return self.ok or (self.scoring == "upstream" and bool(self.actions))


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


def _segment(token: str, known: tuple[str, ...] = _PIECES) -> list[str] | None:
    """Split a run-together token into known pieces (dynamic programme), or None."""
    n = len(token)
    back: list[int | None] = [None] * (n + 1)
    reach = [False] * (n + 1)
    reach[0] = True
    for i in range(n):
        if not reach[i]:
            continue
        for piece in known:
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


@cache
def _vocabulary(actions: tuple[str, ...]) -> tuple[dict[str, str], tuple[str, ...]]:
    """(spelling -> action, pieces of a run-together token) for a task's actions: the shared spellings of the
    moves and pick/drop, and every other action by its own name."""
    own = _own_actions(actions)
    return {**_WORDS, **own}, tuple(sorted(own, key=len, reverse=True)) + _PIECES


def _own_actions(actions: tuple[str, ...]) -> dict[str, str]:
    """A task's actions that are not the shared spelling of themselves (none for the built-in tasks): each is read
    by its own name, also where that name is another action's short spelling (an action called ``u``)."""
    return {a.lower(): a for a in actions if _WORDS.get(a.lower()) != a}


@cache
def _upstream_tokens(actions: tuple[str, ...]) -> re.Pattern:
    """Upstream's token pattern, with a task's own action names first (our extension: upstream had none)."""
    own = sorted(_own_actions(actions), key=len, reverse=True)
    if not own:
        return _UPSTREAM_TOKEN
    return re.compile(rf"\b(?:{'|'.join(map(re.escape, own))}|{_UPSTREAM_ALTERNATIVES})\b", re.IGNORECASE)


def _read_actions(body: str, actions: tuple[str, ...]) -> tuple[list[str], list[str]]:
    words, run_pieces = _vocabulary(actions)
    allowed = set(actions)
    body = _PHRASES.sub(lambda m: _PHRASE_TO_WORD[m.group(1).lower()], body)
    found: list[str] = []
    invalid: list[str] = []
    for raw in _TOKEN.findall(body):
        token = raw.lower()
        word = words.get(token)
        if word is not None:
            pieces = [word]
        elif token.isalpha() and token.isascii() and len(token) <= _MAX_RUN:
            segmented = _segment(token, run_pieces)
            pieces = [words[p] for p in segmented] if segmented else []
        else:
            pieces = []
        if not pieces or any(p not in allowed for p in pieces):
            invalid.append(raw)
        else:
            found.extend(pieces)
    return found, invalid


def _upstream_block(text: str) -> str | None:
    """Upstream's ``findall(r"<answer>\\s*(.*?)\\s*</answer>")[-1]`` in linear time: matches do not overlap,
    each runs from an ``<answer>`` to the first ``</answer>`` after it; the last one's content, stripped."""
    found, pos = None, 0
    while (start := _OPEN.search(text, pos)) is not None:
        end = _CLOSE.search(text, start.end())
        if end is None:
            break
        found, pos = text[start.end() : end.start()], end.end()
    return None if found is None else found.strip()


def _upstream_actions(body: str, task) -> tuple[list[str], list[str]]:
    """Upstream's reading; a move or hand word the task has no action for is an invalid token."""
    known = tuple(task.actions)
    if task.upstream_compact:
        compact = _UPSTREAM_COMPACT_SEPARATORS.sub("", body).upper()
        if compact and _UPSTREAM_COMPACT.fullmatch(compact) and all(_UPSTREAM_MOVES[ch] in known for ch in compact):
            return [_UPSTREAM_MOVES[ch] for ch in compact], []
    own = _own_actions(known)
    actions, invalid = [], []
    for match in _upstream_tokens(known).finditer(body):
        raw = match.group(0)
        word = raw.upper()  # as upstream: a letter that matched case-insensitively may not upper-case back
        action = own.get(raw.lower()) or _UPSTREAM_MOVES.get(word) or _UPSTREAM_HANDS.get(word)
        if action in known:
            actions.append(action)
        else:
            invalid.append(raw)
    return actions, invalid


def parse_answer(text: str, task, lenient: bool = False, *, scoring: str | None = None) -> ParsedAnswer:
    """Parse a response for ``task`` (a registered name or a Task) under ``scoring`` (strict, lenient or
    upstream; ``lenient=True`` is ``scoring="lenient"``); see the module docstring for the rules."""
    scoring = scoring or ("lenient" if lenient else "strict")
    if scoring not in SCORINGS:
        raise ValueError(f"unknown scoring {scoring!r}; expected one of {', '.join(SCORINGS)}")
    if isinstance(task, str):
        from .registry import get_task  # the registry imports the tasks, which import this module

        task = get_task(task)
    actions = tuple(task.actions)
    if not isinstance(text, str):
        raise TypeError(f"response must be a string, got {type(text).__name__}")
    if scoring == "upstream":
        body = _upstream_block(text)
        found, invalid = _upstream_actions(text.strip() if body is None else body, task)
        return ParsedAnswer(tuple(found), body is not None, body, tuple(invalid), scoring)
    body = extract_answer(text)
    if body is not None:
        found, invalid = _read_actions(body, actions)
        if scoring == "lenient":
            invalid = []
        return ParsedAnswer(tuple(found), True, body, tuple(invalid), scoring)
    if scoring == "strict":
        return ParsedAnswer((), False, None, (), scoring)
    opens = list(_OPEN.finditer(text))
    tail = text[opens[-1].end() :] if opens else text
    found, _ = _read_actions(tail, actions)
    return ParsedAnswer(tuple(found), False, tail, (), scoring)


def format_answer(actions: list[str] | tuple[str, ...]) -> str:
    """The canonical answer block for a plan: ``<answer>right, right, down</answer>``."""
    return "<answer>" + ", ".join(actions) + "</answer>"
