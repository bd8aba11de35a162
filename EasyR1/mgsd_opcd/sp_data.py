"""The single-process trainer reads the same verl RL parquet as verl (``mgsd data export verl``)."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from task_envs.chat import REFERENCE_PLAN_LABEL

REQUIRED_COLUMNS = ("prompt", "images", "extra_info")


@dataclass
class Row:
    prompt: list[dict]  #: the student's chat (``<image>`` placeholders in the text)
    image_bytes: list[bytes]
    extra_info: dict

    def images(self) -> list[Image.Image]:
        return [Image.open(io.BytesIO(b)).convert("RGB") for b in self.image_bytes]


def read_rows(path: str | Path) -> list[Row]:
    """All rows of a verl RL parquet file; one-line errors name the file and the missing column."""
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable parquet file ({exc})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)} (export with `mgsd data export verl`)")
    rows = []
    for i, rec in enumerate(table.select(list(REQUIRED_COLUMNS)).to_pylist()):
        if not rec["images"] or not rec["prompt"]:
            raise ValueError(f"{path}: row {i} has no image or no prompt")
        rows.append(Row(rec["prompt"], [img["bytes"] for img in rec["images"]], rec["extra_info"]))
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


def drop_overlong(rows: list[Row], lengths: list[int], limit: int, path: str | Path) -> list[Row]:
    """The rows whose prompt holds at most ``limit`` tokens, as verl's ``filter_overlong_prompts``; one
    warning line says how many were dropped, and no row left is an error."""
    kept = [row for row, n in zip(rows, lengths) if n <= limit]
    if not kept:
        raise ValueError(f"{path}: all {len(rows)} prompts are longer than max_prompt_length ({limit} tokens)")
    if len(kept) < len(rows):
        print(
            f"mgsd_opcd: warning: {path}: dropped {len(rows) - len(kept)} of {len(rows)} rows whose prompt is "
            f"longer than max_prompt_length ({limit} tokens)",
            file=sys.stderr,
        )
    return kept


def has_reference_plan(extra_info: dict) -> bool:
    """Whether the teacher context carries the reference plan (``mgsd data export verl`` without
    ``--no-reference-plan``)."""
    return REFERENCE_PLAN_LABEL in str((extra_info or {}).get("teacher_context", ""))


def warn_without_reference_plan(rows: list[Row], path: str | Path) -> None:
    """One warning line when rows lack the reference plan that ``teacher_reference_plan`` asks for."""
    missing = sum(not has_reference_plan(row.extra_info) for row in rows)
    if missing:
        print(
            f"mgsd_opcd: warning: {path}: {missing} of {len(rows)} rows have no reference plan in "
            "extra_info.teacher_context (exported with --no-reference-plan?); teacher_reference_plan is on, "
            "but their teacher sees the state only",
            file=sys.stderr,
        )
