"""VLMEvalKit TSV: one row per case with VLMEvalKit's columns (``index``, ``image`` as base64 PNG,
``question``, ``answer``) plus ``category`` (the task), ``level``, ``case_id`` and ``record`` (the task state
as JSON, what ``mgsd_eval.vlmeval_datasets`` scores against)."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path

from ..answers import format_answer
from ..chat import IMAGE_TOKEN, student_user_content
from ..dataset.folder import DatasetError, instance_of
from ..io_utils import atomic_write_text
from ..perception import perception_target
from . import output_file
from .selection import select_cases

KINDS = ("plan", "perception")
COLUMNS = ("index", "image", "question", "answer", "category", "level", "case_id", "kind", "record")


def export_vlmeval(
    data: list[str],
    out: Path | str,
    kind: str = "plan",
    prompt: str = "student",
    per_level: int | None = None,
    task_weights: dict[str, int] | None = None,
    force: bool = False,
) -> tuple[Path, int]:
    """Write the TSV atomically; returns (path, rows)."""
    if kind not in KINDS:
        raise DatasetError(f"--kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    out = output_file(out, ".tsv", force)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n")
    writer.writerow(COLUMNS)
    cases = select_cases(data, per_level, task_weights)
    for index, (dataset, sample) in enumerate(cases):
        instance = instance_of(sample, f"{dataset.root}/samples.jsonl id {sample['id']}")
        task = sample["task"]
        question = student_user_content(task, "perception" if kind == "perception" else prompt).replace(IMAGE_TOKEN, "")
        answer = perception_target(task, instance) if kind == "perception" else format_answer(sample["optimal_plan"])
        image = base64.b64encode(dataset.image_path(sample).read_bytes()).decode("ascii")
        record = json.dumps(
            {k: sample[k] for k in ("task", "level", "seed", "state") if k in sample}, separators=(",", ":")
        )
        writer.writerow([index, image, question, answer, task, sample["level"], sample["id"], kind, record])
    atomic_write_text(out, buf.getvalue())
    return out, len(cases)
