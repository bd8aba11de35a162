"""Report plots that stay readable with many runs: grouped bars with 95% error bars and value labels, a
visible stub and a ``0`` label where a value is zero (no bar at all means no data), one panel per task
(success by level) or per run (modality gap)."""

from __future__ import annotations

from pathlib import Path

from .tables import View, task_columns, views

#: Height of the stub drawn for a zero value, in axis units (success rates).
ZERO_STUB = 0.015
VISUAL, SYMBOLIC = "#4C72B0", "#DD8452"
#: Hatch per variant (colour is the run label's): the same model's modalities and prompts side by side.
HATCH = {"student": None, "direct": "xx", "visual": "..", "symbolic": "//", "perception": None}


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def colours(n: int) -> list:
    plt = pyplot()
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def draw_bars(
    ax,
    xs,
    values,
    cis,
    width: float,
    colour,
    label: str | None = None,
    hatch: str | None = None,
    rotate: bool = False,
    fontsize: float = 7,
) -> None:
    """Bars at ``xs`` (None values are skipped), error bars from ``cis`` ((lo, hi) or None), value labels
    above the error bars, and a stub with a ``0`` label for zeros."""
    for i, (x, value, ci) in enumerate(zip(xs, values, cis)):
        if value is None:
            continue
        zero = abs(value) < 1e-12
        ax.bar(
            x,
            ZERO_STUB if zero else value,
            width,
            color=colour,
            edgecolor="black" if zero else colour,
            linewidth=0.8 if zero else 0,
            hatch=hatch,
            hatchcolor="white",
            label=label if i == _first(values) else None,
        )
        top, mark = value, ""
        if ci is not None and ci[1] - ci[0] < 1e-12:
            mark = "†"  # a zero-width bootstrap interval: every case agreed, not certainty
        elif ci is not None:
            lo, hi = ci
            ax.errorbar(
                x,
                value,
                yerr=[[max(0.0, value - lo)], [max(0.0, hi - value)]],
                fmt="none",
                ecolor="black",
                elinewidth=0.8,
                capsize=2,
            )
            top = max(top, hi)
        ax.text(
            x,
            max(top, ZERO_STUB) + 0.02,
            ("0" if zero else f"{value:.2f}") + mark,
            ha="center",
            va="bottom",
            fontsize=fontsize,
            rotation=90 if rotate else 0,
        )


def _first(values) -> int:
    return next((i for i, v in enumerate(values) if v is not None), -1)


def _style(ax, rotate: bool) -> None:
    ax.set_ylim(-0.04, 1.32 if rotate else 1.18)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)


def _value(entry: dict | None, key: str = "success") -> float | None:
    """A summary entry's value, None where it has no scored case (all errored: no bar, not a zero)."""
    if not entry or entry.get("n") == 0 or entry.get("tasks") == 0:
        return None
    return entry.get(key)


def _ci(view: View, task: str, level: str | None):
    if not view.stats:
        return None
    entry = (
        view.stats["by_task_level"].get(task, {}).get(level) if level is not None else view.stats["by_task"].get(task)
    ) or {}
    return entry.get(f"{view.key}_ci")


def plan_views(runs: list[dict]) -> list[tuple[str, int, View]]:
    """(name, run index, view) of every planning-type view (planning runs, both modalities of gap runs)."""
    out = []
    for i, run in enumerate(runs):
        if run["pipeline"] == "perception":
            continue
        for view in views(run):
            plain = run["pipeline"] == "planning" and view.variant == "student"
            out.append((run["label"] if plain else f"{run['label']} ({view.variant})", i, view))
    return out


def plot_success_by_level(runs: list[dict], path: Path) -> bool:
    """One panel per task: success per level and the task macro, one bar per run (and modality), then a
    panel with each run's all-task macro (the headline)."""
    entries = plan_views(runs)
    tasks = [t for t in task_columns(runs) if any(t in v.metrics["by_task_level"] for _, _, v in entries)]
    if not tasks:
        return False
    plt = pyplot()
    labels = list(dict.fromkeys(runs[i]["label"] for _, i, _ in entries))
    by_label = dict(zip(labels, colours(len(labels))))
    palette = {i: by_label[runs[i]["label"]] for _, i, _ in entries}
    nb = len(entries)
    groups = {
        t: sorted({l for _, _, v in entries for l in v.metrics["by_task_level"].get(t, {})}, key=int) + ["macro"]
        for t in tasks
    }
    widest = max(len(g) for g in groups.values())
    rotate, fontsize = nb > 2, 7 if nb <= 4 else 6
    width = 0.8 / nb
    fig_w = min(30.0, max(8.0, 1.2 + widest * (0.32 * nb + 0.35)))
    fig, axes = plt.subplots(len(tasks) + 1, 1, figsize=(fig_w, 2.9 * (len(tasks) + 1)), squeeze=False)
    for ax, task in zip(axes[:, 0], tasks):
        for j, (_, i, view) in enumerate(entries):
            levels = view.metrics["by_task_level"].get(task, {})
            xs = [g + (j - (nb - 1) / 2) * width for g in range(len(groups[task]))]
            values = [
                _value(levels.get(l)) if l != "macro" else _value(view.metrics["by_task"].get(task))
                for l in groups[task]
            ]
            cis = [_ci(view, task, l if l != "macro" else None) for l in groups[task]]
            draw_bars(
                ax, xs, values, cis, width, palette[i], hatch=HATCH.get(view.variant), rotate=rotate, fontsize=fontsize
            )
        ax.set_xticks(
            range(len(groups[task])), [f"level {l}" if l != "macro" else "macro\n(levels)" for l in groups[task]]
        )
        ax.set_xlim(-0.6, widest - 0.4)
        ax.set_title(task, loc="left", fontsize=10, fontweight="bold")
        ax.set_ylabel("planning success")
        _style(ax, rotate)
    ax = axes[-1, 0]
    for j, (name, i, view) in enumerate(entries):
        draw_bars(
            ax,
            [j],
            [_value(view.metrics["all_tasks_macro"])],
            [(view.stats or {}).get("all_tasks_macro", {}).get("success_ci") if view.stats else None],
            0.6,
            palette[i],
            label=name,
            hatch=HATCH.get(view.variant),
            fontsize=fontsize + 1,
        )
    ax.set_xticks(
        range(nb),
        [name for name, _, _ in entries],
        rotation=20 if nb > 4 else 0,
        ha="right" if nb > 4 else "center",
        fontsize=8,
    )
    ax.set_xlim(-0.6, max(nb, widest) - 0.4)
    ax.set_title("all tasks: macro over tasks (MGSD's headline)", loc="left", fontsize=10, fontweight="bold")
    ax.set_ylabel("planning success")
    _style(ax, False)
    fig.legend(*ax.get_legend_handles_labels(), loc="upper center", ncol=min(nb, 6), fontsize=8, frameon=False)
    fig.text(
        0.01,
        0.003,
        "error bars: 95% intervals (levels: Wilson score; macros: stratified bootstrap).\n"
        "A black-edged stub labelled 0 is a zero; no bar means no cases; † a zero-width bootstrap interval "
        "(all cases agreed; not certainty).",
        fontsize=7,
        color="dimgray",
    )
    legend_rows = -(-nb // 6)
    fig.tight_layout(rect=(0, 0.35 / fig.get_figheight(), 1, 1 - 0.22 * legend_rows / fig.get_figheight()))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_modality_gap(runs: list[dict], path: Path) -> bool:
    """A panel per modality-gap run: visual vs symbolic success per task and for the all-task macro, with the
    gap (symbolic - visual) written above each pair."""
    gap_runs = [r for r in runs if r["pipeline"] == "modality-gap"]
    if not gap_runs:
        return False
    plt = pyplot()
    tasks = task_columns(gap_runs)
    ncols = min(3, len(gap_runs))
    nrows = -(-len(gap_runs) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(max(5.0, 1.3 * (len(tasks) + 1) + 1.0) * ncols, 3.4 * nrows), squeeze=False
    )
    for ax in axes.flat[len(gap_runs) :]:
        ax.set_visible(False)
    for ax, run in zip(axes.flat, gap_runs):
        for j, (view, colour) in enumerate(zip(views(run), (VISUAL, SYMBOLIC))):
            hatch = HATCH[view.variant]
            xs = [g + (j - 0.5) * 0.38 for g in range(len(tasks) + 1)]
            values = [_value(view.metrics["by_task"].get(t)) for t in tasks] + [_value(view.metrics["all_tasks_macro"])]
            cis = [_ci(view, t, None) for t in tasks] + [
                (view.stats or {}).get("all_tasks_macro", {}).get("success_ci") if view.stats else None
            ]
            draw_bars(ax, xs, values, cis, 0.38, colour, label=view.variant, hatch=hatch, fontsize=7)
        handles = ax.get_legend_handles_labels()
        gap = run["metrics"]["gap"]
        for g, value in enumerate([gap["by_task"].get(t) for t in tasks] + [gap["all_tasks_macro"]]):
            if value is not None:
                ax.text(g, 1.1, f"gap {value:+.2f}", ha="center", fontsize=7, color="dimgray")
        ax.set_xticks(range(len(tasks) + 1), [*tasks, "all tasks\n(macro)"], fontsize=8)
        ax.set_title(run["label"], loc="left", fontsize=10, fontweight="bold")
        ax.set_ylabel("planning success")
        _style(ax, False)
        ax.set_ylim(-0.04, 1.2)
    height = fig.get_figheight()
    fig.suptitle(
        "modality gap: image input (visual) vs symbolic text input, with 95% intervals",
        fontsize=10,
        y=1 - 0.08 / height,
        va="top",
    )
    fig.legend(*handles, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.32 / height), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.6 / height))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
