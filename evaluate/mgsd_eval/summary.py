"""Summaries of a run's rows, all aggregated the same way: per task and level, per-task macro over levels,
all-task macro over tasks (for planning, ``all_tasks_macro.success`` is MGSD's headline number).

``statistics`` beside ``metrics`` (same shape, see ``rowstats``) holds the 95% intervals, each cell's datasets,
and reply usage (truncation rate, token totals)."""

from __future__ import annotations

from task_envs.metrics import HEADLINE, summarise
from task_envs.perception import perception_metrics

from .rowstats import INTERVAL_METRIC, run_statistics


def summarise_perception(rows: list[dict]) -> dict:
    """Per-field exact-match rates, ``field_accuracy`` and ``all_correct`` per task and level."""
    return summarise(rows, perception_metrics())


def modality_gap(visual: dict, symbolic: dict) -> dict:
    """``symbolic - visual`` success per task, per task and level, and for the all-task macro."""
    gap = {
        "all_tasks_macro": symbolic["all_tasks_macro"]["success"] - visual["all_tasks_macro"]["success"],
        "by_task": {},
        "by_task_level": {},
    }
    for task, entry in visual["by_task"].items():
        if task in symbolic["by_task"]:
            gap["by_task"][task] = symbolic["by_task"][task]["success"] - entry["success"]
            gap["by_task_level"][task] = {
                level: symbolic["by_task_level"][task][level]["success"] - e["success"]
                for level, e in visual["by_task_level"][task].items()
                if level in symbolic["by_task_level"][task]
            }
    return gap


def summarise_run(pipeline: str, rows: list[dict], info: dict) -> dict:
    models = sorted({r["model"] for r in rows if r.get("model")})
    out = {
        "pipeline": pipeline,
        "label": info.get("label"),
        "model": info.get("model") or (models[0] if models else None),
        "prompt": info.get("prompt"),
        "data": info.get("data"),
        "cases": len(rows),
        "errors": sum(1 for r in rows if r.get("error")),
    }
    if pipeline == "planning":
        out["headline"] = HEADLINE
        out["metrics"] = summarise(rows)
    elif pipeline == "perception":
        out["metrics"] = summarise_perception(rows)
    else:
        visual = summarise(r for r in rows if r["variant"] == "visual")
        symbolic = summarise(r for r in rows if r["variant"] == "symbolic")
        out["headline"] = HEADLINE
        out["metrics"] = {"visual": visual, "symbolic": symbolic, "gap": modality_gap(visual, symbolic)}
    out["statistics"] = run_statistics_of(pipeline, rows)
    return out


def run_statistics_of(pipeline: str, rows: list[dict]) -> dict:
    """``statistics`` of a run, shaped like its ``metrics`` (one entry per modality for modality-gap runs)."""
    if pipeline == "modality-gap":
        return {v: run_statistics([r for r in rows if r["variant"] == v], "success") for v in ("visual", "symbolic")}
    return run_statistics(rows, INTERVAL_METRIC.get(pipeline, "success"))
