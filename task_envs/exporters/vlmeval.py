"""VLMEvalKit TSV: one row per case with VLMEvalKit's columns (``index``, ``image`` as base64 PNG,
``question``, ``answer``) plus ``category`` (the task), ``level``, ``case_id`` and ``record`` (the task state
as JSON, what ``mgsd_eval.vlmeval_datasets`` scores against)."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
from pathlib import Path

from ..answers import format_answer
from ..chat import IMAGE_TOKEN, student_user_content
from ..dataset.folder import DatasetError, instance_of
from ..perception import perception_target
from .selection import select_cases

KINDS = ("plan", "perception")
COLUMNS = ("index", "image", "question", "answer", "category", "level", "case_id", "kind", "record")


def export_vlmeval(data: list[str], out: Path | str, kind: str = "plan", prompt: str = "student",
                   per_level: int | None = None, force: bool = False) -> tuple[Path, int]:
    """Write the TSV atomically; returns (path, rows)."""
    if kind not in KINDS:
        raise DatasetError(f"--kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    out = Path(out)
    if out.suffix != ".tsv":
        raise DatasetError(f"--out: expected a .tsv file name, got {out}")
    if out.exists() and not force:
        raise DatasetError(f"{out} already exists; pass --force to replace it")
    csv.field_size_limit(1 << 30)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n")
    writer.writerow(COLUMNS)
    cases = select_cases(data, per_level)
    for index, (dataset, sample) in enumerate(cases):
        instance = instance_of(sample, f"{dataset.root}/samples.jsonl id {sample['id']}")
        task = sample["task"]
        question = student_user_content(task, "perception" if kind == "perception" else prompt).replace(IMAGE_TOKEN, "")
        answer = perception_target(task, instance) if kind == "perception" else format_answer(sample["optimal_plan"])
        image = base64.b64encode(dataset.image_path(sample).read_bytes()).decode("ascii")
        record = json.dumps({k: sample[k] for k in ("task", "level", "seed", "state") if k in sample}, separators=(",", ":"))
        writer.writerow([index, image, question, answer, task, sample["level"], sample["id"], kind, record])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, out)
    return out, len(cases)
