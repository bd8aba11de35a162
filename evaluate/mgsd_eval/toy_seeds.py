"""The toy table over seeds: several ``make toy`` runs (one per seed) side by side, with their mean and spread.

    python -m mgsd_eval.toy_seeds runs/toy runs/toy1 runs/toy2 --out runs/toy_seeds [--readme README.md]

Reads each run root's ``report/summary.json`` (mgsd_eval.toy_report) and writes into OUT:

- ``seeds.md``: per row, the all-task macro success of every seed, their mean and sample standard deviation; the
  same for OPCD after perception SFT minus perception SFT alone, and for the modality gap closed;
- ``seeds.json``: the same figures, with each run's seed, command and total stage time.

Runs made with other settings than the first (their recorded settings key: every toy.sh setting but the seed)
are refused: a table over seeds compares seeds, nothing else. With ``--readme``, the text between the README's toy-seeds markers becomes
seeds.md's table.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

from task_envs.errors import TaskError
from task_envs.io_utils import atomic_write_json, atomic_write_text

from .toy_report import ROWS, _pct, check_readme_section, rewrite_readme_section

README_START, README_END = "<!-- toy-seeds:start -->", "<!-- toy-seeds:end -->"


def _load(root: Path) -> dict:
    path = root / "report" / "summary.json"
    if not path.is_file():
        raise TaskError(f"{path}: not found (run make toy for that seed first)")
    summary = json.loads(path.read_text())
    if summary.get("seed") is None or "rows" not in summary:
        raise TaskError(f"{path}: no seed or rows (not a toy report summary)")
    return summary


def _spread(values: list[float | None]) -> dict:
    known = [v for v in values if v is not None]
    return {
        "values": values,
        "mean": statistics.fmean(known) if known else None,
        "sd": statistics.stdev(known) if len(known) > 1 else None,
    }


def seed_table(roots: list[Path]) -> dict:
    """The figures of seeds.json from the toy runs in ``roots`` (one per seed, same settings)."""
    summaries = [_load(root) for root in roots]
    seeds = [s["seed"] for s in summaries]
    if len(set(seeds)) != len(seeds):
        raise TaskError(f"seeds repeat across the runs: {seeds}")
    keys = [s.get("settings_key") for s in summaries]
    for root, key in zip(roots, keys):
        if key is None:
            raise TaskError(
                f"{root / 'report' / 'summary.json'}: no settings_key (made before toy.sh recorded one; rerun it)"
            )
        if key != keys[0]:
            raise TaskError(
                f"{root}: settings key {key} differs from {roots[0]}'s {keys[0]}: other settings than the seed"
            )
    rows = {}
    for name in ROWS:
        values = [s["rows"].get(name, {}).get("all_tasks_macro_success") for s in summaries]
        if any(v is not None for v in values):
            rows[name] = _spread(values)
    return {
        "seeds": seeds,
        "runs": [str(r) for r in roots],
        "settings_key": keys[0],
        "command": summaries[0].get("command"),
        "all_tasks_macro_success": rows,
        "opcd_minus_perception_sft": _spread([s.get("opcd_minus_perception_sft") for s in summaries]),
        "opcd_gap_closed_pct": _spread([(s.get("gap_closed_pct") or {}).get("opcd") for s in summaries]),
        "total_seconds": [sum((s.get("stage_seconds") or {}).values()) for s in summaries],
    }


def seeds_md(table: dict) -> str:
    seeds = table["seeds"]
    head = ["row", *(f"seed {s}" for s in seeds), "mean", "sd"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]

    def line(name: str, spread: dict, unit: float = 1.0) -> str:  # unit: 100 for figures already in %
        cells = [_pct(None if v is None else v / unit) for v in (*spread["values"], spread["mean"], spread["sd"])]
        cells[-2] = f"**{cells[-2]}**"
        return "| " + " | ".join([name, *cells]) + " |"

    for name, spread in table["all_tasks_macro_success"].items():
        lines.append(line(f"`{name}`", spread))
    lines.append(line("OPCD minus perception SFT (points)", table["opcd_minus_perception_sft"]))
    lines.append(line("OPCD: modality gap closed (%)", table["opcd_gap_closed_pct"], unit=100.0))
    minutes = ", ".join(f"{t / 60:.0f}" for t in table["total_seconds"])
    return "\n".join(
        [
            f"All-task macro planning success in % on each seed's test split (greedy), {len(seeds)} seeds of "
            f"`SEED=<seed> {re.sub(r'SEED=[0-9]+ *', '', table['command'] or 'make toy')}` (settings key "
            f"{table['settings_key']}); sd is the sample standard deviation over seeds.",
            "",
            *lines,
            "",
            f"Time per seed (minutes, the stages that ran): {minutes}.",
        ]
    )


def write_seed_report(roots: list[Path], out: Path, readme: Path | None = None) -> dict:
    table = seed_table(roots)
    md = seeds_md(table)
    text = check_readme_section(readme, README_START, README_END) if readme else None
    atomic_write_json(out / "seeds.json", table)
    atomic_write_text(out / "seeds.md", "# Toy-scale MGSD over seeds\n\n" + md + "\n")
    if text is not None:
        rewrite_readme_section(readme, text, README_START, README_END, md)
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="The toy table over seeds, from several make toy runs.")
    parser.add_argument("runs", nargs="+", help="toy run roots, one per seed (runs/toy runs/toy1 ...)")
    parser.add_argument("--out", required=True, help="folder for seeds.md and seeds.json")
    parser.add_argument("--readme", help="also rewrite this README's toy-seeds section from seeds.md")
    args = parser.parse_args(argv)
    try:
        table = write_seed_report(
            [Path(r) for r in args.runs], Path(args.out), Path(args.readme) if args.readme else None
        )
    except TaskError as exc:
        print(f"mgsd_eval.toy_seeds: error: {exc}", file=sys.stderr)
        return 2
    print(Path(args.out) / "seeds.md")
    for name, spread in table["all_tasks_macro_success"].items():
        sd = "" if spread["sd"] is None else f" (sd {100 * spread['sd']:.1f})"
        print(f"{name}: mean all-task macro success {100 * spread['mean']:.1f}{sd} over seeds {table['seeds']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
