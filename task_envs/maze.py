"""Maze: walk from the start to the target through a perfect maze (one path between any two cells).

Mazes are carved by a randomised depth-first search from a random cell; start and target are two
distinct cells drawn uniformly. A move through a wall (the border is walled) is illegal.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .base import ILLEGAL, MOVED, SUCCESS, Task, TaskError
from .grid import DELTAS, MOVES, Pos, format_pos, parse_pos
from .questions import MOVE_SET, OPEN_DIRECTIONS, POSITION, SIZE, Question

# Wall bits per cell, as upstream's text format: north 1, south 2, west 4, east 8.
WALL_BITS = {"up": 1, "down": 2, "left": 4, "right": 8}
OPPOSITE = {"up": "down", "down": "up", "left": "right", "right": "left"}
SIDE_NAMES = {"up": "north", "down": "south", "left": "west", "right": "east"}
ALL_WALLS = 15
_CANDIDATES = 4096


@dataclass(frozen=True)
class MazeInstance:
    """Wall masks per cell (row-major tuple of tuples), start and target."""

    level: int
    walls: tuple[tuple[int, ...], ...]
    start: Pos
    target: Pos
    seed: int | None = None

    def open_moves(self, pos: Pos) -> list[str]:
        mask = self.walls[pos[0]][pos[1]]
        return [m for m in MOVES if not mask & WALL_BITS[m]]


def carve(level: int, rng: random.Random) -> tuple[tuple[int, ...], ...]:
    """A perfect maze by randomised depth-first carving (recursive backtracker)."""
    walls = [[ALL_WALLS] * level for _ in range(level)]
    start = (rng.randrange(level), rng.randrange(level))
    visited = {start}
    stack = [start]
    while stack:
        r, c = stack[-1]
        options = []
        for move in MOVES:
            dr, dc = DELTAS[move]
            nr, nc = r + dr, c + dc
            if 0 <= nr < level and 0 <= nc < level and (nr, nc) not in visited:
                options.append((move, nr, nc))
        if not options:
            stack.pop()
            continue
        move, nr, nc = options[rng.randrange(len(options))]
        walls[r][c] &= ~WALL_BITS[move]
        walls[nr][nc] &= ~WALL_BITS[OPPOSITE[move]]
        visited.add((nr, nc))
        stack.append((nr, nc))
    return tuple(tuple(row) for row in walls)


class Maze(Task):
    name = "maze"
    title = "Maze"
    actions = MOVES
    default_levels = (3, 4, 5, 6)
    min_level = 2
    max_level = 16
    balanced_difficulty = True
    perception_questions = (
        Question(1, "size", SIZE),
        Question(2, "player", POSITION),
        Question(3, "goal", POSITION),
        Question(4, "open_directions", OPEN_DIRECTIONS),
        Question(5, "legal_moves", MOVE_SET),
    )
    upstream_compact = True
    upstream_prompt_names = ("Maze", "Maze")

    def generate(self, level: int, seed: int, difficulty: str | None = None) -> MazeInstance:
        """A maze for (level, seed); with ``difficulty``, the first of up to 4096 candidates in that bucket."""
        self.check_level(level)
        rng = random.Random(seed)
        cells = [(r, c) for r in range(level) for c in range(level)]
        for _ in range(_CANDIDATES):
            walls = carve(level, rng)
            start, target = rng.sample(cells, 2)
            instance = MazeInstance(level, walls, start, target, seed)
            if difficulty is None or self.difficulty_of(level, self.solution_length(instance)) == difficulty:
                return instance
        raise TaskError(
            f"maze: no level-{level} maze with difficulty {difficulty!r} in {_CANDIDATES} candidates (seed {seed})"
        )

    def initial_state(self, instance: MazeInstance) -> Pos:
        return instance.start

    def step(self, instance: MazeInstance, state: Pos, action: str):
        r, c = state
        if instance.walls[r][c] & WALL_BITS[action]:
            return state, ILLEGAL, "wall"
        dr, dc = DELTAS[action]
        nr, nc = r + dr, c + dc
        if not (0 <= nr < instance.level and 0 <= nc < instance.level):
            return state, ILLEGAL, "off_grid"
        if (nr, nc) == instance.target:
            return (nr, nc), SUCCESS, None
        return (nr, nc), MOVED, None

    def render(self, instance: MazeInstance):
        from .render.maze import render_maze

        return render_maze(instance.walls, instance.start, instance.target)

    def perception_truth(self, instance: MazeInstance) -> dict:
        cells = [(r, c) for r in range(instance.level) for c in range(instance.level)]
        return {
            "size": (instance.level, instance.level),
            "player": instance.start,
            "goal": instance.target,
            "open_directions": {cell: frozenset(instance.open_moves(cell)) for cell in cells},
            "legal_moves": self.safe_moves(instance),
        }

    def symbolic_state(self, instance: MazeInstance) -> str:
        lines = [
            f"Grid: {instance.level} x {instance.level} cells; positions are (row, column), 0-based from the top-left.",
            f"Start: {format_pos(instance.start)}",
            f"Target: {format_pos(instance.target)}",
            "Open directions from each cell (every other side is a wall):",
        ]
        for r in range(instance.level):
            for c in range(instance.level):
                moves = instance.open_moves((r, c))
                lines.append(f"{format_pos((r, c))}: {', '.join(moves) if moves else 'none'}")
        lines.append(self.safe_first_line(instance))
        return "\n".join(lines)

    def key(self, instance: MazeInstance) -> str:
        walls = ";".join(",".join(str(m) for m in row) for row in instance.walls)
        return f"{walls}|{instance.start}|{instance.target}"

    def state_to_json(self, instance: MazeInstance) -> dict:
        layout = [
            [{SIDE_NAMES[m]: bool(mask & WALL_BITS[m]) for m in ("up", "down", "right", "left")} for mask in row]
            for row in instance.walls
        ]
        return {"start": list(instance.start), "target": list(instance.target), "layout": layout}

    def state_from_json(self, level: int, state: dict, seed: int | None) -> MazeInstance:
        walls = walls_from_layout(state.get("layout"), level, "state.layout")
        return MazeInstance(level, walls, *_start_target(state, level), seed)


def walls_from_layout(layout: object, level: int, field: str = "layout") -> tuple[tuple[int, ...], ...]:
    """Wall masks from VisualPlanning's layout (rows of ``{"north","south","east","west": bool}``)."""
    if (
        not isinstance(layout, list)
        or len(layout) != level
        or any(not isinstance(r, list) or len(r) != level for r in layout)
    ):
        raise TaskError(f"field '{field}': expected {level} rows of {level} cells")
    walls = []
    for r, row in enumerate(layout):
        masks = []
        for c, cell in enumerate(row):
            if not isinstance(cell, dict) or any(not isinstance(cell.get(s), bool) for s in SIDE_NAMES.values()):
                raise TaskError(f"field '{field}[{r}][{c}]': expected booleans north/south/east/west, got {cell!r}")
            masks.append(sum(bit for m, bit in WALL_BITS.items() if cell[SIDE_NAMES[m]]))
        walls.append(tuple(masks))
    return tuple(walls)


def _start_target(state: dict, level: int) -> tuple[Pos, Pos]:
    start = parse_pos(state.get("start"), "state.start")
    target = parse_pos(state.get("target"), "state.target")
    for name, pos in (("start", start), ("target", target)):
        if not (0 <= pos[0] < level and 0 <= pos[1] < level):
            raise TaskError(f"field 'state.{name}': {list(pos)} is outside a {level}x{level} grid")
    if start == target:
        raise TaskError("fields 'state.start' and 'state.target' must differ")
    return start, target
