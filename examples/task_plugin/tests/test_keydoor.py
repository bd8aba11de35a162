"""KeyDoor passes MGSD's conformance kit, and its own rules hold."""

import pytest
from mgsd_keydoor import KeyDoor, KeyDoorInstance

from task_envs.conformance import CHECKS

TASK = KeyDoor()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_conformance(check):
    check(TASK, levels=(3, 5, 8), seeds=range(4))


def test_the_door_is_locked_until_the_key_is_carried():
    # agent at (0, 0), door right of it at (0, 1), key below the agent at (1, 0)
    room = KeyDoorInstance(3, frozenset(), agent=(0, 0), key=(1, 0), door=(0, 1))
    assert TASK.simulate(room, ["right"]).reason == "locked"
    assert TASK.optimal_plan(room) == ["down", "up", "right"]  # ties go to the earlier action
    assert TASK.simulate(room, ["down", "up", "right"]).success


def test_walls_block_and_the_entry_point_finds_the_task():
    from task_envs import get_task

    room = KeyDoorInstance(3, frozenset({(0, 1)}), agent=(0, 0), key=(2, 2), door=(0, 2))
    assert TASK.simulate(room, ["right"]).reason == "wall"
    assert type(get_task("keydoor")) is KeyDoor
