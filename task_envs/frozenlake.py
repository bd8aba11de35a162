"""FrozenLake: walk from the start to the goal on a non-slippery frozen lake without falling into a hole.

Maps come from gymnasium's ``generate_random_map`` (each tile frozen with probability 0.9 by default);
start and goal are then placed at random on two non-hole cells at least two moves apart, since the
public benchmarks put them anywhere. A move off the grid is illegal and ends the episode; entering a
hole ends it as a fall; reaching the goal succeeds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gymnasium.envs.toy_text.frozen_lake import generate_random_map

from .base import FELL, ILLEGAL, MOVED, SUCCESS, Task, TaskError
from .grid import DELTAS, MOVES, Pos, format_pos
from .questions import MOVE_SET, POSITION, POSITIONS, SIZE, Question

TILES = "SFHG"
FROZEN_PROBABILITY = 0.9
MIN_START_GOAL_MOVES = 2
_PLACEMENT_TRIES = 512


@dataclass(frozen=True)
class FrozenLakeInstance:
    """A square map as rows of ``S`` (start), ``F`` (frozen), ``H`` (hole), ``G`` (goal)."""

    level: int
    rows: tuple[str, ...]
    seed: int | None = None

    @property
    def start(self) -> Pos:
        return _find(self.rows, "S")

    @property
    def goal(self) -> Pos:
        return _find(self.rows, "G")

    @property
    def holes(self) -> list[Pos]:
        return [(r, c) for r, row in enumerate(self.rows) for c, t in enumerate(row) if t == "H"]


def _find(rows: tuple[str, ...], tile: str) -> Pos:
    for r, row in enumerate(rows):
        c = row.find(tile)
        if c >= 0:
            return (r, c)
    raise TaskError(f"map has no {tile!r} tile")


def validate_rows(rows: object, level: int) -> tuple[str, ...]:
    """Check a map: ``level`` rows of ``level`` tiles over S/F/H/G, exactly one S and one G."""
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, str) for r in rows):
        raise TaskError("field 'state.map': expected a list of strings")
    rows = tuple(rows)
    if len(rows) != level or any(len(r) != level for r in rows):
        raise TaskError(f"field 'state.map': expected {level} rows of {level} tiles, got {[len(r) for r in rows]}")
    text = "".join(rows)
    bad = set(text) - set(TILES)
    if bad:
        raise TaskError(f"field 'state.map': unknown tiles {sorted(bad)} (expected S, F, H, G)")
    if text.count("S") != 1 or text.count("G") != 1:
        raise TaskError(
            f"field 'state.map': expected exactly one S and one G, got {text.count('S')} and {text.count('G')}"
        )
    return rows


class FrozenLake(Task):
    name = "frozenlake"
    title = "FrozenLake"
    actions = MOVES
    default_levels = (3, 4, 5, 6, 7, 8)
    min_level = 2
    max_level = 16
    perception_questions = (
        Question(1, "size", SIZE),
        Question(2, "player", POSITION),
        Question(3, "goal", POSITION),
        Question(4, "holes", POSITIONS),
        Question(5, "safe_moves", MOVE_SET),
    )
    upstream_compact = True
    upstream_prompt_names = ("Frozenlake", "FrozenLake")

    def __init__(self, frozen_probability: float = FROZEN_PROBABILITY):
        self.frozen_probability = frozen_probability

    # ---- generation --------------------------------------------------------------------------
    def generate(self, level: int, seed: int, difficulty: str | None = None) -> FrozenLakeInstance:
        """A solvable map for (level, seed); with ``difficulty``, redraw until the bucket matches."""
        self.check_level(level)
        rng = random.Random(seed)
        for _ in range(10_000):
            grid = [
                list(row)
                for row in generate_random_map(size=level, p=self.frozen_probability, seed=rng.getrandbits(32))
            ]
            grid[0][0] = grid[-1][-1] = "F"
            cells = [(r, c) for r in range(level) for c in range(level) if grid[r][c] != "H"]
            for _ in range(_PLACEMENT_TRIES):
                start, goal = rng.sample(cells, 2)
                grid[start[0]][start[1]], grid[goal[0]][goal[1]] = "S", "G"
                instance = FrozenLakeInstance(level, tuple("".join(row) for row in grid), seed)
                grid[start[0]][start[1]] = grid[goal[0]][goal[1]] = "F"
                dist = self.solution_length(instance)
                if dist is None or dist < MIN_START_GOAL_MOVES:
                    continue
                if difficulty is None or self.difficulty_of(level, dist) == difficulty:
                    return instance
        raise TaskError(f"frozenlake: no level-{level} map with difficulty {difficulty!r} found for seed {seed}")

    # ---- rules ---------------------------------------------------------------------------------
    def initial_state(self, instance: FrozenLakeInstance) -> Pos:
        return instance.start

    def step(self, instance: FrozenLakeInstance, state: Pos, action: str):
        dr, dc = DELTAS[action]
        r, c = state[0] + dr, state[1] + dc
        n = instance.level
        if not (0 <= r < n and 0 <= c < n):
            return state, ILLEGAL, "off_grid"
        tile = instance.rows[r][c]
        if tile == "H":
            return (r, c), FELL, "hole"
        if tile == "G":
            return (r, c), SUCCESS, None
        return (r, c), MOVED, None

    # ---- views -------------------------------------------------------------------------------
    def render(self, instance: FrozenLakeInstance):
        from .render.frozenlake import render_frozenlake

        return render_frozenlake(instance.rows)

    def perception_truth(self, instance: FrozenLakeInstance) -> dict:
        return {
            "size": (instance.level, instance.level),
            "player": instance.start,
            "goal": instance.goal,
            "holes": frozenset(instance.holes),
            "safe_moves": self.safe_moves(instance),
        }

    def symbolic_state(self, instance: FrozenLakeInstance) -> str:
        holes = instance.holes
        lines = [
            f"Grid: {instance.level} x {instance.level} tiles; positions are (row, column), 0-based from the top-left.",
            f"Start: {format_pos(instance.start)}",
            f"Goal: {format_pos(instance.goal)}",
            "Holes: " + (", ".join(format_pos(h) for h in holes) if holes else "none"),
            "Map (S start, G goal, H hole, F frozen ice):",
            *instance.rows,
            self.safe_first_line(instance),
        ]
        return "\n".join(lines)

    def key(self, instance: FrozenLakeInstance) -> str:
        return "/".join(instance.rows)

    def state_to_json(self, instance: FrozenLakeInstance) -> dict:
        return {"map": list(instance.rows)}

    def state_from_json(self, level: int, state: dict, seed: int | None) -> FrozenLakeInstance:
        return FrozenLakeInstance(level, validate_rows(state.get("map"), level), seed)
