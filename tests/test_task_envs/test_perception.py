"""Perception targets: the target text scores 100% against itself; any single-field corruption is caught."""

import re

import pytest

from task_envs import TASKS, get_task
from task_envs.frozenlake import FrozenLakeInstance
from task_envs.minibehaviour import MiniBehaviourInstance, table_cells
from task_envs.perception import (
    MOVE_SET,
    OPEN_DIRECTIONS,
    POSITION,
    POSITIONS,
    SIZE,
    format_perception,
    perception_prompt,
    perception_target,
    perception_truth,
    score_perception,
)


def instances(name, count=8):
    task = get_task(name)
    return [task.generate(level, seed) for level in task.default_levels for seed in range(count)]


@pytest.mark.parametrize("name", TASKS)
def test_prompt_numbers_match_the_question_kinds(name):
    numbers = [int(n) for n in re.findall(r"(?m)^(\d+)\. ", perception_prompt(name))]
    assert numbers == [q.number for q in get_task(name).perception_questions]


@pytest.mark.parametrize("name", TASKS)
def test_target_scores_perfectly_against_itself(name):
    for inst in instances(name):
        scores = score_perception(name, inst, perception_target(name, inst))
        assert scores["all_correct"] == 1 and scores["field_accuracy"] == 1.0
        assert all(v == 1 for k, v in scores.items())


def corrupt(kind, value, level):
    """One small, wrong change to a true value."""
    if kind == SIZE:
        return (value[0] + 1, value[1] + 1)
    if kind == POSITION:
        return (value[0], (value[1] + 1) % level)
    if kind == POSITIONS:
        extra = next((r, c) for r in range(level) for c in range(level) if (r, c) not in value)
        return value | {extra}
    if kind == MOVE_SET:
        missing = [m for m in ("up", "down", "left", "right") if m not in value]
        return value | {missing[0]} if missing else value - {"up"}
    cell = next(iter(sorted(value)))
    dirs = value[cell]
    changed = dirs - {next(iter(sorted(dirs)))} if dirs else dirs | {"up"}
    return {**value, cell: changed}


@pytest.mark.parametrize("name", TASKS)
def test_every_single_field_corruption_is_caught(name):
    for inst in instances(name, 3):
        truth = perception_truth(name, inst)
        for q in get_task(name).perception_questions:
            broken = dict(truth)
            broken[q.key] = corrupt(q.kind, truth[q.key], inst.level)
            scores = score_perception(name, inst, format_perception(name, broken))
            assert scores[q.key] == 0, (q.key, broken[q.key])
            assert scores["all_correct"] == 0
            others = [o.key for o in get_task(name).perception_questions if o.key != q.key]
            assert all(scores[k] == 1 for k in others)
            if q.kind in (POSITIONS, OPEN_DIRECTIONS, MOVE_SET):
                assert 0.0 <= scores[f"{q.key}_f1"] < 1.0


def test_target_text_uses_words_and_reads_naturally():
    lake = FrozenLakeInstance(3, ("SFF", "FHF", "FFG"))
    assert perception_target("frozenlake", lake) == "1. 3x3\n2. (0, 0)\n3. (2, 2)\n4. (1, 1)\n5. down, right"
    room = MiniBehaviourInstance(5, (0, 0), (1, 1), table_cells(3, 0))
    text = perception_target("minibehaviour", room)
    assert text.splitlines()[3] == "4. (3, 0), (3, 1), (3, 2), (4, 0), (4, 1), (4, 2)"
    assert text.splitlines()[4] == "5. (0, 1), (1, 0), (1, 2), (2, 1)"
    assert text.splitlines()[6] == "7. down, right"
