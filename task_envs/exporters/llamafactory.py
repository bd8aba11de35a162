"""LLaMA-Factory sharegpt datasets: ``mgsd data export llamafactory``.

Writes ``OUT/<name>.json`` (records with ``messages`` and ``images``), ``OUT/dataset_info.json``
(one entry, ``<name>``) and ``OUT/images/`` (hard links to the dataset images where possible), so
that ``dataset_dir: OUT`` and ``dataset: <name>`` work unchanged; image paths are relative to OUT,
which is LLaMA-Factory's ``media_dir`` (set it to OUT if you move the json).

Kinds: ``perception`` (perception questions -> exact answer text; the cold-start SFT), ``plan``
(the student prompt -> an optimal plan in an answer block; a direct plan-SFT ablation) and
``symbolic-plan`` (text only, no image: two records per case, the symbolic planning query of the
modality-gap evaluation and the OPCD teacher's system prompt + context, each -> an optimal plan in an
answer block; it makes a small model a text planner, e.g. the toy base of ``make toy``, which later
acts as the OPCD teacher and so must know that input too).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..answers import format_answer
from ..chat import student_user_content, symbolic_messages, teacher_messages
from ..dataset.folder import DatasetError, instance_of
from ..io_utils import atomic_write_json, publish_dir, staging_dir
from ..perception import perception_target
from ..prompts import prompt_hashes
from .selection import select_cases

KINDS = ("perception", "plan", "symbolic-plan")
# symbolic-plan records: the variant names, in the order they are written for each case.
SYMBOLIC_VARIANTS = ("symbolic", "teacher")


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def conversation(kind: str, sample: dict, instance) -> list[dict]:
    """The two-turn chat for one case; the image comes first in the user turn."""
    task = sample["task"]
    if kind == "perception":
        user, answer = student_user_content(task, "perception"), perception_target(task, instance)
    else:
        user, answer = student_user_content(task, "student"), format_answer(sample["optimal_plan"])
    return [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]


def symbolic_conversations(sample: dict, instance, reference_plan: bool = True) -> list[tuple[str, list[dict]]]:
    """The text-only chats of one case for ``symbolic-plan``, as (variant, messages): the modality-gap
    evaluation's symbolic query (``chat.symbolic_messages``) and the OPCD teacher's input
    (``chat.teacher_messages``: system prompt, symbolic context, the reference plan unless
    ``reference_plan`` is off), each answered with the case's optimal plan."""
    task, answer = sample["task"], format_answer(sample["optimal_plan"])
    chats = {"symbolic": symbolic_messages(task, instance), "teacher": teacher_messages(task, instance, reference_plan)}
    return [(v, chats[v] + [{"role": "assistant", "content": answer}]) for v in SYMBOLIC_VARIANTS]


def export_llamafactory(
    data: list[str],
    out: Path | str,
    kind: str = "perception",
    name: str | None = None,
    per_level: int | None = None,
    task_weights: dict[str, int] | None = None,
    force: bool = False,
    reference_plan: bool = True,
) -> tuple[Path, str, int]:
    """Write the export; returns (folder, dataset name, record count). ``reference_plan`` only matters
    for ``symbolic-plan`` (the teacher records' context, as ``mgsd data export verl`` writes it)."""
    if kind not in KINDS:
        raise DatasetError(f"--kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    out = Path(out)
    name = name or f"mgsd_{kind.replace('-', '_')}"
    if out.exists():
        if not force:
            raise DatasetError(f"{out} already exists; pass --force to replace it")
        if not (out / "dataset_info.json").is_file():
            raise DatasetError(f"{out} exists and is not a LLaMA-Factory export; refusing to replace it")
    cases = select_cases(data, per_level, task_weights)
    text_only = kind == "symbolic-plan"
    tmp = staging_dir(out)
    if not text_only:
        (tmp / "images").mkdir()
    try:
        records = []
        linked: set[str] = set()
        for dataset, sample in cases:
            instance = instance_of(sample, f"{dataset.root}/samples.jsonl id {sample['id']}")
            if text_only:
                records += [
                    {
                        "id": sample["id"],
                        "task": sample["task"],
                        "level": sample["level"],
                        "variant": variant,
                        "messages": messages,
                    }
                    for variant, messages in symbolic_conversations(sample, instance, reference_plan)
                ]
                continue
            image = f"images/{sample['id']}.png"
            if image not in linked:
                src = dataset.image_path(sample)
                if not src.is_file():
                    raise DatasetError(f"{src}: image of {sample['id']} is missing")
                _link_or_copy(src, tmp / image)
                linked.add(image)
            records.append(
                {
                    "id": sample["id"],
                    "task": sample["task"],
                    "level": sample["level"],
                    "messages": conversation(kind, sample, instance),
                    "images": [image],
                }
            )
        (tmp / f"{name}.json").write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        columns = {"messages": "messages"} if text_only else {"messages": "messages", "images": "images"}
        tags = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"}
        if text_only:
            tags["system_tag"] = "system"  # the teacher records open with its system prompt
        info = {name: {"file_name": f"{name}.json", "formatting": "sharegpt", "columns": columns, "tags": tags}}
        atomic_write_json(tmp / "dataset_info.json", info)
        roles = {"perception": ("perception",), "plan": ("student",)}.get(kind, ("symbolic", "teacher"))
        atomic_write_json(tmp / "prompts.json", prompt_hashes(roles, {r["task"] for r in records}))  # by hash
        publish_dir(tmp, out, replace=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out, name, len(records)
