"""Reports over evaluation runs and training runs: ``report.json``, ``report.csv``, ``report.md`` and PNG plots.

Tables come from the runs' ``summary.json`` (per task and level, per-task macro over levels, all-task macro:
MGSD's headline is planning success, all-task macro) and its ``statistics`` (95% intervals, datasets, reply
usage); a run written before ``statistics`` existed gets them from its ``results.jsonl``. Training curves come
from the trainers' ``metrics.jsonl``. Plots an earlier report left in the folder and this one does not draw
are removed.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from task_envs.errors import TaskError
from task_envs.io_utils import atomic_write_json, atomic_write_text

from .curves import plot_training_curves, read_training, summary_of
from .diagnostics import diagnostics, diagnostics_md, plot_diagnostics
from .intervals import BOOTSTRAP, WILSON
from .plots import plot_modality_gap, plot_success_by_level
from .runner import RESULTS, read_results
from .summary import run_statistics_of
from .tables import (
    PERCEPTION_COLUMNS,
    PLAN_COLUMNS,
    USAGE_COLUMNS,
    fmt,
    gap_table,
    headline_table,
    table_rows,
    view_section,
    views,
)

__all__ = ["load_run", "table_rows", "format_summary", "write_report"]

#: Every plot a report can draw (so that one left by an earlier report in the same folder can be removed).
PLOTS = ("success_by_level.png", "modality_gap.png", "training_curves.png", "diagnostics.png")


def _counts_match(metrics: dict, stats: dict) -> bool:
    """The rows give the summary's cells with its case counts (else they are not the rows it was made from)."""
    for task, levels in metrics["by_task_level"].items():
        for level, entry in levels.items():
            cell = stats["by_task_level"].get(task, {}).get(level)
            if cell is None or cell["replies"] != entry["n"]:
                return False
    return True


def _statistics_from_rows(data: dict, path: Path) -> dict | None:
    """``statistics`` of a run summarised before they existed, from its rows (restricted to the summary's cells)."""
    if not (path / "results.jsonl").is_file():
        return None
    cells = {
        (t, l) for v in views({**data, "statistics": None}) for t, ls in v.metrics["by_task_level"].items() for l in ls
    }
    rows = [r for r in read_results(path / RESULTS).values() if (r.get("task"), str(r.get("level"))) in cells]
    stats = run_statistics_of(data["pipeline"], rows)
    check = [(v.metrics, v.stats) for v in views({**data, "statistics": stats})]
    return stats if all(_counts_match(m, s) for m, s in check) else None


def load_run(path: str | Path) -> dict:
    path = Path(path)
    summary = path / "summary.json"
    if not summary.is_file():
        raise TaskError(f"{path}: no summary.json (not an evaluation run folder, or the run never finished)")
    data = json.loads(summary.read_text())
    data["run"] = str(path)
    data["label"] = data.get("label") or data.get("model") or path.name
    if "statistics" not in data:
        data["statistics"] = _statistics_from_rows(data, path)
    return data


def format_summary(summary: dict) -> str:
    """The markdown table(s) of one run's summary (what ``mgsd eval`` prints)."""
    name = summary.get("label") or summary.get("model") or "run"
    run = {**summary, "run": name, "label": name}
    rows = table_rows(run)
    parts = []
    for view in views(run):
        part = f"{run['pipeline']} ({view.variant}), model {summary.get('model')}:\n" + view_section(run, view, rows)
        total = next((r for r in rows if r["variant"] == view.variant and r["task"] == "all"), {})
        if total.get("upstream_success") is not None:
            part += (
                f"\nas upstream scored it (its reading and pooled macro; compares with the paper): success "
                f"{fmt(total['upstream_success'])}, optimal {fmt(total['upstream_optimal'])}"
            )
        parts.append(part)
    return "\n\n".join(parts)


def _notes(runs: list[dict]) -> list[str]:
    notes = [
        "## How to read this",
        "",
        f"- **95% CI** of a task and level cell: {WILSON} of the success rate (of the field accuracy for perception, "
        f"whose cells are not 0/1: {BOOTSTRAP.split(',')[0]} within the cell). Task macros (level **macro**) and "
        f"the all-task macro: {BOOTSTRAP}; levels weigh equally within a task, tasks equally in the all-task "
        "macro, as in the point estimates.",
        "- † marks a zero-width bootstrap interval: every case of every cell agreed, so resampling cannot show "
        "spread. It is not certainty; read the per-level Wilson intervals and n.",
        "- **n**: scored cases (errored requests are in **errors** and in no rate). **dataset**: the data folder(s) "
        "of the cases (last two path parts; full paths in report.csv).",
        "- **format**: an `<answer>` block was found; **parse**: it parsed; **illegal**: the plan made an illegal "
        "move; **fell**: FrozenLake, the plan entered a hole.",
        "- **upstream_success**, **upstream_optimal**: the same replies read as upstream MGSD's evaluation read "
        "them (docs/scoring.md); in macro rows averaged as upstream did (cases pooled within a task, then the mean "
        "over tasks). The all-task value is the one to compare with the paper.",
        "- **truncated**: fraction of replies that stopped at the token limit (`finish_reason` `length`); "
        "`-` where the run did not record it. **tokens**: totals reported by the endpoint.",
        "- Perception: exact-match accuracy per question field; set F1 per field is in report.csv / report.json.",
    ]
    if any(r.get("statistics") is None for r in runs):
        notes.append(
            "- Runs without intervals (`-`): summarised before intervals existed, and no matching "
            "results.jsonl beside their summary.json."
        )
    return notes


def _training_md(training: list[dict]) -> list[str]:
    lines = [
        "## Training",
        "",
        "| run | trainer | last step | reverse KL (first → last) | val macro success "
        "(first → best @ step → last) | response length (first → last) | files |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for t in training:
        s = t["series"]

        def span(*keys, s=s):
            for k in keys:
                if k in s:
                    return f"{s[k][0][1]:.3f} → {s[k][-1][1]:.3f}" + (
                        "" if len(keys) == 1 else f" ({k.split('/')[-1]})"
                    )
            return "-"

        val = s.get("val/reward_score")
        val_text = (
            f"{val[0][1]:.3f} → {t['best_val']['value']:.3f} @ {t['best_val']['step']} → {val[-1][1]:.3f}"
            if val
            else "-"
        )
        lines.append(
            f"| {t['label']} | {t['trainer']} | {fmt(t['steps'])} | "
            f"{span('actor/reverse_kl', 'actor/distillation/abs_loss')} | {val_text} | "
            f"{span('response_length/mean')} | {', '.join(Path(f).name for f in t['files'])} |"
        )
    return lines + [
        "",
        "Reverse KL: `actor/reverse_kl` (single-process trainer) or verl's `actor/distillation/abs_loss` "
        "(mean |log p_student - log p_teacher| per token; `actor/distillation/loss`, the PPO-clip loss on it, "
        "is drawn dashed). Validation: `val/reward_score`, the all-task macro success.",
        "",
    ]


def _default_out(run_paths: list[str], training: list[str]) -> Path:
    if len(run_paths) == 1:
        return Path(run_paths[0]) / "report"
    if not run_paths and len(training) == 1:
        return Path(training[0]) / "report"
    raise TaskError("--out is required when reporting several runs")


def _remove_stale(out: Path, drawn: list[str]) -> None:
    """Remove plots of an earlier report in ``out`` that this report did not draw."""
    earlier = set(PLOTS)
    try:
        earlier |= set(json.loads((out / "report.json").read_text()).get("plots", []))
    except (OSError, ValueError, AttributeError):
        pass
    for name in earlier - set(drawn):
        if Path(name).name == name and name.endswith(".png"):
            (out / name).unlink(missing_ok=True)


def write_report(run_paths: list[str], out: str | Path | None = None, training: list[str] | None = None) -> Path:
    """Write the report of evaluation runs ``run_paths`` and training output folders ``training`` into ``out``."""
    training = list(training or [])
    if not run_paths and not training:
        raise TaskError("nothing to report: give evaluation run folders and/or --training folders")
    runs = [load_run(p) for p in run_paths]
    trained = [read_training(p) for p in training]
    out = Path(out) if out is not None else _default_out(run_paths, training)
    out.mkdir(parents=True, exist_ok=True)
    rows = [row for run in runs for row in table_rows(run)]
    diag = diagnostics(runs)
    plots = [
        name
        for name, draw, what in (
            ("success_by_level.png", plot_success_by_level, runs),
            ("modality_gap.png", plot_modality_gap, runs),
            ("diagnostics.png", plot_diagnostics, diag),
            ("training_curves.png", plot_training_curves, trained),
        )
        if draw(what, out / name)
    ]
    _remove_stale(out, plots)
    training_info = [summary_of(t) for t in trained]
    atomic_write_json(
        out / "report.json",
        {
            "headline": "planning success, all-task macro (MGSD's headline)",
            "intervals": {"confidence": 0.95, "cells": WILSON, "macros": BOOTSTRAP},
            "runs": runs,
            "rows": rows,
            "diagnostics": diag,
            "training": training_info,
            "plots": plots,
        },
    )
    fields = [
        "run",
        "label",
        "pipeline",
        "variant",
        "dataset",
        "task",
        "level",
        "n",
        "errors",
        *PLAN_COLUMNS,
        *PERCEPTION_COLUMNS,
        "ci_metric",
        "ci_low",
        "ci_high",
        "ci_method",
        *USAGE_COLUMNS,
    ]
    fields += sorted({k for r in rows for k in r} - set(fields))  # per-question perception keys
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out / "report.csv", buf.getvalue())
    md = ["# Evaluation report", ""]
    if runs:
        md += [
            "Headline: planning success averaged over levels within each task, then over tasks (all-task macro); "
            "perception rows give field accuracy. Brackets: 95% intervals (see *How to read this*).",
            "",
            headline_table(runs, rows),
            "",
        ]
    for run in runs:
        for view in views(run):
            md += [
                f"## {run['label']}: {run['pipeline']} ({view.variant})",
                "",
                f"Run folder: `{run['run']}`; model "
                f"`{run.get('model')}`; {run['cases']} cases, {run['errors']} errors.",
                "",
                view_section(run, view, rows),
                "",
            ]
        if run["pipeline"] == "modality-gap":
            md += [f"### {run['label']}: modality gap", "", gap_table(run, rows), ""]
    md += diagnostics_md(diag)
    if trained:
        md += _training_md(training_info)
    if runs:
        md += _notes(runs) + [""]
    md += [f"![{p}]({p})" for p in plots]
    atomic_write_text(out / "report.md", "\n".join(md) + "\n")
    return out
