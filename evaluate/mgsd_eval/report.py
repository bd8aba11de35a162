"""Reports over evaluation runs: ``report.json``, ``report.csv``, ``report.md`` and PNG plots.

Every table and plot is drawn from the runs' ``summary.json`` files: per task and level, per-task macro over
levels, all-task macro (MGSD's headline: planning success, all-task macro).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from task_envs.errors import TaskError
from task_envs.io_utils import atomic_write_json, atomic_write_text

PLAN_COLUMNS = ("success", "optimal", "progress", "illegal", "parse")
PERCEPTION_COLUMNS = ("field_accuracy", "all_correct")


def load_run(path: str | Path) -> dict:
    path = Path(path)
    summary = path / "summary.json"
    if not summary.is_file():
        raise TaskError(f"{path}: no summary.json (not an evaluation run folder, or the run never finished)")
    data = json.loads(summary.read_text())
    data["run"] = str(path)
    data["label"] = data.get("label") or data.get("model") or path.name
    return data


def _views(run: dict) -> list[tuple[str, dict, tuple[str, ...]]]:
    """(variant, metrics summary, columns) of a run: one view, or visual + symbolic for modality gap."""
    if run["pipeline"] == "planning":
        return [(run.get("prompt") or "student", run["metrics"], PLAN_COLUMNS)]
    if run["pipeline"] == "perception":
        return [("perception", run["metrics"], PERCEPTION_COLUMNS)]
    return [("visual", run["metrics"]["visual"], PLAN_COLUMNS), ("symbolic", run["metrics"]["symbolic"], PLAN_COLUMNS)]


def table_rows(run: dict) -> list[dict]:
    """Flat rows: per task and level, the task macro (level ``macro``) and the all-task macro (task ``all``)."""
    rows = []
    for variant, metrics, columns in _views(run):
        base = {"run": run["run"], "label": run["label"], "pipeline": run["pipeline"], "variant": variant}
        for task, levels in metrics["by_task_level"].items():
            for level, entry in levels.items():
                rows.append({**base, "task": task, "level": level, "n": entry["n"], "errors": entry["errors"],
                             **{c: entry.get(c) for c in columns}})
            entry = metrics["by_task"][task]
            rows.append({**base, "task": task, "level": "macro", "n": entry["n"], "errors": entry["errors"],
                         **{c: entry.get(c) for c in columns}})
        macro = metrics["all_tasks_macro"]
        rows.append({**base, "task": "all", "level": "macro", "n": sum(e["n"] for e in metrics["by_task"].values()),
                     "errors": sum(e["errors"] for e in metrics["by_task"].values()), **{c: macro.get(c) for c in columns}})
    return rows


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown_table(rows: list[dict], columns: tuple[str, ...]) -> str:
    header = ["task", "level", "n", "errors", *columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(header) - 2)) + "|"]
    for row in rows:
        cells = [f"**{row[h]}**" if row["level"] == "macro" and h in ("task", "level") else _fmt(row.get(h)) for h in header]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_summary(summary: dict) -> str:
    """The markdown table(s) of one run's summary (what ``mgsd eval`` prints)."""
    run = {**summary, "run": summary.get("label") or summary.get("model") or "run",
           "label": summary.get("label") or summary.get("model") or "run"}
    parts = []
    for variant, _, columns in _views(run):
        rows = [r for r in table_rows(run) if r["variant"] == variant]
        parts.append(f"{run['pipeline']} ({variant}), model {summary.get('model')}:\n" + markdown_table(rows, columns))
    return "\n\n".join(parts)


def _headline_table(runs: list[dict]) -> str:
    lines = ["| run | pipeline | variant | all-task macro | " + " | ".join(("frozenlake", "maze", "minibehaviour")) + " | errors |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for run in runs:
        for variant, metrics, columns in _views(run):
            key = columns[0]
            per_task = [_fmt(metrics["by_task"][t][key]) if t in metrics["by_task"] else "-"
                        for t in ("frozenlake", "maze", "minibehaviour")]
            lines.append(f"| {run['label']} | {run['pipeline']} | {variant} | {_fmt(metrics['all_tasks_macro'].get(key))} | "
                         + " | ".join(per_task) + f" | {run['errors']} |")
    return "\n".join(lines)


def _gap_table(run: dict) -> str:
    gap = run["metrics"]["gap"]
    visual, symbolic = run["metrics"]["visual"], run["metrics"]["symbolic"]
    lines = ["| task | level | visual success | symbolic success | gap (symbolic - visual) |", "|---|---|---:|---:|---:|"]
    for task, levels in gap["by_task_level"].items():
        for level, value in levels.items():
            lines.append(f"| {task} | {level} | {_fmt(visual['by_task_level'][task][level]['success'])} | "
                         f"{_fmt(symbolic['by_task_level'][task][level]['success'])} | {value:+.3f} |")
        lines.append(f"| **{task}** | **macro** | {_fmt(visual['by_task'][task]['success'])} | "
                     f"{_fmt(symbolic['by_task'][task]['success'])} | {gap['by_task'][task]:+.3f} |")
    lines.append(f"| **all** | **macro** | {_fmt(visual['all_tasks_macro']['success'])} | "
                 f"{_fmt(symbolic['all_tasks_macro']['success'])} | {gap['all_tasks_macro']:+.3f} |")
    return "\n".join(lines)


def plot_success_by_level(runs: list[dict], path: Path) -> bool:
    """One panel per task, success by level, one line per run (and per modality for gap runs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = [(run["label"] if run["pipeline"] == "planning" else f"{run['label']} ({variant})", metrics)
             for run in runs if run["pipeline"] != "perception" for variant, metrics, _ in _views(run)]
    tasks = [t for t in ("frozenlake", "maze", "minibehaviour") if any(t in m["by_task_level"] for _, m in lines)]
    if not tasks:
        return False
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for label, metrics in lines:
            levels = metrics["by_task_level"].get(task)
            if levels:
                xs = sorted(int(l) for l in levels)
                ax.plot(xs, [levels[str(x)]["success"] for x in xs], marker="o", label=label)
        ax.set_title(task)
        ax.set_xticks(sorted({int(l) for _, m in lines for l in m["by_task_level"].get(task, {})}))
        ax.set_xlabel("level (grid side)")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("planning success")
    axes[0][-1].legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def plot_modality_gap(runs: list[dict], path: Path) -> bool:
    """Visual vs symbolic success bars per task (and the all-task macro), one group of bars per gap run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gap_runs = [r for r in runs if r["pipeline"] == "modality-gap"]
    if not gap_runs:
        return False
    tasks = [t for t in ("frozenlake", "maze", "minibehaviour") if any(t in r["metrics"]["visual"]["by_task"] for r in gap_runs)]
    groups = tasks + ["all tasks (macro)"]
    width = 0.8 / (2 * len(gap_runs))
    fig, ax = plt.subplots(figsize=(1.9 * len(groups) + 2, 3.8))
    for i, run in enumerate(gap_runs):
        for j, modality in enumerate(("visual", "symbolic")):
            metrics = run["metrics"][modality]
            values = [metrics["by_task"].get(t, {}).get("success", 0.0) for t in tasks] + [metrics["all_tasks_macro"]["success"]]
            offset = (2 * i + j) * width - 0.4 + width / 2
            ax.bar([k + offset for k in range(len(groups))], values, width, label=f"{run['label']} {modality}",
                   hatch="" if modality == "visual" else "//", alpha=0.9)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("planning success")
    ax.set_ylim(0, 1.05)
    ax.set_title("modality gap: image input vs symbolic text input")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def write_report(run_paths: list[str], out: str | Path | None = None) -> Path:
    runs = [load_run(p) for p in run_paths]
    if out is None:
        if len(runs) > 1:
            raise TaskError("--out is required when reporting several runs")
        out = Path(run_paths[0]) / "report"
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [row for run in runs for row in table_rows(run)]
    atomic_write_json(out / "report.json", {"headline": "planning success, all-task macro (MGSD's headline)",
                                            "runs": runs, "rows": rows})
    fields = ["run", "label", "pipeline", "variant", "task", "level", "n", "errors", *PLAN_COLUMNS, *PERCEPTION_COLUMNS]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out / "report.csv", buf.getvalue())
    md = ["# Evaluation report", "", "Headline: planning success averaged over levels within each task, then over tasks "
          "(all-task macro). Perception rows give field accuracy.", "", _headline_table(runs), ""]
    plots = []
    if plot_success_by_level(runs, out / "success_by_level.png"):
        plots.append("success_by_level.png")
    if plot_modality_gap(runs, out / "modality_gap.png"):
        plots.append("modality_gap.png")
    for run in runs:
        for variant, _, columns in _views(run):
            md += [f"## {run['label']}: {run['pipeline']} ({variant})", "", f"Run folder: `{run['run']}`; model "
                   f"`{run.get('model')}`; {run['cases']} cases, {run['errors']} errors.", "",
                   markdown_table([r for r in rows if r["run"] == run["run"] and r["variant"] == variant], columns), ""]
        if run["pipeline"] == "modality-gap":
            md += [f"### {run['label']}: modality gap", "", _gap_table(run), ""]
    md += [f"![{p}]({p})" for p in plots]
    atomic_write_text(out / "report.md", "\n".join(md) + "\n")
    return out
