"""verl RL parquet: one row per case, self-contained (image bytes embedded).

Columns (verl's ``RLHFDataset`` and reward-manager conventions):

- ``data_source``: ``mgsd/<task>/<level>``, so that verl's validation reports each cell (the reward
  function dispatches on the record, not on this);
- ``prompt``: the student's chat, one user turn with an ``<image>`` placeholder before the prompt;
- ``images``: ``[{"bytes": <PNG>}]``;
- ``ability``: ``visual_planning``;
- ``reward_model``: ``{"style": "rule", "ground_truth": <an optimal plan in an answer block>}``;
- ``extra_info``: ``id``, ``task``, ``level``, ``split``, ``index``, ``record`` (the task state as JSON,
  what the reward replays), ``teacher_system_prompt``, ``teacher_context`` (symbolic state and, unless
  ``reference_plan=False``, the reference plan) and ``reference_plan``. The student never sees these.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..chat import student_messages, teacher_context
from ..dataset.folder import DatasetError, instance_of
from ..io_utils import atomic_write_bytes
from ..prompts import load_prompt, prompt_hashes
from . import output_file
from .selection import select_cases

DATA_SOURCE_PREFIX = "mgsd/"


def verl_rows(cases, reference_plan: bool = True, progress: bool = False):
    """Yield one parquet row (a dict) per ``(dataset, sample)`` pair."""
    from tqdm import tqdm

    for index, (dataset, sample) in enumerate(tqdm(cases, desc="verl rows", unit="case", disable=not progress)):
        where = f"{dataset.root}/samples.jsonl id {sample['id']}"
        instance = instance_of(sample, where)
        task = sample["task"]
        image = dataset.image_path(sample)
        if not image.is_file():
            raise DatasetError(f"{image}: image of {sample['id']} is missing")
        plan = ", ".join(sample["optimal_plan"])
        record = {k: sample[k] for k in ("task", "level", "seed", "state") if k in sample}
        yield {
            "data_source": f"{DATA_SOURCE_PREFIX}{task}/{sample['level']}",
            "prompt": student_messages(task),
            "images": [{"bytes": image.read_bytes()}],
            "ability": "visual_planning",
            "reward_model": {"style": "rule", "ground_truth": f"<answer>{plan}</answer>"},
            "extra_info": {
                "index": index,
                "id": sample["id"],
                "task": task,
                "level": int(sample["level"]),
                "split": str(sample.get("split", "")),
                "record": json.dumps(record, separators=(",", ":")),
                "teacher_system_prompt": load_prompt("teacher", task),
                "teacher_context": teacher_context(task, instance, reference_plan),
                "reference_plan": plan,
            },
        }


def export_verl(
    data: list[str],
    out: Path | str,
    per_level: int | None = None,
    task_weights: dict[str, int] | None = None,
    reference_plan: bool = True,
    force: bool = False,
    progress: bool = False,
) -> tuple[Path, int]:
    """Write ``out`` (a parquet file) atomically; returns (path, row count)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = output_file(out, ".parquet", force)
    cases = select_cases(data, per_level, task_weights)
    rows = list(verl_rows(cases, reference_plan, progress))
    table = pa.Table.from_pylist(rows)
    # which prompt texts made the rows (PROMPT_DIR or the package's), by hash
    prompts = prompt_hashes(("student", "teacher"), {sample["task"] for _, sample in cases})
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), b"mgsd_prompts": json.dumps(prompts).encode()}
    )
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, row_group_size=256)
    atomic_write_bytes(out, buffer.getvalue().to_pybytes())
    return out, len(rows)
