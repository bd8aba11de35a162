"""Task lookup by name: the three built-in tasks, and the tasks installed packages add.

A package adds a task through the ``mgsd.tasks`` entry-point group, naming its :class:`~task_envs.base.Task`
subclass (or an instance) under the task's name, in its ``pyproject.toml``::

    [project.entry-points."mgsd.tasks"]
    keydoor = "mgsd_keydoor.task:KeyDoor"

Plugins load on the first lookup. One that cannot be loaded (an import error, a name that differs from its
task's ``name``, a name already taken) is reported when it is asked for and by ``mgsd tasks``; the other tasks
keep working. :func:`register_task` adds a task in the running process (notebooks, tests).
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass

from .base import Task, TaskError
from .frozenlake import FrozenLake
from .maze import Maze
from .minibehaviour import MiniBehaviour

ENTRY_POINT_GROUP = "mgsd.tasks"
#: The built-in tasks, MGSD's three: every stage's default task set, in report order.
TASKS: tuple[str, ...] = ("frozenlake", "maze", "minibehaviour")
_ALIASES = {"minibehavior": "minibehaviour", "mini_behaviour": "minibehaviour", "frozen_lake": "frozenlake"}


@dataclass(frozen=True)
class TaskEntry:
    """A registered task name: its task object, or why it could not be loaded; ``source`` says where it is from."""

    name: str
    source: str
    task: Task | None = None
    error: str | None = None


_entries: dict[str, TaskEntry] | None = None
#: Bumped whenever the registry changes at run time (what caches keyed by task name include).
generation = 0


def _name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a task name (None: it can): it must be its own normal form and no alias."""
    if not isinstance(name, str) or not name or name != name.strip().lower().replace("-", "_"):
        return f"task name {name!r} must be lower case, without spaces or '-'"
    if name in _ALIASES:
        return f"task name {name!r} is an alias of {_ALIASES[name]!r}"
    return None


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "source"


def _load(entry_point) -> TaskEntry:
    dist = getattr(entry_point, "dist", None)
    source = f"{dist.name} {dist.version}" if dist is not None else entry_point.value
    where = f"entry point {entry_point.name} = {entry_point.value} ({source})"
    try:
        found = entry_point.load()
        task = found() if isinstance(found, type) and issubclass(found, Task) else found
    except Exception as exc:  # noqa: BLE001 - any failure of a plugin's import is reported, not raised here
        return TaskEntry(entry_point.name, source, error=f"{where}: cannot be loaded: {type(exc).__name__}: {exc}")
    if not isinstance(task, Task):
        return TaskEntry(entry_point.name, source, error=f"{where}: is neither a Task subclass nor a Task")
    if task.name != entry_point.name:
        return TaskEntry(entry_point.name, source, error=f"{where}: the task's name is {task.name!r}")
    problem = _name_problem(task.name)
    if problem:
        return TaskEntry(entry_point.name, source, error=f"{where}: {problem}")
    return TaskEntry(task.name, source, task)


def _registry() -> dict[str, TaskEntry]:
    global _entries
    if _entries is None:
        builtin = f"mgsd {_version('mgsd')} (built-in)"
        entries = {t.name: TaskEntry(t.name, builtin, t) for t in (FrozenLake(), Maze(), MiniBehaviour())}
        seen = set()
        for entry_point in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if (entry_point.name, entry_point.value) in seen:  # one distribution visible twice on sys.path
                continue
            seen.add((entry_point.name, entry_point.value))
            loaded = _load(entry_point)
            key = loaded.name
            if key in entries or key in _ALIASES:
                key = f"{loaded.name} ({loaded.source})"
                loaded = TaskEntry(
                    key, loaded.source, error=f"task {loaded.name!r} of {loaded.source}: the name is taken"
                )
            entries[key] = loaded
        _entries = entries
    return _entries


def register_task(task: Task | type[Task], source: str = "registered at run time") -> Task:
    """Add ``task`` (a Task or Task subclass) to this process's registry; a name already taken is an error."""
    global generation
    task = task() if isinstance(task, type) else task
    if not isinstance(task, Task):
        raise TaskError(f"register_task: expected a Task or a Task subclass, got {task!r}")
    problem = _name_problem(task.name)
    if problem:
        raise TaskError(f"register_task: {problem}")
    entries = _registry()
    if task.name in entries:
        raise TaskError(f"register_task: task {task.name!r} is already registered ({entries[task.name].source})")
    entries[task.name] = TaskEntry(task.name, source, task)
    generation += 1
    return task


def unregister_task(name: str) -> None:
    """Remove a task :func:`register_task` added (built-in tasks stay)."""
    global generation
    if name in TASKS:
        raise TaskError(f"unregister_task: {name!r} is a built-in task")
    _registry().pop(name, None)
    generation += 1


def task_entries() -> tuple[TaskEntry, ...]:
    """Every registered name, loaded or not: built-in tasks first, then the others by name."""
    entries = _registry()
    return tuple(entries[t] for t in TASKS) + tuple(entries[k] for k in sorted(entries) if k not in TASKS)


def task_names() -> tuple[str, ...]:
    """The names of the tasks that can be used: built-in first, then installed and registered ones."""
    return tuple(e.name for e in task_entries() if e.task is not None)


def normalise_task_name(name: str) -> str:
    """The registered name for ``name`` (case, ``-``/``_`` and a few spellings forgiven); unknown: TaskError."""
    key = str(name).strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    entry = _registry().get(key)
    if entry is None:
        raise TaskError(
            f"unknown task {name!r}; expected one of {', '.join(task_names())} (`mgsd tasks` lists what is installed)"
        )
    if entry.error:
        raise TaskError(entry.error)
    return key


def get_task(name: str) -> Task:
    """The task object registered as ``name`` (``frozenlake``, ``maze``, ``minibehaviour`` or an installed one)."""
    return _registry()[normalise_task_name(name)].task
