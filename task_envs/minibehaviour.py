"""MiniBehaviour: walk to the printer, pick it up, carry it next to the table and put it down.

The room is a square grid holding a 2x3 table, a printer and the agent. Table cells are never
walkable; the printer cell is walkable only once the printer is carried. ``pick`` is legal next to the
printer (4-adjacent) when not carrying; ``drop`` is legal next to any table cell while carrying, and
the first legal ``drop`` succeeds. These are VisualPlanning's rules.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .base import ILLEGAL, MOVED, SUCCESS, Task, TaskError
from .grid import DELTAS, MOVES, Pos, format_pos, neighbours, parse_pos
from .questions import MOVE_SET, POSITION, POSITIONS, SIZE, Question

TABLE_ROWS, TABLE_COLS = 2, 3
_CANDIDATES = 20_000

State = tuple[int, int, bool]  # row, col, carrying


@dataclass(frozen=True)
class MiniBehaviourInstance:
    level: int
    agent: Pos
    printer: Pos
    table: tuple[Pos, ...]  # the six cells of the 2x3 block, row-major
    seed: int | None = None

    @property
    def printer_side(self) -> list[Pos]:
        """Cells where ``pick`` is legal: 4-neighbours of the printer that are not table."""
        table = set(self.table)
        return [p for p in neighbours(self.printer, self.level) if p not in table]

    @property
    def table_side(self) -> list[Pos]:
        """Cells where ``drop`` is legal: 4-neighbours of the table that are not table (sorted)."""
        table = set(self.table)
        return sorted({p for t in self.table for p in neighbours(t, self.level) if p not in table})


def table_cells(top: int, left: int) -> tuple[Pos, ...]:
    return tuple((top + dr, left + dc) for dr in range(TABLE_ROWS) for dc in range(TABLE_COLS))


class MiniBehaviour(Task):
    name = "minibehaviour"
    title = "MiniBehaviour"
    actions = MOVES + ("pick", "drop")
    default_levels = (5, 6)
    min_level = 4
    max_level = 16
    balanced_difficulty = True
    perception_questions = (
        Question(1, "size", SIZE),
        Question(2, "agent", POSITION),
        Question(3, "printer", POSITION),
        Question(4, "table", POSITIONS),
        Question(5, "printer_side", POSITIONS),
        Question(6, "table_side", POSITIONS),
        Question(7, "legal_moves", MOVE_SET),
    )
    upstream_prompt_names = ("MiniBehaviour", "MiniBehaviour")

    def difficulty_of(self, level: int, plan_length: int) -> str:
        """Upstream's MiniBehaviour buckets (plan length counts pick and drop)."""
        if plan_length <= level - 1:
            return "easy"
        if plan_length <= level + 1:
            return "medium"
        return "hard"

    def generate(self, level: int, seed: int, difficulty: str | None = None) -> MiniBehaviourInstance:
        """A room for (level, seed); with ``difficulty``, the first of up to 20000 candidates in that bucket."""
        self.check_level(level)
        rng = random.Random(seed)
        cells = [(r, c) for r in range(level) for c in range(level)]
        for _ in range(_CANDIDATES):
            table = table_cells(rng.randrange(level - TABLE_ROWS + 1), rng.randrange(level - TABLE_COLS + 1))
            blocked = set(table)
            printer = rng.choice([p for p in cells if p not in blocked])
            blocked.add(printer)
            agent = rng.choice([p for p in cells if p not in blocked])
            instance = MiniBehaviourInstance(level, agent, printer, table, seed)
            if not instance.printer_side or not instance.table_side:
                continue
            length = self.solution_length(instance)
            if length is None:
                continue
            if difficulty is None or self.difficulty_of(level, length) == difficulty:
                return instance
        raise TaskError(
            f"minibehaviour: no level-{level} room with difficulty {difficulty!r} in {_CANDIDATES} candidates (seed {seed})"
        )

    def initial_state(self, instance: MiniBehaviourInstance) -> State:
        return (instance.agent[0], instance.agent[1], False)

    def step(self, instance: MiniBehaviourInstance, state: State, action: str):
        r, c, carrying = state
        if action == "pick":
            if carrying:
                return state, ILLEGAL, "already_carrying"
            pr, pc = instance.printer
            if abs(pr - r) + abs(pc - c) != 1:
                return state, ILLEGAL, "not_next_to_printer"
            return (r, c, True), MOVED, None
        if action == "drop":
            if not carrying:
                return state, ILLEGAL, "not_carrying"
            for tr, tc in instance.table:
                if abs(tr - r) + abs(tc - c) == 1:
                    return (r, c, False), SUCCESS, None
            return state, ILLEGAL, "not_next_to_table"
        dr, dc = DELTAS[action]
        nr, nc = r + dr, c + dc
        if not (0 <= nr < instance.level and 0 <= nc < instance.level):
            return state, ILLEGAL, "off_grid"
        if (nr, nc) in instance.table:
            return state, ILLEGAL, "table"
        if not carrying and (nr, nc) == instance.printer:
            return state, ILLEGAL, "printer"
        return (nr, nc, carrying), MOVED, None

    def render(self, instance: MiniBehaviourInstance):
        from .render.minibehaviour import render_minibehaviour

        return render_minibehaviour(instance.level, instance.agent, instance.printer, instance.table)

    def grid_rows(self, instance: MiniBehaviourInstance) -> list[str]:
        """The room as rows over ``A`` agent, ``P`` printer, ``T`` table, ``.`` floor."""
        grid = [["."] * instance.level for _ in range(instance.level)]
        for r, c in instance.table:
            grid[r][c] = "T"
        grid[instance.printer[0]][instance.printer[1]] = "P"
        grid[instance.agent[0]][instance.agent[1]] = "A"
        return ["".join(row) for row in grid]

    def perception_truth(self, instance: MiniBehaviourInstance) -> dict:
        return {
            "size": (instance.level, instance.level),
            "agent": instance.agent,
            "printer": instance.printer,
            "table": frozenset(instance.table),
            "printer_side": frozenset(instance.printer_side),
            "table_side": frozenset(instance.table_side),
            "legal_moves": self.safe_moves(instance),
        }

    def symbolic_state(self, instance: MiniBehaviourInstance) -> str:
        lines = [
            f"Grid: {instance.level} x {instance.level} cells; positions are (row, column), 0-based from the top-left.",
            f"Agent: {format_pos(instance.agent)}",
            f"Printer: {format_pos(instance.printer)}",
            "Table cells: " + ", ".join(format_pos(p) for p in instance.table),
            "Room (A agent, P printer, T table, . floor):",
            *self.grid_rows(instance),
            "Cells next to the printer (pick is legal there): "
            + ", ".join(format_pos(p) for p in instance.printer_side),
            "Cells next to the table (drop is legal there while carrying): "
            + ", ".join(format_pos(p) for p in instance.table_side),
            "Pick legal at the start: " + ("yes" if instance.agent in instance.printer_side else "no"),
            self.safe_first_line(instance),
        ]
        return "\n".join(lines)

    def key(self, instance: MiniBehaviourInstance) -> str:
        return f"{instance.agent}|{instance.printer}|{instance.table[0]}"

    def state_to_json(self, instance: MiniBehaviourInstance) -> dict:
        return {
            "agent": list(instance.agent),
            "printer": list(instance.printer),
            "table": [list(p) for p in instance.table],
        }

    def state_from_json(self, level: int, state: dict, seed: int | None) -> MiniBehaviourInstance:
        return self.instance_from_fields(
            level,
            state.get("agent"),
            state.get("printer"),
            state.get("table"),
            seed,
            ("state.agent", "state.printer", "state.table"),
        )

    def instance_from_fields(
        self, level, agent, printer, table, seed=None, names=("agent", "printer", "table")
    ) -> MiniBehaviourInstance:
        """Validate raw JSON fields (errors use ``names``) and build an instance."""
        agent_name, printer_name, table_name = names
        agent = parse_pos(agent, agent_name)
        printer = parse_pos(printer, printer_name)
        table = validate_table(table, level, table_name)
        for name, pos in ((agent_name, agent), (printer_name, printer)):
            if not (0 <= pos[0] < level and 0 <= pos[1] < level):
                raise TaskError(f"field '{name}': {list(pos)} is outside a {level}x{level} grid")
            if pos in table:
                raise TaskError(f"field '{name}': {list(pos)} is a table cell")
        if agent == printer:
            raise TaskError(f"fields '{agent_name}' and '{printer_name}' must differ")
        return MiniBehaviourInstance(level, agent, printer, table, seed)


def validate_table(value: object, level: int, field: str = "table") -> tuple[Pos, ...]:
    """Six cells forming one 2x3 block inside the grid, returned row-major."""
    if not isinstance(value, list) or len(value) != TABLE_ROWS * TABLE_COLS:
        raise TaskError(f"field '{field}': expected {TABLE_ROWS * TABLE_COLS} [row, col] cells, got {value!r}")
    cells = sorted(parse_pos(v, field) for v in value)
    top, left = cells[0]
    if tuple(cells) != table_cells(top, left) or top + TABLE_ROWS > level or left + TABLE_COLS > level:
        raise TaskError(
            f"field '{field}': cells {[list(p) for p in cells]} are not a 2x3 block inside a {level}x{level} grid"
        )
    return tuple(cells)
