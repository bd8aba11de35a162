"""Grid geometry shared by the three tasks: 0-based (row, col) from the top-left, moves, neighbours."""

from __future__ import annotations

from .errors import TaskError

Pos = tuple[int, int]

MOVES: tuple[str, ...] = ("up", "down", "left", "right")
DELTAS: dict[str, Pos] = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}


def neighbours(pos: Pos, size: int) -> list[Pos]:
    """4-neighbours of ``pos`` inside a ``size`` x ``size`` grid, in MOVES order."""
    r, c = pos
    out = []
    for dr, dc in DELTAS.values():
        nr, nc = r + dr, c + dc
        if 0 <= nr < size and 0 <= nc < size:
            out.append((nr, nc))
    return out


def format_pos(pos: Pos) -> str:
    return f"({pos[0]}, {pos[1]})"


def parse_pos(value: object, field: str) -> Pos:
    """A JSON ``[r, c]`` pair as a position tuple; raises TaskError naming ``field``."""
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise TaskError(f"field '{field}': expected [row, col] integers, got {value!r}")
    return (value[0], value[1])
