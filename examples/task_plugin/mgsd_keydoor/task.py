"""KeyDoor: walk to the key, then through the locked door.

The room is a square grid with a few walls, a key and a door. A move off the grid, into a wall, or into the door
while the key is not yet carried is illegal. Stepping on the key picks it up; entering the door with the key
succeeds. The state is (row, column, carrying the key), so shortest plans may pass a cell twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

from task_envs.base import ILLEGAL, MOVED, SUCCESS, Task, TaskError
from task_envs.grid import DELTAS, MOVES, Pos, format_pos, parse_pos
from task_envs.questions import MOVE_SET, POSITION, POSITIONS, SIZE, Question

WALL_PROBABILITY = 0.2
_CANDIDATES = 1000
_COLOURS = {"floor": (235, 235, 235), "line": (160, 160, 160), "wall": (60, 60, 60)}
_COLOURS |= {"key": (230, 180, 0), "door": (140, 80, 30), "agent": (30, 90, 220)}

State = tuple[int, int, bool]  # row, column, carrying the key


@dataclass(frozen=True)
class KeyDoorInstance:
    level: int
    walls: frozenset[Pos]
    agent: Pos
    key: Pos
    door: Pos
    seed: int | None = None


class KeyDoor(Task):
    name = "keydoor"
    title = "KeyDoor"
    actions = MOVES
    default_levels = (3, 4, 5)
    min_level = 3
    max_level = 10
    perception_questions = (
        Question(1, "size", SIZE),
        Question(2, "agent", POSITION),
        Question(3, "key", POSITION),
        Question(4, "door", POSITION),
        Question(5, "walls", POSITIONS),
        Question(6, "safe_moves", MOVE_SET),
    )

    def generate(self, level: int, seed: int, difficulty: str | None = None) -> KeyDoorInstance:
        """A solvable room for (level, seed): walls drawn per cell, then agent, key and door on free cells."""
        self.check_level(level)
        rng = random.Random(seed)
        cells = [(r, c) for r in range(level) for c in range(level)]
        for _ in range(_CANDIDATES):
            walls = frozenset(cell for cell in cells if rng.random() < WALL_PROBABILITY)
            free = [cell for cell in cells if cell not in walls]
            if len(free) < 3:
                continue
            agent, key, door = rng.sample(free, 3)
            instance = KeyDoorInstance(level, walls, agent, key, door, seed)
            length = self.solution_length(instance)
            if length is not None and (difficulty is None or self.difficulty_of(level, length) == difficulty):
                return instance
        raise TaskError(f"keydoor: no solvable level-{level} room in {_CANDIDATES} candidates (seed {seed})")

    def initial_state(self, instance: KeyDoorInstance) -> State:
        return (*instance.agent, False)

    def step(self, instance: KeyDoorInstance, state: State, action: str):
        r, c, carrying = state
        dr, dc = DELTAS[action]
        cell = (r + dr, c + dc)
        if not (0 <= cell[0] < instance.level and 0 <= cell[1] < instance.level):
            return state, ILLEGAL, "off_grid"
        if cell in instance.walls:
            return state, ILLEGAL, "wall"
        if cell == instance.door:
            return ((*cell, True), SUCCESS, None) if carrying else (state, ILLEGAL, "locked")
        return (*cell, carrying or cell == instance.key), MOVED, None

    def render(self, instance: KeyDoorInstance) -> Image.Image:
        size = self.image_size[0]
        image = Image.new("RGB", self.image_size, _COLOURS["floor"])
        draw = ImageDraw.Draw(image)
        step = size / instance.level

        def box(cell: Pos, inset: float = 0.0) -> list[float]:
            r, c = cell
            return [c * step + inset, r * step + inset, (c + 1) * step - inset - 1, (r + 1) * step - inset - 1]

        for cell in instance.walls:
            draw.rectangle(box(cell), fill=_COLOURS["wall"])
        draw.rectangle(box(instance.door, step * 0.12), fill=_COLOURS["door"])
        draw.polygon(_diamond(box(instance.key, step * 0.25)), fill=_COLOURS["key"])
        draw.ellipse(box(instance.agent, step * 0.2), fill=_COLOURS["agent"])
        for i in range(1, instance.level):
            draw.line([(i * step, 0), (i * step, size)], fill=_COLOURS["line"], width=2)
            draw.line([(0, i * step), (size, i * step)], fill=_COLOURS["line"], width=2)
        return image

    def symbolic_state(self, instance: KeyDoorInstance) -> str:
        walls = ", ".join(format_pos(w) for w in sorted(instance.walls)) or "none"
        return "\n".join(
            [
                f"Grid: {instance.level} x {instance.level} cells; positions are (row, column), 0-based from the top-left.",
                f"Agent: {format_pos(instance.agent)}",
                f"Key: {format_pos(instance.key)}",
                f"Door (locked until the key is carried): {format_pos(instance.door)}",
                f"Walls: {walls}",
                self.safe_first_line(instance),
            ]
        )

    def perception_truth(self, instance: KeyDoorInstance) -> dict:
        return {
            "size": (instance.level, instance.level),
            "agent": instance.agent,
            "key": instance.key,
            "door": instance.door,
            "walls": instance.walls,
            "safe_moves": self.safe_moves(instance),
        }

    def key(self, instance: KeyDoorInstance) -> str:
        return f"{sorted(instance.walls)}|{instance.agent}|{instance.key}|{instance.door}"

    def state_to_json(self, instance: KeyDoorInstance) -> dict:
        return {
            "agent": list(instance.agent),
            "key": list(instance.key),
            "door": list(instance.door),
            "walls": [list(w) for w in sorted(instance.walls)],
        }

    def state_from_json(self, level: int, state: dict, seed: int | None) -> KeyDoorInstance:
        places = {name: parse_pos(state.get(name), f"state.{name}") for name in ("agent", "key", "door")}
        walls = state.get("walls")
        if not isinstance(walls, list):
            raise TaskError("field 'state.walls': expected a list of [row, column]")
        wall_cells = frozenset(parse_pos(w, f"state.walls[{i}]") for i, w in enumerate(walls))
        for name, cell in [*places.items(), *(("walls", w) for w in wall_cells)]:
            if not (0 <= cell[0] < level and 0 <= cell[1] < level):
                raise TaskError(f"field 'state.{name}': {list(cell)} is outside a {level}x{level} grid")
        if len(set(places.values())) < 3 or set(places.values()) & wall_cells:
            raise TaskError("fields 'state.agent', 'state.key', 'state.door' must be three free cells")
        return KeyDoorInstance(level, wall_cells, places["agent"], places["key"], places["door"], seed)


def _diamond(box: list[float]) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = box
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    return [(mx, y0), (x1, my), (mx, y1), (x0, my)]
