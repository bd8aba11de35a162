"""Every fact the symbolic state states (the OPCD teacher's context, the modality gap's symbolic side) is true:
read back from the text and checked against the simulator, for every task over many generated instances."""

import re

import pytest

from task_envs import get_task
from task_envs.base import FELL, ILLEGAL, SUCCESS
from task_envs.chat import teacher_context

SEEDS = range(40)
POS = re.compile(r"\((\d+), (\d+)\)")


def fields(text: str) -> dict[str, str]:
    return {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in text.splitlines() if ": " in line}


def positions(value: str) -> set[tuple[int, int]]:
    return {(int(r), int(c)) for r, c in POS.findall(value)}


def words(value: str) -> set[str]:
    return set() if value == "none" else {w.strip() for w in value.split(",")}


def cells(level):
    return [(r, c) for r in range(level) for c in range(level)]


def instances(task):
    t = get_task(task)
    return [(t, t.generate(level, seed)) for level in t.default_levels for seed in SEEDS]


def safe_by_play(t, inst) -> set[str]:
    """First actions whose one-action play neither breaks a rule nor falls."""
    return {a for a in t.actions if not (o := t.simulate(inst, [a])).illegal and not o.fell}


def entered(t, inst, state_of, level) -> dict[tuple[int, int], tuple[str, str | None]]:
    """(event, reason) of stepping into each cell from a walkable neighbour (moves only)."""
    out = {}
    for r, c in cells(level):
        for move, (dr, dc) in {"up": (1, 0), "down": (-1, 0), "left": (0, 1), "right": (0, -1)}.items():
            src = (r + dr, c + dc)
            if 0 <= src[0] < level and 0 <= src[1] < level:
                nxt, event, reason = t.step(inst, state_of(src), move)
                if event != ILLEGAL or reason not in ("off_grid", "wall"):
                    out.setdefault((r, c), (event, reason))
    return out


@pytest.mark.parametrize("t, inst", instances("frozenlake"))
def test_frozenlake_facts(t, inst):
    text = t.symbolic_state(inst)
    f = fields(text)
    n = inst.level
    assert positions(f["Start"]) == {t.initial_state(inst)}
    into = entered(t, inst, lambda p: p, n)
    assert positions(f["Goal"]) == {p for p, (e, _) in into.items() if e == SUCCESS}
    assert positions(f["Holes"]) == {p for p, (e, _) in into.items() if e == FELL}
    rows = text.split("F frozen ice):\n")[1].splitlines()[:n]
    holes, goal = positions(f["Holes"]), positions(f["Goal"])
    assert {(r, c) for r, c in cells(n) if rows[r][c] == "H"} == holes and {
        (r, c) for r, c in cells(n) if rows[r][c] == "G"
    } == goal
    safe = words(f["Safe first actions (legal, and not into a hole)"])
    assert safe == safe_by_play(t, inst) and not any(t.simulate(inst, [a]).fell for a in safe)
    assert t.symbolic_state(inst) in teacher_context("frozenlake", inst)


@pytest.mark.parametrize("t, inst", instances("maze"))
def test_maze_facts(t, inst):
    f = fields(t.symbolic_state(inst))
    assert positions(f["Start"]) == {t.initial_state(inst)}
    assert t.simulate(inst, t.optimal_plan(inst)).states[-1] in positions(f["Target"])
    for cell in cells(inst.level):
        stated = words(f[str(cell)])
        assert stated == {a for a in t.actions if t.step(inst, cell, a)[1] != ILLEGAL}, cell
    assert words(f["Safe first actions (legal, and not into a hole)"]) == safe_by_play(t, inst)


@pytest.mark.parametrize("t, inst", instances("minibehaviour"))
def test_minibehaviour_facts(t, inst):
    f = fields(t.symbolic_state(inst))
    n = inst.level
    start = t.initial_state(inst)
    assert positions(f["Agent"]) == {start[:2]}
    into = entered(t, inst, lambda p: (*p, False), n)
    assert positions(f["Printer"]) == {p for p, (_, reason) in into.items() if reason == "printer"}
    table = {p for p, (_, reason) in into.items() if reason == "table"}
    assert positions(f["Table cells"]) == table
    walkable = [p for p in cells(n) if p not in table]
    assert positions(f["Cells next to the printer (pick is legal there)"]) == {
        p for p in walkable if p not in positions(f["Printer"]) and t.step(inst, (*p, False), "pick")[1] != ILLEGAL
    }
    assert positions(f["Cells next to the table (drop is legal there while carrying)"]) == {
        p for p in walkable if t.step(inst, (*p, True), "drop")[1] == SUCCESS
    }
    assert f["Pick legal at the start"] == ("yes" if t.step(inst, start, "pick")[1] != ILLEGAL else "no")
    assert words(f["Safe first actions (legal, and not into a hole)"]) == safe_by_play(t, inst)
