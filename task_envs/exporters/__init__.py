"""Dataset folders turned into the formats of the training and evaluation frameworks."""

from __future__ import annotations

from pathlib import Path

from ..dataset.folder import DatasetError


def output_file(out: Path | str, suffix: str, force: bool) -> Path:
    """The checked path of a single-file export: the right suffix, and no silent overwrite."""
    out = Path(out)
    if out.suffix != suffix:
        raise DatasetError(f"--out: expected a {suffix} file name, got {out}")
    if out.exists() and not force:
        raise DatasetError(f"{out} already exists; pass --force to replace it")
    return out
