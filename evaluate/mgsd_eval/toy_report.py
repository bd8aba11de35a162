"""The toy table of ``make toy`` (toy.sh): one row per model and input, from the report ``mgsd report`` wrote.

    python -m mgsd_eval.toy_report --runs runs/toy --out runs/toy/report [--seed 0 --command "make toy"]
        [--settings-key KEY]
        [--publish evaluate/toy_report --readme README.md]

Reads ``OUT/report.json`` (the rows of ``mgsd report``, with their 95% intervals: Wilson per cell, a stratified
bootstrap for the macros) and writes into OUT:

- ``toy.md``: the toy table (rows: base visual, base symbolic, +perception SFT, +OPCD, OPCD without perception SFT,
  plan SFT on images; columns: success per task (macro over levels), the all-task macro success, optimal and
  progress (all-task macros), perception field accuracy (all-task macro); brackets are the 95% intervals), the
  modality gap closed by each model, the training summary, the command, seeds and stage times;
- ``summary.json``: each row name -> its metrics (``all_tasks_macro_success`` and its interval, per task success,
  optimal, progress, perception accuracy), the gap closed, the command, seed and times;
- ``toy_macro.png``: all-task macro success per row with its interval, the base's symbolic success as a line.

Gap closed (%) = (visual success of the model - base visual) / (base symbolic - base visual) x 100, on the
all-task macro; it is undefined (null) when the base plans no better from text than from the image.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from task_envs.errors import TaskError
from task_envs.io_utils import atomic_write_json, atomic_write_text
from task_envs.registry import TASKS

from .diagnostics import diagnostics_md

#: summary.json name -> (label of the run in toy.sh, pipeline, variant, what the row is)
ROWS = {
    "base_visual": ("base", "modality-gap", "visual", "base (toy text planner), image"),
    "base_symbolic": ("base", "modality-gap", "symbolic", "base, symbolic state (text)"),
    "perception_sft": ("perception_sft", "planning", "student", "+ perception SFT, image"),
    "opcd": ("opcd", "planning", "student", "+ perception SFT + OPCD, image"),
    "opcd_no_perception": ("opcd_no_perception", "planning", "student", "OPCD without perception SFT, image"),
    "plan_sft": ("plan_sft", "planning", "student", "perception SFT + plan SFT on images, image"),
}
#: The label whose perception run gives a row's perception accuracy (base_symbolic has none: no image).
PERCEPTION_OF = {
    "base_visual": "base",
    "perception_sft": "perception_sft",
    "opcd": "opcd",
    "opcd_no_perception": "opcd_no_perception",
    "plan_sft": "plan_sft",
}
PAPER = {"Qwen3-VL-4B": (11.2, 30.5), "Qwen3-VL-8B": (17.2, 35.6)}


def _find(
    rows: list[dict], label: str, pipeline: str, variant: str | None, task: str, level: str = "macro"
) -> dict | None:
    for row in rows:
        if (
            row["label"] == label
            and row["pipeline"] == pipeline
            and (variant is None or row["variant"] == variant)
            and row["task"] == task
            and str(row["level"]) == level
        ):
            return row
    return None


def _ci(row: dict | None) -> list[float] | None:
    if not row or row.get("ci_low") is None:
        return None
    return [row["ci_low"], row["ci_high"]]


def toy_rows(report: dict) -> dict[str, dict]:
    """summary.json's ``rows``: each row name -> its metrics (rows whose run is missing are left out)."""
    rows = report["rows"]
    out = {}
    for name, (label, pipeline, variant, what) in ROWS.items():
        macro = _find(rows, label, pipeline, variant, "all")
        if macro is None:
            continue
        entry = {
            "what": what,
            "label": label,
            "pipeline": pipeline,
            "variant": variant,
            "n": macro["n"],
            "errors": macro["errors"],
            "all_tasks_macro_success": macro["success"],
            "all_tasks_macro_success_ci": _ci(macro),
            "optimal": macro["optimal"],
            "progress": macro["progress"],
            "format": macro["format"],
            "parse": macro["parse"],
            "by_task_success": {},
            "by_task_success_ci": {},
            "by_task_level_success": {},
        }
        for task in TASKS:
            row = _find(rows, label, pipeline, variant, task)
            if row is not None:
                entry["by_task_success"][task] = row["success"]
                entry["by_task_success_ci"][task] = _ci(row)
                entry["by_task_level_success"][task] = {
                    str(r["level"]): r["success"]
                    for r in rows
                    if r["label"] == label
                    and r["pipeline"] == pipeline
                    and r["variant"] == variant
                    and r["task"] == task
                    and r["level"] != "macro"
                }
        perception = _find(rows, PERCEPTION_OF[name], "perception", None, "all") if name in PERCEPTION_OF else None
        entry["perception_field_accuracy"] = perception["field_accuracy"] if perception else None
        entry["perception_field_accuracy_ci"] = _ci(perception)
        entry["perception_all_correct"] = perception["all_correct"] if perception else None
        out[name] = entry
    return out


def gap_closed(rows: dict[str, dict]) -> dict[str, float | None]:
    """Per visual row: the share (%) of the base's modality gap (all-task macro) it closes."""
    if "base_visual" not in rows or "base_symbolic" not in rows:
        return {}
    visual = rows["base_visual"]["all_tasks_macro_success"]
    gap = rows["base_symbolic"]["all_tasks_macro_success"] - visual
    return {
        name: (100.0 * (r["all_tasks_macro_success"] - visual) / gap if gap > 0 else None)
        for name, r in rows.items()
        if name != "base_symbolic"
    }


def _pct(value, ci=None) -> str:
    if value is None:
        return "-"
    text = f"{100 * value:.1f}"
    return text + (f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else "")


def table_md(rows: dict[str, dict], closed: dict[str, float | None]) -> str:
    header = ["row", "input", *TASKS, "all-task macro", "optimal", "progress", "perception acc.", "gap closed"]
    lines = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(header) - 2)]
    for name, r in rows.items():
        cells = [f"`{name}`", r["what"]]
        cells += [_pct(r["by_task_success"].get(t), r["by_task_success_ci"].get(t)) for t in TASKS]
        cells += [
            f"**{_pct(r['all_tasks_macro_success'], r['all_tasks_macro_success_ci'])}**",
            _pct(r["optimal"]),
            _pct(r["progress"]),
            _pct(r["perception_field_accuracy"], r["perception_field_accuracy_ci"]),
        ]
        c = closed.get(name)
        cells.append("-" if c is None else f"{c:.0f}%")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: dict[str, dict], path: Path) -> bool:
    if not rows:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in rows if n != "base_symbolic"]
    values = [100 * rows[n]["all_tasks_macro_success"] for n in names]
    errs = [
        [0, 0]
        if not rows[n]["all_tasks_macro_success_ci"]
        else [
            100 * (rows[n]["all_tasks_macro_success"] - rows[n]["all_tasks_macro_success_ci"][0]),
            100 * (rows[n]["all_tasks_macro_success_ci"][1] - rows[n]["all_tasks_macro_success"]),
        ]
        for n in names
    ]
    colours = {
        "base_visual": "#9e9e9e",
        "perception_sft": "#64b5f6",
        "opcd": "#1565c0",
        "opcd_no_perception": "#ffb74d",
        "plan_sft": "#81c784",
    }
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    bars = ax.bar(
        range(len(names)),
        values,
        yerr=list(zip(*errs)) if errs else None,
        capsize=4,
        color=[colours.get(n, "#bbbbbb") for n in names],
        edgecolor="black",
        linewidth=0.6,
    )
    for bar, v, (_, up) in zip(bars, values, errs):  # above the interval, so the error bar's cap does not cross it
        ax.text(bar.get_x() + bar.get_width() / 2, v + up + 1, f"{v:.1f}", ha="center", va="bottom", fontsize=9)
    if "base_symbolic" in rows:
        sym = 100 * rows["base_symbolic"]["all_tasks_macro_success"]
        ax.axhline(sym, color="#c62828", linestyle="--", linewidth=1.2)
        ax.text(len(names) - 0.5, sym + 1, f"base, symbolic input: {sym:.1f}", color="#c62828", ha="right", fontsize=9)
    ax.set_xticks(range(len(names)), [n.replace("_", "\n") for n in names], fontsize=9)
    ax.set_ylabel("planning success from the image, %\n(all-task macro, 95% interval)")
    top = max(values + ([100 * rows["base_symbolic"]["all_tasks_macro_success"]] if "base_symbolic" in rows else []))
    ax.set_ylim(0, min(100, top + 15))
    ax.set_title("Toy-scale MGSD (make toy): visual planning success by stage")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_toy_report(
    runs: Path,
    out: Path,
    seed: int | None = None,
    command: str | None = None,
    stage_seconds: Path | None = None,
    settings_key: str | None = None,
) -> dict:
    report_path = out / "report.json"
    if not report_path.is_file():
        raise TaskError(f"{report_path}: not found (run mgsd report over the toy runs first)")
    report = json.loads(report_path.read_text())
    rows = toy_rows(report)
    if not rows:
        raise TaskError(
            f"{report_path}: none of the toy runs ({', '.join(sorted({v[0] for v in ROWS.values()}))}) is in it"
        )
    closed = gap_closed(rows)
    seconds = {}
    if stage_seconds and stage_seconds.is_file():
        for line in stage_seconds.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                seconds[parts[0]] = int(parts[1])  # the latest run of a stage wins
    delta = None
    if "opcd" in rows and "perception_sft" in rows:
        delta = rows["opcd"]["all_tasks_macro_success"] - rows["perception_sft"]["all_tasks_macro_success"]
    summary = {
        "headline": "planning success, all-task macro (MGSD's headline)",
        "rows": rows,
        "gap_closed_pct": closed,
        "opcd_minus_perception_sft": delta,
        "base_modality_gap": (
            rows["base_symbolic"]["all_tasks_macro_success"] - rows["base_visual"]["all_tasks_macro_success"]
            if "base_symbolic" in rows and "base_visual" in rows
            else None
        ),
        "training": report.get("training", []),
        "seed": seed,
        "command": command,
        "settings_key": settings_key,
        "stage_seconds": seconds,
        "paper_macro_success_pct": {k: {"base": a, "mgsd": b} for k, (a, b) in PAPER.items()},
        "intervals": report.get("intervals"),
        "diagnostics": report.get("diagnostics") or {},
    }
    atomic_write_json(out / "summary.json", summary)
    drawn = plot(rows, out / "toy_macro.png")
    md = [
        "# Toy-scale MGSD (make toy)",
        "",
        "## Toy table",
        "",
        "Planning success in % on the toy test split (FrozenLake 3-4, Maze 3-4, MiniBehaviour 4-5), greedy decoding; "
        "task columns are macros over levels, `all-task macro` is MGSD's headline; brackets: 95% intervals "
        "(bootstrap over cases within each level); optimal and progress are all-task macros; perception accuracy is "
        "the all-task macro of field accuracy on the perception questions; gap closed = (success - base visual) / "
        "(base symbolic - base visual).",
        "",
        table_md(rows, closed),
        "",
    ]
    if delta is not None:
        md += [
            f"OPCD after perception SFT vs perception SFT alone: {100 * delta:+.1f} points of all-task macro success.",
            "",
        ]
    md += [
        "For scale, the paper (Qwen3-VL, base -> MGSD, all-task macro success on the public benchmarks): "
        + "; ".join(f"{k} {a} -> {b}" for k, (a, b) in PAPER.items())
        + ".",
        "",
    ]
    if report.get("training"):
        md += [
            "## OPCD training",
            "",
            "| run | trainer | steps | reverse KL (first -> last) | val macro success (first -> last) |",
            "|---|---|---:|---:|---:|",
        ]
        for t in report["training"]:
            s = t.get("series") or {}
            kl = s.get("actor/reverse_kl") or s.get("actor/distillation/abs_loss")
            val = s.get("val/reward_score")
            md.append(
                f"| {t.get('label')} | {t.get('trainer')} | {t.get('steps')} | "
                f"{f'{kl[0][1]:.3f} -> {kl[-1][1]:.3f}' if kl else '-'} | "
                f"{f'{val[0][1]:.3f} -> {val[-1][1]:.3f}' if val else '-'} |"
            )
        md += ["", "Curves: `training_curves.png`.", ""]
    md += diagnostics_md(report.get("diagnostics") or {})
    if "diagnostics.png" in report.get("plots", []):
        md += ["![diagnostics](diagnostics.png)", ""]
    md += [
        "## Reproduce",
        "",
        f"Command: `{command or 'make toy'}`; seed {seed} (data generation and every training "
        "seed; evaluation is greedy).",
        "",
    ]
    if seconds:
        md += [
            "Stage times (s): "
            + ", ".join(f"{k} {v}" for k, v in seconds.items())
            + f"; total {sum(seconds.values())} s.",
            "",
        ]
    if drawn:
        md += ["![toy macro](toy_macro.png)", ""]
    atomic_write_text(out / "toy.md", "\n".join(md) + "\n")
    return summary


README_START, README_END = "<!-- toy-results:start -->", "<!-- toy-results:end -->"


def check_readme_section(readme: Path, start: str, end: str) -> str:
    """``readme``'s text, which must hold exactly one ``start`` and one ``end`` marker line."""
    text = readme.read_text()
    if text.count(start) != 1 or text.count(end) != 1:
        raise TaskError(f"{readme}: needs exactly one {start} and one {end} line")
    return text


def rewrite_readme_section(readme: Path, text: str, start: str, end: str, body: str) -> None:
    """Write ``text`` (``readme``'s, checked) back with what lies between the markers replaced by ``body``."""
    head, rest = text.split(start, 1)
    atomic_write_text(readme, f"{head}{start}\n{body.strip()}\n{end}{rest.split(end, 1)[1]}")


def publish(out: Path, dest: Path, readme: Path | None = None) -> None:
    """Copy the toy report's files from ``out`` into ``dest`` (committed next to the code) and, with ``readme``,
    replace the text between its toy-results markers by toy.md's table section, images pointing into ``dest``."""
    import shutil

    names = [
        "toy.md",
        "summary.json",
        "toy_macro.png",
        "training_curves.png",
        "diagnostics.png",
        "report.md",
        "report.csv",
    ]
    missing = [n for n in names[:3] if not (out / n).is_file()]
    if missing:
        raise TaskError(f"{out}: {', '.join(missing)} missing (write the toy report first)")
    text = check_readme_section(readme, README_START, README_END) if readme else None
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (out / name).is_file():
            shutil.copyfile(out / name, dest / name)
    if text is None:
        return
    body = (out / "toy.md").read_text().split("\n## Toy table\n", 1)[-1]
    rel = dest.resolve().relative_to(readme.resolve().parent)
    for image in (n for n in names if n.endswith(".png")):
        body = body.replace(f"]({image})", f"]({rel}/{image})").replace(f"`{image}`", f"`{rel}/{image}`")
    # toy.md's sections (## and ###) sit under the README's "### Results of the toy experiment"
    body = body.replace("\n### ", "\n##### ").replace("\n## ", "\n#### ")
    rewrite_readme_section(readme, text, README_START, README_END, body)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="The toy table and summary.json of make toy, from mgsd report's report.json."
    )
    parser.add_argument("--runs", required=True, help="the toy run root (runs/toy)")
    parser.add_argument(
        "--out", help="folder holding report.json; toy.md, summary.json, toy_macro.png go there (default: RUNS/report)"
    )
    parser.add_argument("--seed", type=int, help="the seed of the run, recorded")
    parser.add_argument("--command", help="the command that produced the runs, recorded")
    parser.add_argument(
        "--settings-key",
        help="a fingerprint of every setting but the seed (toy.sh's), recorded: "
        "mgsd_eval.toy_seeds puts only runs with the same one side by side",
    )
    parser.add_argument("--stage-seconds", help="file of 'stage seconds' lines (toy.sh's logs/stage_seconds.txt)")
    parser.add_argument("--publish", help="also copy the report's files into this folder (e.g. evaluate/toy_report)")
    parser.add_argument("--readme", help="with --publish: rewrite this README's toy-results section from toy.md")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else Path(args.runs) / "report"
    try:
        summary = write_toy_report(
            Path(args.runs),
            out,
            args.seed,
            args.command,
            Path(args.stage_seconds) if args.stage_seconds else None,
            args.settings_key,
        )
        if args.publish:
            publish(out, Path(args.publish), Path(args.readme) if args.readme else None)
    except TaskError as exc:
        print(f"mgsd_eval.toy_report: error: {exc}", file=sys.stderr)
        return 2
    print(out / "toy.md")
    for name, r in summary["rows"].items():
        print(f"{name}: all-task macro success {r['all_tasks_macro_success']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
