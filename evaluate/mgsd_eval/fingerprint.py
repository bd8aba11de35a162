"""The fingerprint of an evaluation run, kept in ``RUN_DIR/run.json``: everything that decides its rows.

A rerun into the same folder resumes only when every field matches; otherwise it is refused with one line
naming the first field that differs and both values. Fields (in the order they are compared):

- ``mgsd_version``: the ``mgsd`` package version;
- ``pipeline``, ``data`` (the folders as given), ``manifests`` (sha256 of each folder's ``manifest.json``);
- ``tasks``, ``levels``: the ``--tasks`` / ``--levels`` filters (null: none), ``limit``, ``scoring`` (a
  run.json of before ``--scoring`` reads as strict, or lenient when its ``lenient`` was true);
- ``prompt`` (the planning prompt variant) and ``prompt_sha256`` (of every prompt text sent, see ``prompts``);
- ``model`` (sent in requests), ``served_model`` (what ``GET /models`` reports for it);
- ``options``: every request option (``temperature``, ``top_p``, ``seed``, ``max_tokens``,
  ``max_completion_tokens``, ``stop``, ``extra_body``), null when not sent.

Not compared: ``label``, ``endpoints``, ``model_guessed``, ``prompts``, ``prompt_files`` (where each text came
from: ``PROMPT_DIR`` or the package; the texts themselves are in ``prompt_sha256``). Never stored: API keys.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from task_envs.errors import TaskError

from .client import OPTION_NAMES

IDENTITY = (
    "mgsd_version",
    "pipeline",
    "data",
    "manifests",
    "tasks",
    "levels",
    "limit",
    "scoring",
    "prompt",
    "prompt_sha256",
    "model",
    "served_model",
    "options",
)
OPTION_FIELDS = OPTION_NAMES + ("extra_body",)


class RunMismatch(TaskError):
    """A run folder that holds another run."""


def project_version() -> str:
    """The installed ``mgsd`` distribution's version (the package's own when run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mgsd")
    except PackageNotFoundError:
        import task_envs

        return task_envs.__version__


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_hashes(data: list[str]) -> dict[str, str]:
    """sha256 of each dataset folder's ``manifest.json`` (which itself holds a sha256 of every file)."""
    return {str(d): sha256_bytes((Path(d) / "manifest.json").read_bytes()) for d in data}


def prompt_sha256(texts: dict[str, str]) -> str:
    """One hash over the named prompt texts."""
    return sha256_bytes(json.dumps(texts, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def request_options(options: dict, extra_body: dict) -> dict:
    """Every request option, null when not sent."""
    return {**{name: options.get(name) for name in OPTION_NAMES}, "extra_body": dict(extra_body) or None}


def differences(old: dict, new: dict):
    """(field, old value, new value) of every identity field that differs, in comparison order; options and
    manifests are named one by one."""
    old = {"scoring": "lenient" if old.get("lenient") else "strict", **old}
    for name in IDENTITY:
        a, b = old.get(name), new.get(name)
        if name in ("options", "manifests"):
            a, b = a or {}, b or {}
            keys = OPTION_FIELDS if name == "options" else list(dict.fromkeys([*b, *a]))
            for key in keys:
                if a.get(key) != b.get(key):
                    yield (key if name == "options" else f"{key}/manifest.json sha256"), a.get(key), b.get(key)
        elif a != b:
            yield name, a, b


def show(value) -> str:
    if value is None:
        return "unset"
    if isinstance(value, str):
        return value or '""'
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def check(path: Path, old: dict, new: dict) -> None:
    """Raise :class:`RunMismatch` naming the first field of ``new`` that differs from ``old``."""
    for name, a, b in differences(old, new):
        raise RunMismatch(f"{path}: {name} was {show(a)}, now {show(b)} (use a new --out or --force)")
