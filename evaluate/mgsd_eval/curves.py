"""Training curves of OPCD runs: reverse KL, validation macro success and response length per step, read from
either trainer's metrics, drawn into ``training_curves.png``.

- single-process trainer (``EasyR1/mgsd_opcd/sp_train.py``): ``OUTPUT_DIR/metrics.jsonl``, rows
  ``{"step": N, "actor/reverse_kl": ..., "val/reward_score": ..., "response_length/mean": ...}``;
- verl (its file logger): ``OUTPUT_DIR/metrics.jsonl``, rows ``{"step": N, "data": {...}}``, and on a resumed run
  the earlier files kept as ``metrics.<YYYYmmdd-HHMMSS>.jsonl``. The files are read oldest first; a later file
  replaces the steps it logs again (steps after the checkpoint it resumed from are redone).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from task_envs.errors import TaskError

#: Panels: (title, y label, [(key, line style)]) - the single-process key, then verl's.
PANELS = (
    (
        "reverse KL (student || teacher)",
        "KL estimate / distillation loss",
        (("actor/reverse_kl", "-"), ("actor/distillation/abs_loss", "-"), ("actor/distillation/loss", "--")),
    ),
    ("validation: all-task macro success", "val/reward_score", (("val/reward_score", "-"),)),
    ("response length", "tokens (mean)", (("response_length/mean", "-"),)),
)
KEYS = tuple(key for _, _, keys in PANELS for key, _ in keys)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


@dataclass
class TrainingRun:
    folder: str
    label: str
    trainer: str  #: "verl" | "single" | "empty"
    files: list[str] = field(default_factory=list)
    steps: dict[int, dict] = field(default_factory=dict)  #: step -> every key logged at that step

    def series(self, key: str) -> list[tuple[int, float]]:
        return [(s, float(m[key])) for s, m in sorted(self.steps.items()) if isinstance(m.get(key), (int, float))]


def metric_files(folder: Path) -> list[Path]:
    """A trainer's metric files, oldest first: ``metrics.<date>.jsonl`` (earlier parts of a resumed verl
    run, dated names sort by time), then ``metrics.jsonl``."""
    if folder.is_file():
        return [folder]
    dated = sorted(p for p in folder.glob("metrics.*.jsonl") if p.name != "metrics.jsonl")
    return dated + ([folder / "metrics.jsonl"] if (folder / "metrics.jsonl").is_file() else [])


def _read_rows(path: Path) -> list[tuple[int, dict, bool]]:
    """(step, metrics, verl format) of each row; a torn or foreign line is skipped."""
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(row, dict) or not isinstance(row.get("step"), int):
            continue
        if isinstance(row.get("data"), dict):
            out.append((row["step"], row["data"], True))
        else:
            out.append((row["step"], {k: v for k, v in row.items() if k != "step"}, False))
    return out


def read_training(folder: str | Path, label: str | None = None) -> TrainingRun:
    """The merged metrics of a training output folder (or one metrics file)."""
    folder = Path(folder)
    files = metric_files(folder)
    if not files:
        raise TaskError(f"{folder}: no metrics.jsonl (not an OPCD output folder, or training never logged)")
    run = TrainingRun(
        str(folder),
        label or (folder.parent.name if folder.is_file() else folder.name),
        "empty",
        [str(f) for f in files],
    )
    verl = False
    for path in files:
        rows = _read_rows(path)
        if rows:
            first = min(step for step, _, _ in rows)
            run.steps = {s: m for s, m in run.steps.items() if s <= first}  # redone after a resume
        for step, metrics, is_verl in rows:
            run.steps.setdefault(step, {}).update(metrics)
            verl |= is_verl
    if run.steps:
        run.trainer = "verl" if verl else "single"
    return run


def summary_of(run: TrainingRun) -> dict:
    """First/last values of each curve, the best validation score and its step (report.json, report.md)."""
    out = {
        "folder": run.folder,
        "label": run.label,
        "trainer": run.trainer,
        "files": run.files,
        "steps": max(run.steps) if run.steps else None,
        "series": {},
    }
    for key in KEYS:
        points = run.series(key)
        if points:
            out["series"][key] = points
    val = run.series("val/reward_score")
    if val:
        best = max(val, key=lambda p: (p[1], p[0]))
        out["best_val"] = {"step": best[0], "value": best[1]}
    return out


def _limits(ax, steps: list[int], values: list[float], bounded: bool) -> None:
    """Integer steps with a margin (a single step too); y from 0 (or below, for a negative loss); rates 0-1."""
    if steps:
        ax.set_xlim(min(steps) - 0.5, max(steps) + 0.5)
        if max(steps) - min(steps) < 4:  # too few for the locator to find integer ticks
            ax.set_xticks(range(min(steps), max(steps) + 1))
    if bounded:
        ax.set_ylim(-0.04, 1.04)
    elif values:
        low, high = min(0.0, min(values)), max(0.0, max(values))
        pad = 0.06 * (high - low) if high > low else 0.05
        ax.set_ylim(low - (pad if low < 0 else 0.05 * (high - low or 1)), high + pad if high > low else 1.0)


def plot_training_curves(runs: list[TrainingRun], path: Path) -> bool:
    """Three panels (reverse KL, validation macro success, response length), a line per run and key."""
    if not runs:
        return False
    from matplotlib.ticker import MaxNLocator

    from .plots import colours, pyplot

    plt = pyplot()
    palette = colours(len(runs))
    fig, axes = plt.subplots(1, len(PANELS), figsize=(5.2 * len(PANELS), 3.9), squeeze=False)
    for ax, (title, ylabel, keys) in zip(axes[0], PANELS):
        drawn, steps, values = 0, [], []
        for n, (run, colour) in enumerate(zip(runs, palette)):
            for key, style in keys:
                points = run.series(key)
                if not points:
                    continue
                xs, ys = zip(*points)
                steps += xs
                values += ys
                name = run.label if len(keys) == 1 else f"{run.label}: {key.split('/')[-1]}"
                ax.plot(
                    xs,
                    ys,
                    style,
                    color=colour,
                    marker=MARKERS[n % len(MARKERS)],
                    markersize=4,
                    linewidth=1.3,
                    label=name,
                    clip_on=False,
                )
                drawn += 1
        if not drawn:
            ax.text(
                0.5, 0.5, "not logged by these runs", ha="center", va="center", transform=ax.transAxes, color="dimgray"
            )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _limits(ax, steps, values, bounded=title.startswith("validation"))
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel, fontsize=8)
        ax.grid(alpha=0.3)
        if drawn:
            ax.legend(fontsize=7, loc="best", ncol=1 if drawn <= 6 else 2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
