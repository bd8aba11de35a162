"""The evaluation pipelines as lists of cases: what is asked, and how the answer is scored (by ``task_envs``).

- ``planning``: the image and the student prompt (reasoning, as trained) or the direct prompt (answer only);
- ``perception``: the image and the perception questions, scored per field;
- ``modality-gap``: each case twice, with the image (``visual``) and as symbolic text only (``symbolic``),
  both with the student's instructions and output format.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from task_envs import get_task
from task_envs.chat import content_parts, student_user_content, symbolic_messages
from task_envs.dataset.folder import instance_of, load_datasets
from task_envs.perception import score_perception
from task_envs.prompts import load_prompt, prompt_file

PIPELINES = ("planning", "perception", "modality-gap")


@dataclass
class Case:
    key: str  #: unique within a run: ``<case id>[/<variant>]`` (ids are unique across the folders)
    case_id: str
    dataset: str
    task: str
    level: int
    variant: str  #: student | direct | perception | visual | symbolic
    kind: str  #: planning | perception
    image: Path | None
    record: dict
    scoring: str = "strict"  #: how planning replies are read (task_envs.answers.SCORINGS)

    @cached_property
    def instance(self) -> Any:
        return instance_of(self.record, f"{self.dataset} id {self.case_id}")

    def messages(self) -> list[dict]:
        """The OpenAI chat messages (built on demand: images are read and encoded only when sent)."""
        if self.variant == "symbolic":
            return symbolic_messages(self.task, self.instance)
        text = student_user_content(self.task, {"visual": "student"}.get(self.variant, self.variant))
        url = "data:image/png;base64," + base64.b64encode(self.image.read_bytes()).decode("ascii")
        parts = [
            {"type": "image_url", "image_url": {"url": url}} if p["type"] == "image" else p for p in content_parts(text)
        ]
        return [{"role": "user", "content": parts}]

    def score(self, text: str) -> tuple[list[str], dict]:
        return score_reply(self.kind, self.task, self.instance, text, self.scoring)


def score_reply(kind: str, task: str, instance: Any, text: str, scoring: str = "strict") -> tuple[list[str], dict]:
    """(parsed actions, score dict) of a reply, by ``task_envs``: the planning scores under ``scoring`` with the
    upstream reading's beside (``upstream_*``) or, for ``kind == "perception"``, the per-field perception scores."""
    if kind == "perception":
        return [], score_perception(task, instance, text)
    parsed, scores = get_task(task).score_readings(instance, text, scoring)
    return list(parsed.actions), scores


def prompt_roles(pipeline: str, prompt: str = "student") -> tuple[str, ...]:
    """The prompt texts (roles of ``task_envs.prompts``) a pipeline sends."""
    return {"planning": (prompt,), "perception": ("perception",), "modality-gap": ("student", "symbolic")}[pipeline]


def prompt_texts(pipeline: str, prompt: str, tasks) -> dict[str, str]:
    """``{"<role>_<task>": text}`` of every prompt the pipeline sends for ``tasks``."""
    return {
        f"{role}_{task}": load_prompt(role, task)
        for task in sorted(set(tasks))
        for role in prompt_roles(pipeline, prompt)
    }


def prompt_files(pipeline: str, prompt: str, tasks) -> dict[str, str]:
    """``{"<role>_<task>": file}`` of every prompt the pipeline sends: PROMPT_DIR's, or ``package``."""
    return {
        f"{role}_{task}": str(prompt_file(role, task) or "package")
        for task in sorted(set(tasks))
        for role in prompt_roles(pipeline, prompt)
    }


def build_cases(
    pipeline: str,
    data: list[str],
    prompt: str = "student",
    limit: int | None = None,
    scoring: str = "strict",
    tasks=None,
    levels: dict | None = None,
) -> list[Case]:
    """Cases of ``pipeline`` over the dataset folders ``data``, only of ``tasks`` and, for a task in ``levels``,
    only of its levels (None: no filter); ``limit`` caps cases per (task, level) per folder, taken in file
    order (so a small smoke run still covers every level)."""
    if pipeline not in PIPELINES:
        raise ValueError(f"unknown pipeline {pipeline!r}; expected one of {', '.join(PIPELINES)}")
    cases: list[Case] = []
    for dataset in load_datasets(data):
        taken: dict[tuple[str, int], int] = {}
        for sample in dataset.samples:
            cell = (sample["task"], int(sample["level"]))
            if (tasks is not None and cell[0] not in tasks) or cell[1] not in (levels or {}).get(cell[0], (cell[1],)):
                continue
            if limit is not None and taken.get(cell, 0) >= limit:
                continue
            taken[cell] = taken.get(cell, 0) + 1
            common = dict(
                case_id=sample["id"],
                dataset=str(dataset.root),
                task=sample["task"],
                level=int(sample["level"]),
                image=dataset.image_path(sample),
                record=sample,
                scoring=scoring,
            )
            base = sample["id"]
            if pipeline == "planning":
                cases.append(Case(key=base, variant=prompt, kind="planning", **common))
            elif pipeline == "perception":
                cases.append(Case(key=base, variant="perception", kind="perception", **common))
            else:
                cases.append(Case(key=f"{base}/visual", variant="visual", kind="planning", **common))
                cases.append(Case(key=f"{base}/symbolic", variant="symbolic", kind="planning", **common))
    return cases
