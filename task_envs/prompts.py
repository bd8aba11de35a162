"""Prompt texts, kept as package data of each task's package (``<package>/prompts/<variant>_<task>.txt``; the
built-in tasks' are in ``task_envs/prompts/``), or read from a folder the user names (``PROMPT_DIR``).

One text per role and task, used identically in training and evaluation. Roles:
``student`` (brief reasoning, then one answer block; what OPCD trains), ``direct`` (the answer block
only; API baselines), ``perception`` (numbered questions about the image; perception SFT),
``symbolic`` (the student's instructions for a text-only state; the modality-gap baseline) and
``teacher`` (the OPCD teacher's system prompt; the teacher reads the symbolic state, never an image).

With ``PROMPT_DIR`` set, a role and task's text is ``$PROMPT_DIR/<role>_<task>.txt`` where that file exists
(else, for student, symbolic and teacher, the file name upstream MGSD gave it, so a folder of upstream's prompt
files works as it is), and the package's text otherwise. Placeholders: ``<image>`` (or upstream's
``<TEST-IMAGE>``) marks where the case's image goes in the image roles (default: before the text); ``<TEXT-STATE>``
marks where the symbolic state goes in ``symbolic`` (default: after the text). A text is refused, with one line
naming its file, when it is empty or holds a placeholder its role cannot fill (another image, an image in a
text-only role, a state outside ``symbolic``, either placeholder twice).
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

from . import registry
from .errors import TaskError
from .registry import get_task, normalise_task_name

PLAN_PROMPTS = ("student", "direct")
PROMPT_ROLES = PLAN_PROMPTS + ("perception", "symbolic", "teacher")
IMAGE_ROLES = ("student", "direct", "perception")
PROMPT_DIR_ENV = "PROMPT_DIR"
IMAGE = "<image>"
STATE = "<TEXT-STATE>"
_UPSTREAM_IMAGE = "<TEST-IMAGE>"
_OTHER_IMAGES = ("<IMAGE-1>", "<IMAGE-2>")  # upstream's legend images: never sent here
_UPSTREAM_NAMES = {
    "student": "opcd_student_{0}.txt",
    "symbolic": "text_student_{0}.txt",
    "teacher": "opcd_teacher_text_{1}.txt",
}


def prompt_dir() -> Path | None:
    """The folder named by ``PROMPT_DIR`` (None: unset or empty); a name that is not a folder is an error."""
    value = os.environ.get(PROMPT_DIR_ENV) or None
    if value is not None and not Path(value).is_dir():
        raise TaskError(f"{PROMPT_DIR_ENV}={value}: not a folder")
    return None if value is None else Path(value)


def prompt_file(variant: str, task: str) -> Path | None:
    """The user's file for ``variant`` and ``task`` under ``PROMPT_DIR``, or None (the package's text)."""
    folder = prompt_dir()
    if folder is None:
        return None
    rules = get_task(task)
    names = [f"{variant}_{rules.name}.txt"]
    if variant in _UPSTREAM_NAMES and rules.upstream_prompt_names:
        names.append(_UPSTREAM_NAMES[variant].format(*rules.upstream_prompt_names))
    return next((folder / n for n in names if (folder / n).is_file()), None)


def check_prompt(text: str, variant: str, where: str) -> str:
    """``text`` with upstream's image placeholder as ``<image>``, or :class:`TaskError` naming ``where``."""
    text = text.strip().replace(_UPSTREAM_IMAGE, IMAGE)
    problem = None
    if not text:
        problem = "is empty"
    elif any(p in text for p in _OTHER_IMAGES):
        problem = f"holds {next(p for p in _OTHER_IMAGES if p in text)}: only the case's image is sent"
    elif variant in IMAGE_ROLES and text.count(IMAGE) > 1:
        problem = f"holds {IMAGE} (or {_UPSTREAM_IMAGE}) {text.count(IMAGE)} times: one image is sent"
    elif variant not in IMAGE_ROLES and IMAGE in text:
        problem = f"holds {IMAGE}: the {variant} prompt goes with no image"
    elif variant != "symbolic" and STATE in text:
        problem = f"holds {STATE}: only the symbolic prompt gets the state"
    elif text.count(STATE) > 1:
        problem = f"holds {STATE} {text.count(STATE)} times"
    if problem:
        raise TaskError(f"{where}: {variant} prompt {problem}")
    return text


def load_prompt(variant: str, task: str) -> str:
    """The prompt text for ``variant`` and ``task`` (``PROMPT_DIR``'s when it has one; see the module doc)."""
    if variant not in PROMPT_ROLES:
        raise ValueError(f"unknown prompt {variant!r}; expected one of {', '.join(PROMPT_ROLES)}")
    path = prompt_file(variant, task)
    return _read(variant, normalise_task_name(task), None if path is None else str(path), registry.generation)


@cache
def _read(variant: str, task: str, path: str | None, generation: int) -> str:
    """The checked text (cached per registry generation: a name may be registered again with other prompts)."""
    if path is None:
        source, where = get_task(task).prompt_source(variant)
        if not source.is_file():
            raise TaskError(f"{where}: no {variant} prompt for task {task!r} (every role needs one: {PROMPT_ROLES})")
        return check_prompt(source.read_text(encoding="utf-8"), variant, where)
    return check_prompt(Path(path).read_text(encoding="utf-8"), variant, path)


def prompt_hashes(roles, tasks) -> dict[str, str]:
    """``{"<role>_<task>": sha256 of the text}`` of the prompts in use (what runs and exports record)."""
    return {
        f"{role}_{task}": hashlib.sha256(load_prompt(role, task).encode("utf-8")).hexdigest()
        for task in sorted(set(tasks))
        for role in roles
    }
