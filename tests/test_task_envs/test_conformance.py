"""The built-in tasks pass the conformance kit, and the kit catches what it is for (a broken task fails it)."""

import pytest

from task_envs import TASKS, get_task
from task_envs.conformance import CHECKS, check_oracle_optimal, check_task
from task_envs.maze import Maze


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", TASKS)
def test_builtin_tasks_conform(name, check):
    task = get_task(name)
    check(task, levels=(min(task.default_levels), max(task.default_levels)))


class _LongWayMaze(Maze):
    """A maze whose planner adds a detour (there and back): its plans succeed but are not the shortest."""

    name = "longwaymaze"

    def optimal_plan(self, instance):
        plan = super().optimal_plan(instance)
        start = self.initial_state(instance)
        for a, back in (("up", "down"), ("down", "up"), ("left", "right"), ("right", "left")):
            if self.step(instance, start, a)[1] == "moved":
                return [a, back, *plan]
        return plan


def test_the_kit_catches_a_planner_that_is_not_optimal():
    with pytest.raises(AssertionError, match="breadth-first search finds"):
        check_oracle_optimal(_LongWayMaze(), levels=(4,), seeds=(0,))


class _CarelessMaze(Maze):
    """Maze's prompts under another name, but a perception answer off the grid and a render that changes."""

    name = "carelessmaze"
    calls = 0

    def prompt_source(self, role):
        return Maze().prompt_source(role)

    def perception_truth(self, instance):
        truth = super().perception_truth(instance)
        return {**truth, "goal": (truth["goal"][0] + instance.level, truth["goal"][1])}

    def render(self, instance):
        type(self).calls += 1
        image = super().render(instance)
        image.putpixel((0, 0), (self.calls % 256, 0, 0))
        return image


class _PromptlessMaze(Maze):
    name = "promptlessmaze"
    prompt_package = "json"  # a package with no prompts/ folder


def test_check_task_lists_each_failed_check_and_leaves_the_registry_as_it_was():
    failures = check_task(_CarelessMaze(), levels=(3,), seeds=(0,))
    assert [f.split(":", 1)[0] for f in failures] == ["check_determinism", "check_perception"], failures
    assert "render is not deterministic" in failures[0] and "goal" in failures[1] and "off the 3x3 grid" in failures[1]
    failures = check_task(_PromptlessMaze(), levels=(3,), seeds=(0,))
    assert [f.split(":", 1)[0] for f in failures] == ["check_perception", "check_prompts"], failures
    assert "json/prompts/student_promptlessmaze.txt: no student prompt" in failures[-1]
    for name in ("carelessmaze", "promptlessmaze"):
        with pytest.raises(ValueError, match=f"unknown task '{name}'"):
            get_task(name)


class _Sidestep(Maze):
    """Only left and right, plus a task-own action: the kit and the three readings handle a task without all moves."""

    name = "sidestep"
    actions = ("left", "right", "jump")

    def prompt_source(self, role):
        return Maze().prompt_source(role)

    def generate(self, level, seed, difficulty=None):
        from task_envs.maze import MazeInstance

        walls = tuple(
            tuple(15 & ~(4 if c else 0) & ~(8 if c < level - 1 else 0) for c in range(level)) for _ in range(level)
        )
        return MazeInstance(level, walls, (0, 0), (0, level - 1), seed)

    def step(self, instance, state, action):
        if action not in self.actions:
            raise KeyError(action)  # up and down are no actions here: nothing may ask for them
        if action == "jump":
            r, c = state
            if c + 2 >= instance.level:
                return state, "illegal", "off_grid"
            return ((r, c + 2), "success" if (r, c + 2) == instance.target else "moved", None)
        return super().step(instance, state, action)


def test_a_task_with_its_own_actions_and_not_every_move_conforms_and_scores_under_every_reading():
    task = _Sidestep()
    assert check_task(task, levels=(4, 5), seeds=(0,)) == []
    instance = task.generate(5, 0)
    assert task.optimal_plan(instance) == ["jump", "jump"]
    assert task.score(instance, "<answer>jump jump</answer>", scoring="upstream")["success"] == 1
    assert task.score(instance, "<answer>up</answer>", scoring="upstream")["parse"] == 0
