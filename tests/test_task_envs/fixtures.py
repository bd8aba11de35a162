"""Writers of small benchmark fixtures in the public formats (benchmarks.md), made from our own instances."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from task_envs import get_task
from task_envs.render.frozenlake import draw_board

VSP_TOKEN = {"S": "@", "G": "*", "H": "#", "F": "_"}


def vsp_table(rows) -> str:
    level = len(rows)
    lines = ["| | " + " | ".join(f"Col {c + 1}" for c in range(level)) + " |", "| --- " * (level + 1) + "|"]
    for r, row in enumerate(rows):
        lines.append(f"| Row {r + 1} | " + " | ".join(VSP_TOKEN[t] for t in row) + " |")
    return "\n".join(lines) + "\n"


def write_vsp(root: Path, levels=(3, 4, 8), per_level=3) -> dict:
    """VSP-layout maps; images drawn like gymnasium does (64 px cells). Returns {(level, n): instance}."""
    task = get_task("frozenlake")
    written = {}
    for level in levels:
        (root / f"level{level}" / "table").mkdir(parents=True)
        (root / f"level{level}" / "img").mkdir(parents=True)
        for n in range(per_level):
            inst = task.generate(level, 1000 * level + n)
            (root / f"level{level}" / "table" / f"{n}.txt").write_text(vsp_table(inst.rows))
            draw_board(inst.rows).save(root / f"level{level}" / "img" / f"{n}.png")
            written[(level, n)] = inst
        (root / f"level{level}" / "metadata.json").write_text(json.dumps({f"{n}.png": "R" for n in range(per_level)}))
    return written


def visualplanning_meta(task_name: str, inst) -> dict:
    level = inst.level
    if task_name == "frozenlake":
        return {
            "level": level,
            "start_pos": inst.start[0] * level + inst.start[1],
            "target_pos": inst.goal[0] * level + inst.goal[1],
            "layout": [list(r) for r in inst.rows],
            "distance_map": {},
        }
    if task_name == "maze":
        state = get_task("maze").state_to_json(inst)
        return {
            "level": level,
            "start_pos": inst.start[0] * level + inst.start[1],
            "target_pos": inst.target[0] * level + inst.target[1],
            "layout": state["layout"],
            "distance_map": {},
        }
    return {
        "level": level,
        "start_pos": list(inst.agent),
        "start_dir": 0,
        "printer_pos": list(inst.printer),
        "table_pos": [list(p) for p in inst.table],
        "printer_neighbors": [list(p) for p in inst.printer_side],
        "table_neighbors": [list(p) for p in inst.table_side],
        "best_paths": [],
        "idx": 0,
    }


def write_visualplanning(path: Path, task_name: str, levels, per_level=3) -> list:
    task = get_task(task_name)
    instances = []
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for level in levels:
            for n in range(per_level):
                inst = task.generate(level, 77 + n)
                plan_states = [0] * (task.optimal_length(inst) + 1)
                f.write(
                    json.dumps(
                        {
                            "input_tokens": [1, 2],
                            "output_tokens": [3],
                            "input_state": plan_states,
                            "meta": visualplanning_meta(task_name, inst),
                        }
                    )
                    + "\n"
                )
                instances.append(inst)
    return instances


#: A task package's module: Maze's rules and prompts under the name ``corridor`` (title ``Corridor``).
CORRIDOR_SOURCE = """
    from task_envs.maze import Maze

    class Corridor(Maze):
        name = "corridor"
        title = "Corridor"
        min_level = 3

        def prompt_source(self, role):
            return Maze().prompt_source(role)
"""


def write_task_distribution(site: Path, dist: str, module: str, source: str, entries: dict[str, str]) -> None:
    """A minimal installed distribution under ``site`` (a folder for PYTHONPATH): its module and a dist-info whose
    ``mgsd.tasks`` entry points are ``entries``."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.3\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entries.items())
    (info / "entry_points.txt").write_text(f"[mgsd.tasks]\n{lines}")
