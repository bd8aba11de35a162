"""The dataset folder: ``manifest.json``, ``samples.jsonl`` and ``images/``.

Written atomically: everything goes to ``<DIR>.incomplete`` and is renamed to ``<DIR>`` only after the
manifest (with a sha256 per file) is written, so an interrupted build never leaves a folder that looks
complete. Nothing time-dependent is written, so the same spec gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..base import TaskError
from ..io_utils import publish_dir, staging_dir
from ..registry import get_task

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SAMPLES = "samples.jsonl"
IMAGES = "images"


class DatasetError(TaskError):
    """A dataset folder or input file is missing or malformed; the message names the file and line."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def dump_json_line(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"


def prepare_output(out: Path, spec: dict, force: bool) -> bool:
    """Whether ``out`` must be (re)built: False when it already holds a dataset of this very spec.

    Another spec is an error unless ``force``; ``force`` may replace a dataset folder or an empty
    folder, never anything else."""
    if out.exists() and not force:
        if load_dataset(out).manifest.get("spec") == spec:
            return False
        raise DatasetError(f"{out} already holds a dataset with a different spec; pass --force to rebuild it")
    if out.exists() and not (out / MANIFEST).is_file() and (not out.is_dir() or any(out.iterdir())):
        raise DatasetError(f"{out} exists and is not a dataset folder; refusing to replace it")
    return True


class DatasetWriter:
    """Collects images and samples in ``<out>.incomplete`` and publishes them with :meth:`finish`.

    Use it as a context manager: an error before :meth:`finish` removes the staging folder."""

    def __init__(self, out: Path | str):
        self.out = Path(out)
        self.tmp = staging_dir(self.out)
        (self.tmp / IMAGES).mkdir()
        self._files: dict[str, str] = {}
        self._samples: list[dict] = []
        self._ids: set[str] = set()

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def add_image(self, relpath: str, data: bytes, digest: str | None = None) -> None:
        (self.tmp / relpath).write_bytes(data)
        self.record_image(relpath, digest or sha256_bytes(data))

    def record_image(self, relpath: str, digest: str) -> None:
        """Register an image that a worker already wrote under :attr:`tmp`."""
        self._files[relpath] = digest

    def add_sample(self, sample: dict) -> None:
        if sample["id"] in self._ids:
            raise DatasetError(f"duplicate sample id {sample['id']!r}")
        self._ids.add(sample["id"])
        self._samples.append(sample)

    def finish(self, spec: dict, replace: bool = False) -> Path:
        """Write samples and manifest, then move the folder into place (replacing ``out`` if asked)."""
        text = "".join(dump_json_line(s) for s in self._samples).encode("utf-8")
        (self.tmp / SAMPLES).write_bytes(text)
        counts: dict[str, dict[str, int]] = {}
        for s in self._samples:
            per_task = counts.setdefault(s["task"], {})
            per_task[str(s["level"])] = per_task.get(str(s["level"]), 0) + 1
        files = {SAMPLES: sha256_bytes(text), **dict(sorted(self._files.items()))}
        manifest = {
            "format": "mgsd-dataset",
            "format_version": FORMAT_VERSION,
            "spec": spec,
            "num_samples": len(self._samples),
            "counts": counts,
            "files": files,
        }
        (self.tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        try:
            return publish_dir(self.tmp, self.out, replace)
        except FileExistsError:
            raise DatasetError(f"{self.out} already exists") from None


@dataclass
class Dataset:
    """A loaded dataset folder."""

    root: Path
    manifest: dict
    samples: list[dict]

    def instances(self) -> Iterator[tuple[dict, Any]]:
        """(sample, task instance) pairs, in file order."""
        for i, sample in enumerate(self.samples, start=1):
            yield sample, instance_of(sample, f"{self.root / SAMPLES} line {i}")

    def image_path(self, sample: dict) -> Path:
        return self.root / sample["image"]

    def verify(self) -> None:
        """Check every file against the manifest's sha256; raise DatasetError on the first mismatch."""
        for rel, digest in self.manifest.get("files", {}).items():
            path = self.root / rel
            if not path.is_file():
                raise DatasetError(f"{path}: listed in {MANIFEST} but missing")
            if sha256_file(path) != digest:
                raise DatasetError(f"{path}: sha256 differs from {MANIFEST}")


def instance_of(sample: dict, where: str):
    """The task instance of a sample record; errors name ``where`` (file and line)."""
    try:
        return get_task(sample.get("task", "")).from_record(sample)
    except TaskError as exc:
        raise DatasetError(f"{where}: {exc}") from None


def load_datasets(paths) -> list[Dataset]:
    """Several dataset folders read together; a sample id may appear in only one of them."""
    datasets, seen = [], {}
    for path in paths:
        dataset = load_dataset(path)
        for sample in dataset.samples:
            if sample["id"] in seen:
                raise DatasetError(f"{path}: sample id {sample['id']!r} also appears in {seen[sample['id']]}")
            seen[sample["id"]] = path
        datasets.append(dataset)
    return datasets


def load_dataset(root: Path | str) -> Dataset:
    """Read a dataset folder; a missing or malformed manifest or sample line is a DatasetError."""
    root = Path(root)
    manifest_path = root / MANIFEST
    if not root.is_dir():
        raise DatasetError(f"{root}: no such dataset folder")
    if not manifest_path.is_file():
        hint = " (an interrupted build?)" if root.name.endswith(".incomplete") else ""
        raise DatasetError(f"{root}: not a dataset folder, {MANIFEST} is missing{hint}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{manifest_path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != "mgsd-dataset":
        raise DatasetError(f"{manifest_path}: not an mgsd dataset manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise DatasetError(
            f"{manifest_path}: format_version {manifest.get('format_version')!r} is not supported (expected {FORMAT_VERSION})"
        )
    samples = list(read_jsonl(root / SAMPLES, required=("id", "task", "level", "state", "image")))
    return Dataset(root, manifest, samples)


def read_jsonl(path: Path, required: tuple[str, ...] = ()) -> Iterator[dict]:
    """JSON objects from a JSONL file; blank lines skipped; errors name the file and line."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path} line {lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise DatasetError(f"{path} line {lineno}: expected a JSON object")
            for key in required:
                if key not in obj:
                    raise DatasetError(f"{path} line {lineno}: missing field '{key}'")
            yield obj
