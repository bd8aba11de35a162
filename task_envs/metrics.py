"""Aggregate per-case scores into MGSD's report: per task and level, per-task macro over levels, and
the all-task macro average (MGSD's headline number is ``all_tasks_macro.success``).

Upstream MGSD's evaluation, which produced the paper's numbers, averaged differently: it pooled the cases
within each task (levels weighted by their case counts), then took the mean over tasks. ``pooled_macro``
is that average; ``pooled_macro.upstream_success`` (upstream's reading and average) is the number that
compares with the paper (``PAPER``)."""

from __future__ import annotations

from collections.abc import Iterable

from .registry import TASKS

RATE_METRICS = (
    "success",
    "optimal",
    "progress",
    "format",
    "parse",
    "illegal",
    "fell",
    "upstream_success",
    "upstream_optimal",
    "upstream_parse",
)
HEADLINE = "all_tasks_macro.success"
HEADLINE_DESCRIPTION = (
    "planning success rate averaged over levels within each task, then over tasks (MGSD's headline number)"
)
PAPER = "pooled_macro.upstream_success"
PAPER_DESCRIPTION = (
    "planning success under upstream MGSD's reading of replies, cases pooled within each task, then "
    "the mean over tasks: upstream's evaluation, the one that compares with the paper's tables"
)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _task_order(task: str) -> tuple[int, str]:
    return (TASKS.index(task) if task in TASKS else len(TASKS), task)


def summarise(rows: Iterable[dict], metrics: tuple[str, ...] = RATE_METRICS) -> dict:
    """``rows`` hold ``task``, ``level`` and a ``scores`` dict (the output of ``Task.score``, or of
    ``score_perception`` with the perception metrics).

    Rows with ``error`` set count in ``errors`` and are left out of the rates. A metric that a task's
    scores lack (a perception question of another task) is left out of that task's entries.
    """
    cells: dict[str, dict[int, list[dict]]] = {}
    errors: dict[str, dict[int, int]] = {}
    for row in rows:
        task, level = row["task"], int(row["level"])
        cells.setdefault(task, {}).setdefault(level, [])
        errors.setdefault(task, {}).setdefault(level, 0)
        if row.get("error"):
            errors[task][level] += 1
        else:
            cells[task][level].append(row["scores"])
    by_task_level: dict[str, dict[str, dict]] = {}
    by_task: dict[str, dict] = {}
    all_scores: list[dict] = []
    for task in sorted(cells, key=_task_order):
        levels = {}
        for level in sorted(cells[task]):
            scores = cells[task][level]
            all_scores.extend(scores)
            entry = {"n": len(scores), "errors": errors[task][level]}
            entry.update(
                {
                    m: _mean([s[m] for s in scores if m in s])
                    for m in metrics
                    if not scores or any(m in s for s in scores)
                }
            )
            levels[str(level)] = entry
        by_task_level[task] = levels
        scored = [e for e in levels.values() if e["n"]]
        task_entry = {
            "n": sum(e["n"] for e in levels.values()),
            "errors": sum(e["errors"] for e in levels.values()),
            "levels": len(scored),
        }
        task_entry.update(
            {m: _mean([e[m] for e in scored if m in e]) for m in metrics if not scored or any(m in e for e in scored)}
        )
        by_task[task] = task_entry
    scored_tasks = [e for e in by_task.values() if e["n"]]
    macro = {"tasks": len(scored_tasks)}
    macro.update(
        {m: _mean([e[m] for e in scored_tasks if m in e]) for m in metrics if all(m in e for e in scored_tasks)}
    )
    pooled = {}
    for task in by_task:
        scores = [s for levels in cells[task].values() for s in levels]
        if scores:
            pooled[task] = {m: _mean([s[m] for s in scores]) for m in metrics if all(m in s for s in scores)}
    pooled_macro = {"tasks": len(pooled)}
    pooled_macro.update(
        {m: _mean([e[m] for e in pooled.values()]) for m in metrics if pooled and all(m in e for e in pooled.values())}
    )
    micro = {"n": len(all_scores), "errors": sum(e["errors"] for e in by_task.values())}
    micro.update({m: _mean([s[m] for s in all_scores if m in s]) for m in metrics if any(m in s for s in all_scores)})
    return {
        "headline": {"metric": HEADLINE, "value": macro.get("success", 0.0), "description": HEADLINE_DESCRIPTION},
        "all_tasks_macro": macro,
        "pooled_macro": pooled_macro,
        "pooled_by_task": pooled,
        "by_task": by_task,
        "by_task_level": by_task_level,
        "micro": micro,
    }


def format_table(
    summary: dict, metrics: tuple[str, ...] = ("success", "optimal", "progress", "parse", "illegal")
) -> str:
    """A plain-text table: one row per task and level, a macro row per task, and the all-task macro."""
    header = ["task", "level", "n"] + list(metrics)
    lines = []
    for task, levels in summary["by_task_level"].items():
        for level, entry in levels.items():
            lines.append([task, level, str(entry["n"])] + [f"{entry[m]:.3f}" for m in metrics])
        entry = summary["by_task"][task]
        lines.append([task, "macro", str(entry["n"])] + [f"{entry[m]:.3f}" for m in metrics])
    macro = summary["all_tasks_macro"]
    lines.append(["ALL TASKS", "macro", str(summary["micro"]["n"])] + [f"{macro[m]:.3f}" for m in metrics])
    widths = [max(len(r[i]) for r in [header] + lines) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    out = [fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in lines]
    out.append(f"headline ({summary['headline']['metric']}): {summary['headline']['value']:.3f}")
    pooled = summary.get("pooled_macro", {})
    if "upstream_success" in pooled:
        out.append(
            f"as upstream scored it ({PAPER}; compares with the paper): success {pooled['upstream_success']:.3f}, "
            f"optimal {pooled['upstream_optimal']:.3f}"
        )
    return "\n".join(out)
