"""Public benchmarks turned into dataset folders: ``mgsd data import vsp|visualplanning``.

- VSP FrozenLake maps: ``<src>/level{L}/table/N.txt`` (markdown tables) and ``img/N.png``; the
  benchmark's own image is kept, resized to 256x256; the optimal plan comes from our planner.
- VisualPlanning JSONL (``meta`` per line): every case is re-rendered with the project's renderer.
  A case of another task (told by its ``meta`` fields) is reported as such, before any other check.
Every record keeps its provenance: ``source = {"benchmark", "file" (relative to --src), "line"}``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from .. import __version__
from ..base import TaskError
from ..frozenlake import FrozenLakeInstance, validate_rows
from ..grid import parse_pos
from ..maze import MazeInstance, walls_from_layout
from ..registry import get_task
from ..render.frozenlake import fit_to_canvas
from .folder import DatasetError, DatasetWriter, prepare_output, sha256_bytes
from .samples import encode_png, make_sample
from .splits import SPLITS

VSP_TOKENS = {"@": "S", "*": "G", "#": "H", "_": "F"}
_LEVEL_DIR = re.compile(r"^level(\d+)$")


# ---- VSP FrozenLake maps --------------------------------------------------------------------
def parse_vsp_table(text: str, level: int, where: str) -> tuple[str, ...]:
    """Map rows (S/F/H/G) from a VSP markdown table; errors name ``where`` and the line."""
    rows: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped.startswith("|"):
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        if not cells or not cells[0].lower().startswith("row"):
            continue  # header ("Col 1 ...") and separator rows
        tokens = cells[1:]
        if len(tokens) != level:
            raise DatasetError(f"{where} line {lineno}: expected {level} cells in the row, got {len(tokens)}")
        unknown = [t for t in tokens if t not in VSP_TOKENS]
        if unknown:
            raise DatasetError(f"{where} line {lineno}: unknown cell token {unknown[0]!r} (expected @ * # _)")
        rows.append("".join(VSP_TOKENS[t] for t in tokens))
    if len(rows) != level:
        raise DatasetError(f"{where}: expected {level} 'Row' lines, found {len(rows)}")
    try:
        return validate_rows(rows, level)
    except TaskError as exc:
        raise DatasetError(f"{where}: {exc}") from None


def _vsp_cases(src: Path, levels: set[int] | None) -> list[tuple[int, int, Path, Path]]:
    cases = []
    for level_dir in sorted(src.iterdir()) if src.is_dir() else []:
        m = _LEVEL_DIR.match(level_dir.name)
        if not m or not level_dir.is_dir():
            continue
        level = int(m.group(1))
        if levels is not None and level not in levels:
            continue
        tables = level_dir / "table"
        if not tables.is_dir():
            raise DatasetError(f"{level_dir}: no table/ folder")
        for table in tables.glob("*.txt"):
            if not table.stem.isdigit():
                raise DatasetError(f"{table}: expected a file named <number>.txt")
            cases.append((level, int(table.stem), table, level_dir / "img" / f"{table.stem}.png"))
    return sorted(cases)


def import_vsp(
    src: Path | str, out: Path | str, levels=None, force: bool = False, progress: bool = True
) -> tuple[Path, bool]:
    """Import the VSP FrozenLake maps under ``src`` (folders ``level3`` ... ``level8``)."""
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise DatasetError(f"{src}: no such folder")
    level_set = set(levels) if levels else None
    spec = {
        "builder": "import",
        "benchmark": "vsp",
        "src": str(src.resolve()),
        "levels": sorted(level_set) if level_set else "all",
        "task_envs_version": __version__,
    }
    if not prepare_output(out, spec, force):
        return out, False
    cases = _vsp_cases(src, level_set)
    if not cases:
        raise DatasetError(f"{src}: no level<N>/table/<n>.txt files found")
    task = get_task("frozenlake")
    with DatasetWriter(out) as writer:
        for level, number, table, image_path in tqdm(cases, desc="vsp", unit="map", disable=not progress):
            task.check_level(level)
            where = str(table)
            rows = parse_vsp_table(table.read_text(encoding="utf-8"), level, where)
            instance = FrozenLakeInstance(level, rows)
            if task.solution_length(instance) is None:
                raise DatasetError(f"{where}: the map has no path from start to goal")
            if not image_path.is_file():
                raise DatasetError(f"{image_path}: missing image for {table.name}")
            try:
                with Image.open(image_path) as im:
                    data = encode_png(fit_to_canvas(im))
            except (UnidentifiedImageError, OSError) as exc:
                raise DatasetError(f"{image_path}: not a readable image ({exc})") from None
            source = {
                "benchmark": "vsp",
                "file": table.relative_to(src).as_posix(),
                "image": image_path.relative_to(src).as_posix(),
            }
            sample = make_sample(task, instance, f"frozenlake_vsp_level{level}_{number:04d}", "test", source)
            writer.add_image(sample["image"], data, sha256_bytes(data))
            writer.add_sample(sample)
        writer.finish(spec, replace=force)
    return out, True


# ---- VisualPlanning JSONL ---------------------------------------------------------------------
def _state_index(value: object, level: int, field: str) -> tuple[int, int]:
    if isinstance(value, list):
        pos = parse_pos(value, field)
        if not (0 <= pos[0] < level and 0 <= pos[1] < level):
            raise TaskError(f"field '{field}': {value} is outside a {level}x{level} grid")
        return pos
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < level * level:
        raise TaskError(f"field '{field}': expected a state index in [0, {level * level}) or [row, col], got {value!r}")
    return divmod(value, level)


def visualplanning_task_of(meta: dict) -> str | None:
    """Which task a ``meta`` object is from, by its fields (benchmarks.md); None when it looks like none."""
    if "printer_pos" in meta or "table_pos" in meta:
        return "minibehaviour"
    layout = meta.get("layout")
    first = layout[0][0] if isinstance(layout, list) and layout and isinstance(layout[0], list) and layout[0] else None
    if isinstance(first, str):
        return "frozenlake"
    if isinstance(first, dict):
        return "maze"
    return None


def visualplanning_instance(task_name: str, meta: object):
    """A task instance from a VisualPlanning ``meta`` object."""
    if not isinstance(meta, dict):
        raise TaskError("field 'meta': expected an object")
    found = visualplanning_task_of(meta)
    if found is not None and found != task_name:
        raise TaskError(f"field 'meta': this is a {found} case, not {task_name} (import it with --task {found})")
    task = get_task(task_name)
    level = meta.get("level")
    if not isinstance(level, int) or isinstance(level, bool):
        raise TaskError(f"field 'meta.level': expected an integer, got {level!r}")
    task.check_level(level)
    if task_name == "frozenlake":
        layout = meta.get("layout")
        if not isinstance(layout, list) or not all(
            isinstance(r, list) and all(isinstance(t, str) for t in r) for r in layout
        ):
            raise TaskError("field 'meta.layout': expected rows of one-letter strings")
        grid = [["F" if t in ("S", "G") else t for t in row] for row in layout]
        start = _state_index(meta.get("start_pos"), level, "meta.start_pos")
        goal = _state_index(meta.get("target_pos"), level, "meta.target_pos")
        for name, (r, c), letter in (("start_pos", start, "S"), ("target_pos", goal, "G")):
            if not (0 <= r < len(grid) and 0 <= c < len(grid[r])):
                raise TaskError(f"field 'meta.{name}': outside the layout")
            grid[r][c] = letter
        return FrozenLakeInstance(level, validate_rows(["".join(row) for row in grid], level))
    if task_name == "maze":
        walls = walls_from_layout(meta.get("layout"), level, "meta.layout")
        start = _state_index(meta.get("start_pos"), level, "meta.start_pos")
        target = _state_index(meta.get("target_pos"), level, "meta.target_pos")
        if start == target:
            raise TaskError("fields 'meta.start_pos' and 'meta.target_pos' must differ")
        return MazeInstance(level, walls, start, target)
    return task.instance_from_fields(
        level,
        meta.get("start_pos"),
        meta.get("printer_pos"),
        meta.get("table_pos"),
        names=("meta.start_pos", "meta.printer_pos", "meta.table_pos"),
    )


def import_visualplanning(
    task_name: str,
    src: Path | str,
    out: Path | str,
    split: str | None = None,
    levels=None,
    force: bool = False,
    progress: bool = True,
) -> tuple[Path, bool]:
    """Import one VisualPlanning JSONL file for ``task_name``; images are rendered from ``meta``."""
    src, out = Path(src), Path(out)
    task = get_task(task_name)
    if not src.is_file():
        raise DatasetError(f"{src}: no such file")
    prefix = src.stem.split("_")[0]
    split = split or (prefix if prefix in SPLITS else "test")
    level_set = set(levels) if levels else None
    spec = {
        "builder": "import",
        "benchmark": "visualplanning",
        "task": task.name,
        "src": str(src.resolve()),
        "split": split,
        "levels": sorted(level_set) if level_set else "all",
        "task_envs_version": __version__,
    }
    if not prepare_output(out, spec, force):
        return out, False
    count = 0
    with DatasetWriter(out) as writer:
        with open(src, encoding="utf-8") as f:
            for lineno, line in enumerate(
                tqdm(f, desc=f"visualplanning {task.name}", unit="case", disable=not progress), start=1
            ):
                if not line.strip():
                    continue
                where = f"{src} line {lineno}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{where}: not valid JSON ({exc.msg})") from None
                if not isinstance(obj, dict) or "meta" not in obj:
                    raise DatasetError(f"{where}: missing field 'meta'")
                try:
                    instance = visualplanning_instance(task.name, obj["meta"])
                except TaskError as exc:
                    raise DatasetError(f"{where}: {exc}") from None
                if level_set is not None and instance.level not in level_set:
                    continue
                if task.solution_length(instance) is None:
                    raise DatasetError(f"{where}: the case has no successful plan")
                source = {"benchmark": "visualplanning", "file": src.name, "line": lineno}
                sample_id = f"{task.name}_visualplanning_{split}_level{instance.level}_{lineno:05d}"
                sample = make_sample(task, instance, sample_id, split, source)
                data = encode_png(task.render(instance))
                writer.add_image(sample["image"], data, sha256_bytes(data))
                writer.add_sample(sample)
                count += 1
        if not count:
            raise DatasetError(f"{src}: no cases found" + (f" at levels {sorted(level_set)}" if level_set else ""))
        writer.finish(spec, replace=force)
    return out, True
