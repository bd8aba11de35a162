"""What a run's means do not show, from its rows: 95% intervals of the headline metric, the dataset(s) of each
cell, and reply usage (truncation rate, token totals), per task and level, per task and for all tasks.

The structure mirrors ``task_envs.metrics.summarise`` (``by_task_level``, ``by_task``, ``all_tasks_macro``)
so that a report can put an entry of each side by side. Rows with ``error`` set have no reply and count in
no rate; they are the ``errors`` column of the summary.
"""

from __future__ import annotations

from task_envs.registry import TASKS

from .intervals import BOOTSTRAP, CONFIDENCE, WILSON, cell_interval, macro_bootstrap

#: The metric a view's intervals are for: planning success, or perception field accuracy.
INTERVAL_METRIC = {"planning": "success", "perception": "field_accuracy"}
#: Metrics whose per-case values are 0 or 1 (a rate: Wilson per cell); others are bootstrapped per cell too.
BINARY = {"success", "optimal", "format", "parse", "illegal", "fell", "all_correct"}


def row_truncated(row: dict) -> bool | None:
    """Whether a reply was cut at the token limit (``truncated``, ``finish_reason == "length"``); None when the
    row cannot tell (runs before these fields, endpoints that send no finish reason)."""
    if row.get("truncated") is True:
        return True
    if row.get("finish_reason") is not None:
        return row["finish_reason"] == "length"
    if isinstance(row.get("truncated"), bool) and "finish_reason" not in row:
        return row["truncated"]
    return None  # no finish reason from the endpoint: unknown, not "not truncated"


def _tokens(row: dict, field: str) -> int | None:
    value = row.get(field)
    if value is None and isinstance(row.get("usage"), dict):
        value = row["usage"].get(field)
    return value if isinstance(value, (int, float)) else None


def reply_usage(rows: list[dict]) -> dict:
    """``replies``; ``truncated`` (fraction of replies that record it, None when none do); token totals
    (None when no reply records them)."""
    replies = [r for r in rows if not r.get("error")]
    flags = [f for f in map(row_truncated, replies) if f is not None]
    out = {"replies": len(replies), "truncated": sum(flags) / len(flags) if flags else None}
    for field in ("prompt_tokens", "completion_tokens"):
        counts = [c for c in (_tokens(r, field) for r in replies) if c is not None]
        out[field] = int(sum(counts)) if counts else None
    return out


def _datasets(rows: list[dict]) -> list[str]:
    return sorted({r["dataset"] for r in rows if r.get("dataset")})


def _cells(rows: list[dict]) -> dict[str, dict[str, list[dict]]]:
    """task -> level -> rows, in the summary's order (tasks as ``summarise`` orders them, levels numerically)."""
    cells: dict[str, dict[int, list[dict]]] = {}
    for row in rows:
        cells.setdefault(row["task"], {}).setdefault(int(row["level"]), []).append(row)
    return {t: {str(l): cells[t][l] for l in sorted(cells[t])} for t in sorted(cells, key=_task_order)}


def _task_order(task: str) -> tuple[int, str]:
    return (TASKS.index(task) if task in TASKS else len(TASKS), task)


def run_statistics(rows: list[dict], metric: str) -> dict:
    """Intervals of ``metric`` (Wilson per cell for 0/1 scores, bootstrap for the macros) and usage."""
    cells = _cells(rows)
    values = {
        t: {
            l: [r["scores"][metric] for r in rs if not r.get("error") and metric in (r.get("scores") or {})]
            for l, rs in levels.items()
        }
        for t, levels in cells.items()
    }
    macro = macro_bootstrap(values)
    ci = f"{metric}_ci"
    by_task_level: dict[str, dict[str, dict]] = {}
    by_task: dict[str, dict] = {}
    for task, levels in cells.items():
        by_task_level[task] = {}
        for level, cell_rows in levels.items():
            interval, method = cell_interval(values[task][level], binary=metric in BINARY)
            by_task_level[task][level] = {
                ci: interval,
                "ci_method": method,
                "datasets": _datasets(cell_rows),
                **reply_usage(cell_rows),
            }
        task_rows = [r for rs in levels.values() for r in rs]
        by_task[task] = {
            ci: macro["by_task"].get(task),
            "ci_method": "bootstrap" if task in macro["by_task"] else None,
            "datasets": _datasets(task_rows),
            **reply_usage(task_rows),
        }
    return {
        "metric": metric,
        "confidence": CONFIDENCE,
        "methods": {"wilson": WILSON, "bootstrap": BOOTSTRAP},
        "by_task_level": by_task_level,
        "by_task": by_task,
        "all_tasks_macro": {
            ci: macro["all_tasks_macro"],
            "ci_method": "bootstrap" if macro["all_tasks_macro"] else None,
            "datasets": _datasets(rows),
            **reply_usage(rows),
        },
    }
