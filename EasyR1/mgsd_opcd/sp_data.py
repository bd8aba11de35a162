"""The single-process trainer reads the same verl RL parquet as verl (``mgsd data export verl``)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

REQUIRED_COLUMNS = ("prompt", "images", "extra_info")


@dataclass
class Row:
    prompt: list[dict]       #: the student's chat (``<image>`` placeholders in the text)
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
