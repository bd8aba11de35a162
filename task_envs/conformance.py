"""The conformance kit: what every task must satisfy for the stages to use it. A task package runs it in its tests::

    import pytest
    from task_envs.conformance import CHECKS

    @pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
    def test_conformance(check):
        check(MyTask())

Each check takes the task (and optionally ``levels`` and ``seeds``: default the task's default levels, seeds 0-2)
and raises ``AssertionError`` with a message naming the task, level, seed and what is wrong. :func:`check_task`
runs them all and returns the failures. A task that is not registered (not installed) is registered for the
duration of a check, so that the name-based stages (prompts, perception) find it.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from PIL import Image

from .answers import format_answer, parse_answer
from .base import ILLEGAL, MOVED, SUCCESS, Task, TaskError
from .grid import MOVES
from .questions import MOVE_SET, OPEN_DIRECTIONS, POSITION, POSITIONS, SIZE
from .registry import get_task, register_task, unregister_task

SEEDS = (0, 1, 2)
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ACTION = re.compile(r"[a-z]+")  # the parser's tokens are runs of letters
_TITLE = re.compile(r"[A-Za-z0-9_]+")


@contextmanager
def _registered(task: Task) -> Iterator[None]:
    try:
        known = get_task(task.name)
    except TaskError:
        known = None
    if known is not None:
        assert type(known) is type(task), (
            f"{task.name}: another task ({type(known).__module__}.{type(known).__name__}) is registered under the name"
        )
        yield
        return
    register_task(task, source="conformance kit")
    try:
        yield
    finally:
        unregister_task(task.name)


def _cases(task: Task, levels: Iterable[int] | None, seeds: Iterable[int]) -> Iterator[tuple[str, Any]]:
    for level in levels or task.default_levels:
        for seed in seeds:
            yield f"{task.name} level {level} seed {seed}", task.generate(level, seed)


def check_attributes(task: Task, levels=None, seeds=SEEDS) -> None:
    """Name, actions, level bounds, image size and perception questions are well formed."""
    assert isinstance(task.name, str) and _NAME.fullmatch(task.name), f"name {task.name!r}: lower-case identifier"
    actions = tuple(task.actions)
    assert actions and len(set(actions)) == len(actions), f"{task.name}: actions {actions} must be distinct, non-empty"
    assert all(isinstance(a, str) and _ACTION.fullmatch(a) for a in actions), (
        f"{task.name}: actions {actions} must be lower-case letters only (the answer parser reads runs of letters)"
    )
    title = task.title or task.name
    assert _TITLE.fullmatch(title) and title != "All", (
        f"{task.name}: title {title!r} must be letters, digits or '_', and not 'All' (VLMEvalKit's MGSD_<title>)"
    )
    assert task.min_level <= task.max_level, f"{task.name}: min_level {task.min_level} > max_level {task.max_level}"
    assert task.default_levels, f"{task.name}: no default_levels"
    assert all(task.min_level <= lv <= task.max_level for lv in task.default_levels), (
        f"{task.name}: default_levels {task.default_levels} outside [{task.min_level}, {task.max_level}]"
    )
    width, height = task.image_size
    assert width > 0 and height > 0, f"{task.name}: image_size {task.image_size}"
    questions = task.perception_questions
    assert questions, f"{task.name}: no perception_questions"
    assert [q.number for q in questions] == list(range(1, len(questions) + 1)), (
        f"{task.name}: perception questions must be numbered 1..{len(questions)}, got {[q.number for q in questions]}"
    )
    assert len({q.key for q in questions}) == len(questions), f"{task.name}: perception question keys repeat"


def check_determinism(task: Task, levels=None, seeds=SEEDS) -> None:
    """The same (level, seed) gives the same instance, record, symbolic state and image."""
    for where, instance in _cases(task, levels, seeds):
        again = task.generate(instance.level, instance.seed)
        assert task.key(again) == task.key(instance), f"{where}: generate is not deterministic (key differs)"
        assert task.to_record(again) == task.to_record(instance), f"{where}: generate is not deterministic (record)"
        assert task.symbolic_state(again) == task.symbolic_state(instance), f"{where}: symbolic_state differs"
        assert task.render(again).tobytes() == task.render(instance).tobytes(), f"{where}: render is not deterministic"


def check_record_round_trip(task: Task, levels=None, seeds=SEEDS) -> None:
    """``to_record`` is JSON, and ``from_record`` gives back the same instance; a record of another task is refused."""
    for where, instance in _cases(task, levels, seeds):
        record = json.loads(json.dumps(task.to_record(instance)))
        assert record.get("task") == task.name and record.get("level") == instance.level, f"{where}: record {record}"
        back = task.from_record(record)
        assert task.key(back) == task.key(instance), f"{where}: from_record(to_record(x)) is another instance"
        assert task.to_record(back) == record, f"{where}: the record does not round-trip"
        try:
            task.from_record({**record, "task": task.name + "_other"})
        except TaskError:
            pass
        else:
            raise AssertionError(f"{where}: from_record accepted a record of another task")


def _shortest_path(task: Task, instance: Any, limit: int = 1_000_000) -> list[str] | None:
    """A shortest successful action sequence by breadth-first search over ``step`` with parent links (written
    apart from the task's own planner, to check it)."""
    start = task.initial_state(instance)
    parent: dict[Any, tuple[Any, str] | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        for action in task.actions:
            nxt, event, _ = task.step(instance, state, action)
            if event == SUCCESS:
                path = [action]
                while parent[state] is not None:
                    state, taken = parent[state]
                    path.append(taken)
                return path[::-1]
            if event == MOVED and nxt not in parent:
                parent[nxt] = (state, action)
                assert len(parent) <= limit, f"{task.name}: more than {limit} reachable states"
                queue.append(nxt)
    return None


def check_oracle_optimal(task: Task, levels=None, seeds=SEEDS) -> None:
    """The oracle's plan succeeds, is as short as a breadth-first search finds, and scores success = optimal = 1."""
    with _registered(task):
        for where, instance in _cases(task, levels, seeds):
            shortest = _shortest_path(task, instance)
            assert shortest is not None, f"{where}: generate returned an instance with no successful plan"
            plan = task.optimal_plan(instance)
            assert task.simulate(instance, shortest).success, f"{where}: the searched plan {shortest} fails"
            assert task.simulate(instance, plan).success, f"{where}: the oracle's plan {plan} does not succeed"
            assert len(plan) == len(shortest) == task.optimal_length(instance), (
                f"{where}: oracle plan of {len(plan)} actions, breadth-first search finds {len(shortest)}"
            )
            scores = task.score(instance, task.oracle_response(instance))
            assert scores["success"] == scores["optimal"] == scores["parse"] == 1, f"{where}: oracle scores {scores}"
            assert task.progress(instance, plan) == 1.0, f"{where}: progress of the oracle plan is not 1"


def check_images(task: Task, levels=None, seeds=SEEDS) -> None:
    """Every image is an RGB PIL image of ``image_size``."""
    for where, instance in _cases(task, levels, seeds):
        image = task.render(instance)
        assert isinstance(image, Image.Image), f"{where}: render returned {type(image).__name__}, not a PIL image"
        assert image.mode == "RGB", f"{where}: image mode {image.mode}, expected RGB"
        assert image.size == tuple(task.image_size), f"{where}: image size {image.size}, expected {task.image_size}"


def _positions(kind: str, value) -> list:
    """The grid cells an answer names (a position, a set of them, or the cells of open directions)."""
    if kind == POSITION:
        return [value]
    return list(value) if kind in (POSITIONS, OPEN_DIRECTIONS) else []


def check_perception(task: Task, levels=None, seeds=SEEDS) -> None:
    """Perception answers agree with the state: every question answered, positions on the grid, move sets equal to
    the moves the rules allow from the start, open directions equal to the moves that are not blocked, and the
    target text scores 100% against itself; the prompt asks the task's numbered questions."""
    from .perception import perception_prompt, perception_target, score_perception

    with _registered(task):
        numbers = [int(m) for m in re.findall(r"^\s*(\d+)[.)]", perception_prompt(task.name), re.MULTILINE)]
        expected = [q.number for q in task.perception_questions]
        assert numbers == expected, f"{task.name}: perception prompt numbers its questions {numbers}, not {expected}"
        for where, instance in _cases(task, levels, seeds):
            truth = task.perception_truth(instance)
            keys = [q.key for q in task.perception_questions]
            assert sorted(truth) == sorted(keys), f"{where}: perception_truth keys {sorted(truth)}, questions {keys}"
            start = task.initial_state(instance)
            moves = [m for m in MOVES if m in task.actions]
            safe = Task.safe_moves(task, instance)  # the shared definition, whatever the task overrides
            size = next((truth[q.key] for q in task.perception_questions if q.kind == SIZE), None)
            rows, cols = size or (instance.level, instance.level)
            for q in task.perception_questions:
                value = truth[q.key]
                for r, c in _positions(q.kind, value):
                    assert 0 <= r < rows and 0 <= c < cols, f"{where}: {q.key} {(r, c)} is off the {rows}x{cols} grid"
                if q.kind == MOVE_SET:
                    assert set(value) == safe, f"{where}: {q.key} = {sorted(value)}, the rules allow {sorted(safe)}"
                if q.kind == OPEN_DIRECTIONS:
                    assert len(value) == rows * cols, f"{where}: {q.key} covers {len(value)} of {rows * cols} cells"
                    assert all(set(d) <= set(MOVES) for d in value.values()), f"{where}: {q.key} holds non-moves"
                    if start in value:
                        legal = {m for m in moves if task.step(instance, start, m)[1] != ILLEGAL}
                        assert set(value[start]) == legal, (
                            f"{where}: {q.key} at the start {value[start]}, legal {legal}"
                        )
            scores = score_perception(task.name, instance, perception_target(task.name, instance))
            assert scores["all_correct"] == 1, f"{where}: the perception target does not score as correct: {scores}"


def check_parser_and_simulator(task: Task, levels=None, seeds=SEEDS) -> None:
    """The parser reads every action by name and the canonical answer block back; no block, an unknown word or an
    unknown action is never a success; ``step`` is pure and ``simulate`` stops at the end of an episode."""
    with _registered(task):
        for action in task.actions:
            parsed = parse_answer(f"<answer>{action}</answer>", task.name)
            assert parsed.actions == (action,) and parsed.ok, f"{task.name}: action {action!r} parses as {parsed}"
        for where, instance in _cases(task, levels, seeds):
            plan = task.optimal_plan(instance)
            assert parse_answer(format_answer(plan), task.name).actions == tuple(plan), f"{where}: answer round trip"
            text = "I think " + ", ".join(plan)
            assert task.score(instance, text)["success"] == 0, f"{where}: a reply with no answer block succeeded"
            bad = task.score(instance, format_answer([*plan[:1], "xyzzy", *plan[1:]]))
            assert bad["parse"] == 0 and bad["success"] == 0, f"{where}: an unknown word in the block: {bad}"
            try:
                task.simulate(instance, ["xyzzy"])
            except TaskError:
                pass
            else:
                raise AssertionError(f"{where}: simulate accepted an unknown action")
            start = task.initial_state(instance)
            hash(start)  # states key the planner's graph: an unhashable one raises TypeError here
            for action in task.actions:
                first, second = task.step(instance, start, action), task.step(instance, start, action)
                assert first == second, f"{where}: step({action!r}) is not pure: {first} then {second}"
            outcome = task.simulate(instance, [*plan, *plan])
            assert outcome.success and outcome.steps == len(plan), f"{where}: simulate goes on after success"
            for scoring in ("strict", "lenient", "upstream"):
                assert task.score(instance, task.oracle_response(instance), scoring=scoring)["success"] == 1, (
                    f"{where}: the oracle's answer fails under {scoring} scoring"
                )


def check_prompts(task: Task, levels=None, seeds=SEEDS) -> None:
    """A valid prompt for every role, a symbolic state for every instance, and the teacher's messages."""
    from .chat import symbolic_messages, teacher_messages
    from .prompts import PROMPT_ROLES, load_prompt

    with _registered(task):
        for role in PROMPT_ROLES:
            load_prompt(role, task.name)  # raises TaskError naming the missing or invalid file
        for where, instance in _cases(task, levels, seeds):
            state = task.symbolic_state(instance)
            assert isinstance(state, str) and state.strip(), f"{where}: empty symbolic state"
            assert all(m["content"] for m in teacher_messages(task.name, instance)), f"{where}: empty teacher turn"
            assert state in symbolic_messages(task.name, instance)[0]["content"], f"{where}: symbolic query"


CHECKS: tuple[Callable[..., None], ...] = (
    check_attributes,
    check_determinism,
    check_record_round_trip,
    check_oracle_optimal,
    check_images,
    check_perception,
    check_parser_and_simulator,
    check_prompts,
)


def check_task(task: Task, levels: Iterable[int] | None = None, seeds: Iterable[int] = SEEDS) -> list[str]:
    """Run every check; returns one line per failed check (empty: the task conforms)."""
    failures = []
    for check in CHECKS:
        try:
            check(task, levels, tuple(seeds))
        except Exception as exc:  # noqa: BLE001 - a check that crashes is a failed check, reported with the rest
            failures.append(f"{check.__name__}: {type(exc).__name__}: {exc}")
    return failures
