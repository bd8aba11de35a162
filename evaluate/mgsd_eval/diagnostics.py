"""Per-case diagnostics of a model (a run label): where its planning failures come from.

Over the test cases two runs of the same label share, per task, four counts each:

- ``perception_x_planning``: the perception run's reply had every field right (``all_correct``) or not, by the
  planning run's reply solving the case or not (the student prompt's planning run; without one, the image side
  of the modality-gap run, which asks the same). Failed plans that come with a wrongly read state point at state
  recovery; failed plans from a rightly read state point at path reasoning.
- ``symbolic_x_visual``: the modality-gap run solved the case from the symbolic state or not, by from the image
  or not. ``symbolic_only`` are the cases the model can plan but not see.

Rows with a request error are left out; only cases present in both runs count (``cases``).
"""

from __future__ import annotations

from pathlib import Path

from .runner import RESULTS, read_results

PERCEPTION_X_PLANNING = ("perceived_solved", "perceived_failed", "misperceived_solved", "misperceived_failed")
SYMBOLIC_X_VISUAL = ("both_solved", "symbolic_only", "visual_only", "neither")
LABELS = {
    "perceived_solved": "state right, solved",
    "perceived_failed": "state right, failed",
    "misperceived_solved": "state wrong, solved",
    "misperceived_failed": "state wrong, failed",
    "both_solved": "solved from both",
    "symbolic_only": "symbolic only",
    "visual_only": "image only",
    "neither": "neither",
}


def _outcomes(run: dict, variant: str | None = None) -> dict[str, tuple[str, dict]]:
    """case id -> (task, scores) of the run's rows without an error (of ``variant`` when given)."""
    rows = read_results(Path(run["run"]) / RESULTS).values()
    return {
        r["case_id"]: (r["task"], r["scores"])
        for r in rows
        if not r.get("error") and r.get("scores") is not None and variant in (None, r.get("variant"))
    }


def _cross(first: dict, second: dict, keys: tuple[str, ...], a: str, b: str) -> dict[str, dict]:
    """Per task: the four counts of (first[a] true/false) x (second[b] true/false) over their shared cases."""
    out: dict[str, dict] = {}
    for case in first.keys() & second.keys():
        task = first[case][0]
        cell = out.setdefault(task, {"cases": 0, **dict.fromkeys(keys, 0)})
        cell["cases"] += 1
        cell[keys[2 * (not first[case][1][a]) + (not second[case][1][b])]] += 1
    return out


def diagnostics(runs: list[dict]) -> dict[str, dict[str, dict]]:
    """``{label: {task: {"perception_x_planning": counts, "symbolic_x_visual": counts}}}`` for the labels with
    the runs each needs (planning: the student prompt's run when there are several)."""
    by_label: dict[str, dict[str, dict]] = {}
    for run in runs:
        slot = by_label.setdefault(run["label"], {})
        if run["pipeline"] != "planning" or (run.get("prompt") or "student") == "student" or "planning" not in slot:
            slot[run["pipeline"]] = run
    out: dict[str, dict[str, dict]] = {}
    for label, pipelines in by_label.items():
        planning = (
            _outcomes(pipelines["planning"])
            if "planning" in pipelines
            else _outcomes(pipelines["modality-gap"], "visual")
            if "modality-gap" in pipelines
            else None
        )
        if "perception" in pipelines and planning is not None:
            crossed = _cross(
                _outcomes(pipelines["perception"]), planning, PERCEPTION_X_PLANNING, "all_correct", "success"
            )
            for task, counts in crossed.items():
                out.setdefault(label, {}).setdefault(task, {})["perception_x_planning"] = counts
        if "modality-gap" in pipelines:
            gap = pipelines["modality-gap"]
            crossed = _cross(
                _outcomes(gap, "symbolic"), _outcomes(gap, "visual"), SYMBOLIC_X_VISUAL, "success", "success"
            )
            for task, counts in crossed.items():
                out.setdefault(label, {}).setdefault(task, {})["symbolic_x_visual"] = counts
    return out


def diagnostics_md(diag: dict) -> list[str]:
    """The report's section: one table per cross-tabulation (counts, and shares of the cases)."""
    if not diag:
        return []
    md = [
        "## Diagnostics",
        "",
        "Per model and task, over the test cases both runs share (request errors left out). **Perception x "
        "planning**: the perception reply had every field right (state right) or not, by the planning reply "
        "solving the case or not: failures with the state wrong point at reading the image, failures with the "
        "state right at planning. **Symbolic x image**: solved from the symbolic state or not, by solved from "
        "the image or not: *symbolic only* are the cases the model can plan but not see.",
        "",
    ]
    for name, keys, title in (
        ("perception_x_planning", PERCEPTION_X_PLANNING, "Perception x planning"),
        ("symbolic_x_visual", SYMBOLIC_X_VISUAL, "Symbolic x image"),
    ):
        lines = [
            [label, task, str(e[name]["cases"]), *(f"{e[name][k]} ({e[name][k] / e[name]['cases']:.0%})" for k in keys)]
            for label, tasks in diag.items()
            for task, e in tasks.items()
            if name in e
        ]
        if lines:
            header = ["run", "task", "cases", *(LABELS[k] for k in keys)]
            md += [
                f"### {title}",
                "",
                "| " + " | ".join(header) + " |",
                "|---|---|" + "---:|" * (len(header) - 2),
                *("| " + " | ".join(l) + " |" for l in lines),
                "",
            ]
    return md


def plot_diagnostics(diag: dict, path: Path) -> bool:
    """Two panels of stacked bars, one bar per model and task, shares of the four counts; False: nothing to draw."""
    from .plots import pyplot

    panels = [
        (name, keys, title)
        for name, keys, title in (
            ("perception_x_planning", PERCEPTION_X_PLANNING, "perception x planning"),
            ("symbolic_x_visual", SYMBOLIC_X_VISUAL, "symbolic x image"),
        )
        if any(name in e for tasks in diag.values() for e in tasks.values())
    ]
    if not panels:
        return False
    plt = pyplot()
    bars = max(sum(name in e for tasks in diag.values() for e in tasks.values()) for name, _, _ in panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 1.2 + 0.35 * bars), squeeze=False)
    colours = ("#55A868", "#DD8452", "#8172B2", "#C44E52")
    for ax, (name, keys, title) in zip(axes[0], panels):
        entries = [
            (f"{label} / {task}", e[name]) for label, tasks in diag.items() for task, e in tasks.items() if name in e
        ]
        for i, (_, counts) in enumerate(entries):
            left = 0.0
            for key, colour in zip(keys, colours):
                share = counts[key] / counts["cases"]
                ax.barh(i, share, left=left, color=colour, label=LABELS[key] if i == 0 else None)
                left += share
        ax.set_yticks(range(len(entries)), [e[0] for e in entries], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of the cases")
        ax.set_title(title)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
