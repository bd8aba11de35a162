"""Report tables: flat rows (CSV/JSON) and markdown, from run summaries and their ``statistics``.

A run has one view (planning, perception) or two (modality gap: visual, symbolic). Every row is a task and
level cell, a task's macro over levels (level ``macro``) or the all-task macro (task ``all``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from task_envs import TaskError, get_task
from task_envs.metrics import RATE_METRICS
from task_envs.registry import TASKS

PLAN_COLUMNS = tuple(m for m in RATE_METRICS if m != "upstream_parse")
#: Columns averaged as upstream MGSD did in its macro rows: cases pooled within a task (``pooled_by_task``),
#: then the mean over tasks (``pooled_macro``); per task and level they are plain rates like the others.
UPSTREAM_COLUMNS = ("upstream_success", "upstream_optimal")
PERCEPTION_COLUMNS = ("field_accuracy", "all_correct")
USAGE_COLUMNS = ("truncated", "prompt_tokens", "completion_tokens")
#: Keys of a summary entry that are not metric columns.
_NOT_METRICS = {"n", "errors", "levels", "tasks"}


@dataclass
class View:
    variant: str
    metrics: dict  #: ``task_envs.metrics.summarise`` output
    stats: dict | None  #: ``rowstats.run_statistics`` output (None: an old run without rows)
    columns: tuple[str, ...]
    key: str  #: the headline metric of the view, the one with intervals


def views(run: dict) -> list[View]:
    stats = run.get("statistics")
    if run["pipeline"] == "planning":
        return [View(run.get("prompt") or "student", run["metrics"], stats, PLAN_COLUMNS, "success")]
    if run["pipeline"] == "perception":
        return [View("perception", run["metrics"], stats, perception_columns(run["metrics"]), "field_accuracy")]
    return [View(m, run["metrics"][m], (stats or {}).get(m), PLAN_COLUMNS, "success") for m in ("visual", "symbolic")]


def perception_columns(metrics: dict) -> tuple[str, ...]:
    """field_accuracy, all_correct, then every per-question key of the run (exact match, then set F1)."""
    keys = [
        k for levels in metrics["by_task_level"].values() for e in levels.values() for k in e if k not in _NOT_METRICS
    ]
    rest = [k for k in dict.fromkeys(keys) if k not in PERCEPTION_COLUMNS]
    return (
        PERCEPTION_COLUMNS
        + tuple(k for k in rest if not k.endswith("_f1"))
        + tuple(k for k in rest if k.endswith("_f1"))
    )


def _stat(view: View, task: str, level: str | None) -> dict:
    if not view.stats:
        return {}
    if task == "all":
        return view.stats.get("all_tasks_macro") or {}
    if level is None:
        return view.stats["by_task"].get(task) or {}
    return view.stats["by_task_level"].get(task, {}).get(level) or {}


def _row(base: dict, view: View, task: str, level: str, entry: dict, stat: dict) -> dict:
    ci = stat.get(f"{view.key}_ci")
    row = {
        **base,
        "dataset": ";".join(stat.get("datasets") or base["data"]),
        "task": task,
        "level": level,
        "n": entry["n"],
        "errors": entry["errors"],
        **{c: entry.get(c) if entry["n"] else None for c in view.columns},  # no scored case: no rate, not 0
        "ci_metric": view.key,
        "ci_low": ci[0] if ci else None,
        "ci_high": ci[1] if ci else None,
        "ci_method": stat.get("ci_method"),
    }
    row.update({c: stat.get(c) for c in USAGE_COLUMNS})
    return row


def _upstream(entry: dict | None) -> dict:
    """The upstream columns of a pooled entry (absent, e.g. in a summary of before them: nothing)."""
    return {c: entry[c] for c in UPSTREAM_COLUMNS if entry and c in entry}


def table_rows(run: dict) -> list[dict]:
    """Flat rows: per task and level, the task macro (level ``macro``) and the all-task macro (task ``all``)."""
    rows = []
    for view in views(run):
        base = {
            "run": run["run"],
            "label": run["label"],
            "pipeline": run["pipeline"],
            "variant": view.variant,
            "data": [str(d) for d in run.get("data") or []],
        }
        for task, levels in view.metrics["by_task_level"].items():
            for level, entry in levels.items():
                rows.append(_row(base, view, task, level, entry, _stat(view, task, level)))
            pooled = _upstream(view.metrics.get("pooled_by_task", {}).get(task))
            rows.append(
                _row(base, view, task, "macro", {**view.metrics["by_task"][task], **pooled}, _stat(view, task, None))
            )
        by_task = view.metrics["by_task"].values()
        entry = {
            **view.metrics["all_tasks_macro"],
            **_upstream(view.metrics.get("pooled_macro")),
            "n": sum(e["n"] for e in by_task),
            "errors": sum(e["errors"] for e in by_task),
        }
        rows.append(_row(base, view, "all", "macro", entry, _stat(view, "all", None)))
    for row in rows:
        del row["data"]
    return rows


# ---- markdown ------------------------------------------------------------------------------------------
def fmt(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def fmt_ci(row: dict, digits: int = 3) -> str:
    """``[lo, hi]``; a dagger marks a zero-width bootstrap interval (every resample equal, not certainty)."""
    if row.get("ci_low") is None:
        return "-"
    dagger = "†" if row["ci_method"] == "bootstrap" and row["ci_high"] - row["ci_low"] < 1e-12 else ""
    return f"[{row['ci_low']:.{digits}f}, {row['ci_high']:.{digits}f}]{dagger}"


def short_dataset(names: str) -> str:
    """``a/b/quickstart/test;x/vsp`` -> ``quickstart/test, x/vsp``: the last two path parts of each folder."""
    return ", ".join("/".join(Path(n).parts[-2:]) for n in names.split(";") if n) or "-"


def _tokens(row: dict) -> str:
    if row.get("prompt_tokens") is None and row.get("completion_tokens") is None:
        return "-"
    return f"{fmt(row.get('prompt_tokens'))} / {fmt(row.get('completion_tokens'))}"


def _md(header: list[str], lines: list[list[str]], left: int = 2) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * left + ["---:"] * (len(header) - left)) + "|"]
    out += ["| " + " | ".join(cells) + " |" for cells in lines]
    return "\n".join(out)


def _cell_label(row: dict, field: str) -> str:
    return f"**{row[field]}**" if row["level"] == "macro" else str(row[field])


def cell_table(rows: list[dict], view: View) -> str:
    """Per task and level, with the task macros and the all-task macro; usage columns when recorded."""
    tokens = any(r.get("prompt_tokens") is not None or r.get("completion_tokens") is not None for r in rows)
    rest = [c for c in view.columns if c != view.key]
    header = ["task", "level", "dataset", "n", "errors", view.key, "95% CI", *rest, "truncated"]
    header += ["prompt tokens", "completion tokens"] if tokens else []
    lines = []
    for r in rows:
        cells = [
            _cell_label(r, "task"),
            _cell_label(r, "level"),
            short_dataset(r["dataset"]),
            fmt(r["n"]),
            fmt(r["errors"]),
            fmt(r.get(view.key)),
            fmt_ci(r),
            *(fmt(r.get(c)) for c in rest),
            fmt(r.get("truncated")),
        ]
        cells += [fmt(r.get("prompt_tokens")), fmt(r.get("completion_tokens"))] if tokens else []
        lines.append(cells)
    return _md(header, lines, left=3)


def _questions(task: str) -> tuple:
    """The perception questions of ``task``; none when it is not installed here (its run is still reported)."""
    try:
        return get_task(task).perception_questions
    except TaskError:
        return ()


def perception_tables(rows: list[dict], view: View) -> str:
    """One table per task (each task asks its own questions): exact-match accuracy per field."""
    parts = []
    for task in dict.fromkeys(r["task"] for r in rows if r["task"] != "all"):
        mine = [r for r in rows if r["task"] == task]
        asked = [q.key for q in _questions(task)]  # the task's question order
        fields = [
            c
            for c in asked + list(view.columns)
            if c not in PERCEPTION_COLUMNS and not c.endswith("_f1") and any(r.get(c) is not None for r in mine)
        ]
        fields = list(dict.fromkeys(fields))
        header = ["level", "dataset", "n", "errors", "field_accuracy", "95% CI", "all_correct", *fields, "truncated"]
        lines = [
            [
                _cell_label(r, "level"),
                short_dataset(r["dataset"]),
                fmt(r["n"]),
                fmt(r["errors"]),
                fmt(r.get("field_accuracy")),
                fmt_ci(r),
                fmt(r.get("all_correct")),
                *(fmt(r.get(c)) for c in fields),
                fmt(r.get("truncated")),
            ]
            for r in mine
        ]
        parts.append(f"#### {task}\n\n" + _md(header, lines, left=2))
    total = next((r for r in rows if r["task"] == "all"), None)
    if total:
        parts.append(
            f"All-task macro field accuracy: {fmt(total.get('field_accuracy'))} {fmt_ci(total)} "
            f"(n = {total['n']}); all fields right: {fmt(total.get('all_correct'))}."
        )
    return "\n\n".join(parts)


def task_columns(runs: list[dict]) -> list[str]:
    """The tasks of any run, in the registry's order (unknown tasks last)."""
    found = {t for run in runs for v in views(run) for t in v.metrics["by_task"]}
    return [t for t in TASKS if t in found] + sorted(found - set(TASKS))


def _value_ci(row: dict | None, key: str) -> str:
    if row is None:
        return "-"
    return fmt(row.get(key)) + ("" if row.get("ci_low") is None else " " + fmt_ci(row, 2))


def headline_table(runs: list[dict], rows: list[dict]) -> str:
    """One line per run and view: the all-task macro with its interval, each task's macro, usage."""
    tasks = task_columns(runs)
    header = [
        "run",
        "pipeline",
        "variant",
        "dataset",
        "metric",
        "n",
        "errors",
        "all-task macro",
        "95% CI",
        "as upstream scored it ¹",
        *tasks,
        "truncated",
        "tokens (prompt / completion)",
    ]
    lines = []
    for run in runs:
        for view in views(run):
            mine = [
                r for r in rows if r["run"] == run["run"] and r["variant"] == view.variant and r["level"] == "macro"
            ]
            total = next(r for r in mine if r["task"] == "all")
            per_task = []
            for task in tasks:
                r = next((r for r in mine if r["task"] == task), None)
                per_task.append(_value_ci(r, view.key))
            lines.append(
                [
                    run["label"],
                    run["pipeline"],
                    view.variant,
                    short_dataset(total["dataset"]),
                    view.key,
                    fmt(total["n"]),
                    fmt(total["errors"]),
                    fmt(total.get(view.key)),
                    fmt_ci(total),
                    fmt(total.get("upstream_success")) if view.key == "success" else "-",
                    *per_task,
                    fmt(total.get("truncated")),
                    _tokens(total),
                ]
            )
    note = (
        "¹ Planning success as upstream MGSD's evaluation computed it, from the same replies: its reading of "
        "answers (`--scoring upstream`, docs/scoring.md) and its macro (cases pooled within each task, then the "
        "mean over tasks). This is the number that compares with the paper's tables; `all-task macro` is ours "
        "(the run's `--scoring`, levels averaged within each task)."
    )
    return _md(header, lines, left=5) + "\n\n" + note


def gap_table(run: dict, rows: list[dict]) -> str:
    """Visual and symbolic success with their intervals, and the gap (symbolic - visual), per cell and macro."""
    gap = run["metrics"]["gap"]
    mine = {(r["variant"], r["task"], r["level"]): r for r in rows if r["run"] == run["run"]}
    header = ["task", "level", "n", "visual success", "95% CI", "symbolic success", "95% CI", "gap (symbolic - visual)"]
    lines = []
    for task, levels in gap["by_task_level"].items():
        for level, value in [*levels.items(), ("macro", gap["by_task"][task])]:
            v, s = mine[("visual", task, level)], mine[("symbolic", task, level)]
            lines.append(
                [
                    _cell_label(v, "task"),
                    _cell_label(v, "level"),
                    fmt(v["n"]),
                    fmt(v.get("success")),
                    fmt_ci(v),
                    fmt(s.get("success")),
                    fmt_ci(s),
                    f"{value:+.3f}",
                ]
            )
    v, s = mine[("visual", "all", "macro")], mine[("symbolic", "all", "macro")]
    lines.append(
        [
            "**all**",
            "**macro**",
            fmt(v["n"]),
            fmt(v.get("success")),
            fmt_ci(v),
            fmt(s.get("success")),
            fmt_ci(s),
            f"{gap['all_tasks_macro']:+.3f}",
        ]
    )
    return _md(header, lines, left=2)


def view_section(run: dict, view: View, rows: list[dict]) -> str:
    mine = [r for r in rows if r["run"] == run["run"] and r["variant"] == view.variant]
    if run["pipeline"] == "perception":
        return perception_tables(mine, view)
    return cell_table(mine, view)
