"""What every task shares: the simulator loop, the planner, scoring and the progress rate.

A task supplies pure rules (``initial_state``, ``step``) and the generic code here derives the
rest from them, so the simulator, the optimal planner and the progress rate cannot disagree.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from PIL import Image

from .answers import ParsedAnswer, format_answer, parse_answer
from .errors import TaskError
from .grid import MOVES
from .questions import Question

# Step events.
MOVED = "moved"
SUCCESS = "success"
ILLEGAL = "illegal"
FELL = "fell"

DIFFICULTIES = ("easy", "medium", "hard")
#: Scores that :meth:`Task.score_readings` adds under upstream's reading (as ``upstream_<key>``).
UPSTREAM_KEYS = ("success", "optimal", "parse")


@dataclass(frozen=True)
class Outcome:
    """Result of playing a plan from the initial state.

    ``steps`` counts the actions consumed, including the one that ended the episode; actions after
    success, a fall or an illegal move are ignored. ``reason`` says why an illegal move was illegal
    (e.g. ``wall``, ``off_grid``, ``table``) or is ``hole`` for a fall.
    """

    success: bool
    illegal: bool
    fell: bool
    steps: int
    states: tuple[Hashable, ...]
    reason: str | None = None


class Task:
    """Base class of a task: subclasses set the attributes below and implement the rules (docs/tasks.md).

    Everything else (simulation, optimal plans, progress, scoring, records) follows from ``initial_state`` and
    ``step``. A task's prompts are package data of the package that defines it: ``prompts/<role>_<name>.txt``
    for every role of :data:`task_envs.prompts.PROMPT_ROLES` (``prompt_package`` names another package).
    """

    name: str = ""
    #: Shown in reports and VLMEvalKit dataset names (``MGSD_<title>``); default: the name.
    title: str = ""
    #: Every action, in the planner's tie-break order. The parser accepts these names (and, for the four moves
    #: and pick/drop, the spellings of ``task_envs.answers``).
    actions: tuple[str, ...] = ()
    default_levels: tuple[int, ...] = ()
    min_level: int = 2
    max_level: int = 16
    #: Whether the dataset builder cycles easy/medium/hard targets (upstream does for Maze/MiniBehaviour).
    balanced_difficulty: bool = False
    #: (width, height) of every rendered image.
    image_size: tuple[int, int] = (256, 256)
    #: The numbered questions of the perception prompt; :meth:`perception_truth` answers them.
    perception_questions: tuple[Question, ...] = ()
    #: The package whose ``prompts/`` folder holds the task's prompt files (default: the package of the task's module).
    prompt_package: str | None = None
    #: Upstream MGSD's reading (``--scoring upstream``): whether a block that is a run of ``LRUD0123`` is read
    #: as moves first (its FrozenLake and Maze), and its prompt files' task names (``PROMPT_DIR``), if it had any.
    upstream_compact: bool = False
    upstream_prompt_names: tuple[str, str] | None = None

    # ---- rules a task implements -------------------------------------------------------------
    def generate(self, level: int, seed: int, difficulty: str | None = None) -> Any:
        raise NotImplementedError

    def initial_state(self, instance: Any) -> Hashable:
        raise NotImplementedError

    def step(self, instance: Any, state: Hashable, action: str) -> tuple[Hashable, str, str | None]:
        """One action from ``state``: returns (next state, event, reason)."""
        raise NotImplementedError

    def render(self, instance: Any) -> Image.Image:
        raise NotImplementedError

    def symbolic_state(self, instance: Any) -> str:
        """The exact state as text, with the facts a planner needs (the teacher's context and the modality
        gap's symbolic side); every fact it states is true (tests/test_task_envs/test_stated_facts.py)."""
        raise NotImplementedError

    def perception_truth(self, instance: Any) -> dict:
        """The true answer of every perception question, by key (values as :class:`Question` describes)."""
        raise NotImplementedError

    def prompt_source(self, role: str) -> tuple[Any, str]:
        """(the package-data file that holds ``role``'s prompt, its name for messages)."""
        package = self.prompt_package or type(self).__module__.rpartition(".")[0] or type(self).__module__
        name = f"{role}_{self.name}.txt"
        return resources.files(package).joinpath("prompts", name), f"{package}/prompts/{name}"

    def safe_moves(self, instance: Any) -> frozenset[str]:
        """The moves among the safe first actions (the answer of a ``moves`` perception question)."""
        return frozenset(a for a in self.safe_first_actions(instance) if a in MOVES)

    def safe_first_actions(self, instance: Any) -> list[str]:
        """The actions that neither break a rule nor end in failure (a hole) from the initial state."""
        start = self.initial_state(instance)
        return [a for a in self.actions if self.step(instance, start, a)[1] in (MOVED, SUCCESS)]

    def safe_first_line(self, instance: Any) -> str:
        names = self.safe_first_actions(instance)
        return "Safe first actions (legal, and not into a hole): " + (", ".join(names) if names else "none")

    def key(self, instance: Any) -> str:
        """Canonical identity of an instance (dedup and split assignment)."""
        raise NotImplementedError

    def state_to_json(self, instance: Any) -> dict:
        raise NotImplementedError

    def state_from_json(self, level: int, state: dict, seed: int | None) -> Any:
        raise NotImplementedError

    # ---- shared machinery ----------------------------------------------------------------------
    def check_level(self, level: object) -> int:
        if not isinstance(level, int) or isinstance(level, bool) or not self.min_level <= level <= self.max_level:
            raise TaskError(
                f"{self.name}: level must be an integer in [{self.min_level}, {self.max_level}], got {level!r}"
            )
        return level

    def difficulty_of(self, level: int, plan_length: int) -> str:
        """Upstream's buckets by optimal plan length (Maze thresholds unless a task overrides)."""
        if plan_length <= max(1, level // 2):
            return "easy"
        if plan_length <= level:
            return "medium"
        return "hard"

    def simulate(self, instance: Any, actions: list[str] | tuple[str, ...]) -> Outcome:
        """Play ``actions`` from the initial state under the canonical rules."""
        state = self.initial_state(instance)
        states = [state]
        for i, action in enumerate(actions):
            if action not in self.actions:
                raise TaskError(f"{self.name}: unknown action {action!r}; expected one of {list(self.actions)}")
            nxt, event, reason = self.step(instance, state, action)
            if event == ILLEGAL:
                return Outcome(False, True, False, i + 1, tuple(states), reason)
            states.append(nxt)
            if event == FELL:
                return Outcome(False, False, True, i + 1, tuple(states), reason)
            if event == SUCCESS:
                return Outcome(True, False, False, i + 1, tuple(states), None)
            state = nxt
        return Outcome(False, False, False, len(actions), tuple(states), None)

    def _graph(self, instance: Any) -> _StateGraph:
        graph = instance.__dict__.get("_graph")
        if graph is None:
            graph = _StateGraph.explore(self, instance)
            instance.__dict__["_graph"] = graph  # instances are frozen dataclasses; this is a cache
        return graph

    def optimal_plan(self, instance: Any) -> list[str]:
        """A shortest successful plan (ties broken by the order of ``actions``)."""
        plan = self._graph(instance).shortest_plan()
        if plan is None:
            raise TaskError(f"{self.name}: instance has no successful plan")
        return plan

    def optimal_length(self, instance: Any) -> int:
        length = self._graph(instance).optimal_length
        if length is None:
            raise TaskError(f"{self.name}: instance has no successful plan")
        return length

    def solution_length(self, instance: Any) -> int | None:
        """Optimal plan length, or None when the instance cannot be solved.

        A forward search over ``step`` that stops at the first success: cheaper than the full state
        graph that plans and progress need, so generators use it to check candidates.
        """
        graph = instance.__dict__.get("_graph")
        if graph is not None:
            return graph.optimal_length
        start = self.initial_state(instance)
        frontier, seen, depth = [start], {start}, 0
        while frontier:
            depth += 1
            following = []
            for state in frontier:
                for action in self.actions:
                    nxt, event, _ = self.step(instance, state, action)
                    if event == SUCCESS:
                        return depth
                    if event == MOVED and nxt not in seen:
                        seen.add(nxt)
                        following.append(nxt)
            frontier = following
        return None

    def progress(self, instance: Any, actions: list[str] | tuple[str, ...]) -> float:
        """VisualPlanning's progress rate: the longest prefix of ``actions`` that follows some optimal
        plan, over the optimal plan length."""
        graph = self._graph(instance)
        total = graph.optimal_length
        if not total:
            return 0.0
        state = graph.start
        good = 0
        for action in actions:
            edge = graph.edges[state].get(action)
            if edge is None:
                break
            nxt, event = edge
            remaining = graph.to_go[state]
            if event == SUCCESS:
                if remaining == 1:
                    good += 1
                break
            if event != MOVED or graph.to_go.get(nxt) != remaining - 1:
                break
            good += 1
            state = nxt
        return good / total

    def score(self, instance: Any, response_text: str, lenient: bool = False, *, scoring: str | None = None) -> dict:
        """Score a model response: parse the answer (strict, lenient or upstream reading), play it, compare
        with the optimal plan."""
        parsed = parse_answer(response_text, self, lenient, scoring=scoring)
        return self.score_parsed(instance, parsed)

    def score_readings(self, instance: Any, response_text: str, scoring: str = "strict") -> tuple[ParsedAnswer, dict]:
        """(the parsed answer, :meth:`score` under ``scoring``) with ``upstream_success``, ``upstream_optimal``
        and ``upstream_parse`` added: the same reply under upstream's reading, which reports show beside."""
        parsed = parse_answer(response_text, self, scoring=scoring)
        scores = self.score_parsed(instance, parsed)
        upstream = scores if scoring == "upstream" else self.score(instance, response_text, scoring="upstream")
        scores.update({f"upstream_{k}": upstream[k] for k in UPSTREAM_KEYS})
        return parsed, scores

    def score_parsed(self, instance: Any, parsed: ParsedAnswer) -> dict:
        optimal_length = self.optimal_length(instance)
        result = {
            "success": 0,
            "optimal": 0,
            "progress": 0.0,
            "format": int(parsed.has_block),
            "parse": int(parsed.ok),
            "illegal": 0,
            "fell": 0,
            "num_actions": len(parsed.actions),
            "steps": 0,
            "optimal_length": optimal_length,
        }
        if not parsed.playable:
            return result
        outcome = self.simulate(instance, parsed.actions)
        result.update(
            success=int(outcome.success),
            optimal=int(outcome.success and outcome.steps == optimal_length),
            progress=self.progress(instance, parsed.actions),
            illegal=int(outcome.illegal),
            fell=int(outcome.fell),
            steps=outcome.steps,
        )
        return result

    def oracle_response(self, instance: Any) -> str:
        """A response holding an optimal plan (what ``mgsd oracle`` writes)."""
        return format_answer(self.optimal_plan(instance))

    def to_record(self, instance: Any) -> dict:
        """JSON-safe, lossless description: ``{"task", "level", "seed"?, "state"}``."""
        record = {"task": self.name, "level": instance.level}
        if instance.seed is not None:
            record["seed"] = instance.seed
        record["state"] = self.state_to_json(instance)
        return record

    def from_record(self, record: dict) -> Any:
        """Inverse of :meth:`to_record`; extra keys (a dataset sample's id, image...) are ignored."""
        if not isinstance(record, dict):
            raise TaskError(f"record must be a JSON object, got {type(record).__name__}")
        if record.get("task") != self.name:
            raise TaskError(f"field 'task': expected {self.name!r}, got {record.get('task')!r}")
        level = self.check_level(record.get("level"))
        state = record.get("state")
        if not isinstance(state, dict):
            raise TaskError("field 'state': expected an object")
        seed = record.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise TaskError(f"field 'seed': expected an integer, got {seed!r}")
        try:
            return self.state_from_json(level, state, seed)
        except TaskError:
            raise
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise TaskError(f"field 'state' of a {self.name} record: {exc}") from None


@dataclass
class _StateGraph:
    """The reachable state graph of one instance, with distances to success (for plans and progress)."""

    start: Hashable
    order: tuple[str, ...]
    edges: dict[Hashable, dict[str, tuple[Hashable, str]]]
    to_go: dict[Hashable, int]
    optimal_length: int | None

    @classmethod
    def explore(cls, task: Task, instance: Any) -> _StateGraph:
        start = task.initial_state(instance)
        edges: dict[Hashable, dict[str, tuple[Hashable, str]]] = {}
        queue = deque([start])
        edges[start] = {}
        while queue:
            state = queue.popleft()
            out = edges[state]
            for action in task.actions:
                nxt, event, _ = task.step(instance, state, action)
                if event == ILLEGAL:
                    continue
                out[action] = (nxt, event)
                if event == MOVED and nxt not in edges:
                    edges[nxt] = {}
                    queue.append(nxt)
        # Distance to success: reverse BFS from the states with a successful action.
        reverse: dict[Hashable, list[Hashable]] = {s: [] for s in edges}
        to_go: dict[Hashable, int] = {}
        frontier: deque[Hashable] = deque()
        for state, out in edges.items():
            for nxt, event in out.values():
                if event == SUCCESS:
                    if state not in to_go:
                        to_go[state] = 1
                        frontier.append(state)
                elif event == MOVED:
                    reverse[nxt].append(state)
        while frontier:
            state = frontier.popleft()
            for prev in reverse[state]:
                if prev not in to_go:
                    to_go[prev] = to_go[state] + 1
                    frontier.append(prev)
        return cls(start, task.actions, edges, to_go, to_go.get(start))

    def shortest_plan(self) -> list[str] | None:
        if self.optimal_length is None:
            return None
        plan = []
        state = self.start
        while True:
            remaining = self.to_go[state]
            for action in self.order:
                edge = self.edges[state].get(action)
                if edge is None:
                    continue
                nxt, event = edge
                if event == SUCCESS and remaining == 1:
                    plan.append(action)
                    return plan
                if event == MOVED and self.to_go.get(nxt) == remaining - 1:
                    plan.append(action)
                    state = nxt
                    break
