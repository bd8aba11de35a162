"""Generators: determinism, bounds, task invariants, difficulty buckets, planner optimality, records."""

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from task_envs import DIFFICULTIES, TASKS, TaskError, get_task
from task_envs.maze import WALL_BITS


@pytest.mark.parametrize("name", TASKS)
def test_instance_is_a_pure_function_of_level_and_seed(name):
    task = get_task(name)
    for level in task.default_levels:
        assert task.generate(level, 123) == task.generate(level, 123)
        assert task.key(task.generate(level, 123)) != task.key(task.generate(level, 124)) or level <= 3


@pytest.mark.parametrize("name", TASKS)
def test_every_level_in_bounds_and_every_difficulty_generates(name):
    task = get_task(name)
    for level in range(task.min_level, task.max_level + 1):
        for difficulty in DIFFICULTIES if task.balanced_difficulty else (None,):
            inst = task.generate(level, 5, difficulty)
            length = task.optimal_length(inst)
            if difficulty:
                assert task.difficulty_of(level, length) == difficulty
            assert task.render(inst).size == (256, 256)


@pytest.mark.parametrize("name", TASKS)
def test_out_of_bounds_levels_are_rejected(name):
    task = get_task(name)
    for bad in (task.min_level - 1, task.max_level + 1, "5", 5.0, True):
        with pytest.raises(TaskError, match="level"):
            task.generate(bad, 0)


def test_frozenlake_start_and_goal_at_least_two_moves_apart():
    task = get_task("frozenlake")
    for level in range(2, 9):
        for seed in range(30):
            inst = task.generate(level, seed)
            assert task.optimal_length(inst) >= 2
            assert "".join(inst.rows).count("S") == 1 and "".join(inst.rows).count("G") == 1


def test_maze_is_perfect():
    task = get_task("maze")
    for level in (3, 4, 5, 6, 9):
        for seed in range(10):
            inst = task.generate(level, seed)
            passages = sum(
                1 for row in inst.walls for m in row for b in (WALL_BITS["down"], WALL_BITS["right"]) if not m & b
            )
            assert passages == level * level - 1  # a spanning tree has n - 1 edges
            for r in range(level):
                assert inst.walls[r][0] & WALL_BITS["left"] and inst.walls[r][-1] & WALL_BITS["right"]
                assert inst.walls[0][r] & WALL_BITS["up"] and inst.walls[-1][r] & WALL_BITS["down"]
            assert inst.start != inst.target


def test_minibehaviour_layout_invariants():
    task = get_task("minibehaviour")
    for level in (5, 6):
        for seed in range(30):
            inst = task.generate(level, seed)
            rows = {r for r, _ in inst.table}
            cols = {c for _, c in inst.table}
            assert len(rows) == 2 and len(cols) == 3 and len(inst.table) == 6
            assert inst.printer not in inst.table and inst.agent not in inst.table and inst.agent != inst.printer
            assert inst.printer_side and inst.table_side


def brute_force_length(task, inst, max_len):
    """Shortest successful plan by trying every action sequence (independent of the BFS planner)."""
    for length in range(1, max_len + 1):
        for plan in itertools.product(task.actions, repeat=length):
            if task.simulate(inst, plan).success:
                return length
    return None


@pytest.mark.parametrize("name, level", [("frozenlake", 3), ("maze", 3), ("minibehaviour", 4)])
def test_planner_is_optimal_against_brute_force(name, level):
    task = get_task(name)
    for seed in range(6):
        inst = task.generate(level, seed, "easy" if task.balanced_difficulty else None)
        plan = task.optimal_plan(inst)
        assert task.simulate(inst, plan).success
        assert brute_force_length(task, inst, len(plan)) == len(plan)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(TASKS), seed=st.integers(0, 2**40), pick=st.integers(0, 10))
def test_record_round_trip_is_lossless_and_json_safe(name, seed, pick):
    task = get_task(name)
    level = task.default_levels[pick % len(task.default_levels)]
    inst = task.generate(level, seed)
    record = json.loads(json.dumps(task.to_record(inst)))
    back = task.from_record(record)
    assert back == inst
    assert task.to_record(back) == record
    assert task.optimal_plan(back) == task.optimal_plan(inst)


@pytest.mark.parametrize(
    "name, mutate, field",
    [
        ("frozenlake", lambda r: r["state"].update(map=["SFF", "FFF"]), "state.map"),
        ("frozenlake", lambda r: r["state"].update(map=["SFX", "FFF", "FFG"]), "state.map"),
        ("maze", lambda r: r["state"].update(start=[9, 9]), "start"),
        ("maze", lambda r: r["state"]["layout"][0].pop(), "layout"),
        ("minibehaviour", lambda r: r["state"].update(table=[[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [2, 2]]), "table"),
        ("minibehaviour", lambda r: r["state"].update(agent="north"), "agent"),
        ("maze", lambda r: r.update(task="frozenlake"), "task"),
    ],
)
def test_bad_records_name_the_field(name, mutate, field):
    task = get_task(name)
    record = task.to_record(task.generate(task.default_levels[0], 1))
    mutate(record)
    with pytest.raises(TaskError, match=field.replace(".", r"\.")):
        task.from_record(record)


def test_symbolic_state_holds_what_a_text_model_needs():
    fl, maze, mb = (get_task(n) for n in TASKS)
    lake = fl.generate(5, 2)
    text = fl.symbolic_state(lake)
    assert f"Start: ({lake.start[0]}, {lake.start[1]})" in text and all(row in text for row in lake.rows)
    m = maze.generate(4, 2)
    text = maze.symbolic_state(m)
    assert f"Target: ({m.target[0]}, {m.target[1]})" in text and text.count("\n(") == 16
    room = mb.generate(5, 2)
    text = mb.symbolic_state(room)
    assert f"Printer: ({room.printer[0]}, {room.printer[1]})" in text and "Table cells" in text


@pytest.mark.parametrize("name", TASKS)
def test_solution_length_agrees_with_the_planner(name):
    task = get_task(name)
    for level in task.default_levels:
        for seed in range(15):
            inst = task.generate(level, seed)
            fresh = task.from_record(task.to_record(inst))  # no cached graph
            assert task.solution_length(fresh) == len(task.optimal_plan(inst))
