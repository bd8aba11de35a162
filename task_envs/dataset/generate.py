"""Build a dataset folder from a spec: ``mgsd data generate``.

Two phases, both spread over worker processes and both independent of the worker count:
1. candidates: each (task, level, difficulty stream) draws candidate instances from hashed seeds;
   the main process accepts them in candidate order, keeping those of the requested split and
   rejecting duplicates, until the stream has its share;
2. images: accepted instances are rendered and PNG-encoded in parallel, written in sample order.
Maze and MiniBehaviour cycle easy/medium/hard targets by sample index, as upstream does.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .. import __version__
from ..base import DIFFICULTIES
from ..registry import TASKS, get_task
from .folder import DatasetError, DatasetWriter, prepare_output, sha256_bytes
from .samples import encode_png, make_sample
from .splits import SPLIT_FRACTIONS, SPLITS, candidate_seed, split_of

# A stream gives up when this many candidates (divided by the split's share) bring no new instance.
_STALL_CANDIDATES = 2000


@dataclass(frozen=True)
class GenerateSpec:
    """Everything a generated dataset is a pure function of."""

    tasks: tuple[str, ...]
    levels: dict[str, tuple[int, ...]]
    per_level: int
    split: str
    seed: int

    def __post_init__(self):
        if self.split not in SPLITS:
            raise DatasetError(f"--split: expected one of {', '.join(SPLITS)}, got {self.split!r}")
        if self.per_level < 1:
            raise DatasetError(f"--per-level: expected a positive integer, got {self.per_level}")
        for name in self.tasks:
            task = get_task(name)
            for level in self.levels[name]:
                task.check_level(level)

    def to_json(self) -> dict:
        return {
            "builder": "generate",
            "tasks": list(self.tasks),
            "levels": {t: list(self.levels[t]) for t in self.tasks},
            "per_level": self.per_level,
            "split": self.split,
            "seed": self.seed,
            "split_fractions": SPLIT_FRACTIONS,
            "task_envs_version": __version__,
        }


def default_spec(split: str = "train", per_level: int = 10, seed: int = 0, tasks=TASKS) -> GenerateSpec:
    return GenerateSpec(tuple(tasks), {t: get_task(t).default_levels for t in tasks}, per_level, split, seed)


@dataclass
class _Stream:
    task: str
    level: int
    difficulty: str | None
    need: int
    next_index: int = 0
    last_new: int = 0
    accepted: list = field(default_factory=list)
    seen: set = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.difficulty or "any"


def _candidates(args) -> list:
    """Worker: candidates [start, stop) of one stream that fall in ``split``, as (key, instance)."""
    task_name, level, difficulty, split, base_seed, start, stop = args
    task = get_task(task_name)
    out = []
    for index in range(start, stop):
        seed = candidate_seed(base_seed, task_name, level, difficulty or "any", index)
        instance = task.generate(level, seed, difficulty)
        key = task.key(instance)
        if split_of(task_name, key) == split:
            out.append((key, dataclasses.replace(instance)))  # replace() drops cached plans before pickling
        else:
            out.append(None)
    return out


def _render_and_write(args) -> tuple[dict, str]:
    """Worker: render one sample, write its image under ``root`` (if any), return the record and digest."""
    root, task_name, sample_id, split, instance = args
    task = get_task(task_name)
    sample, data = make_sample(task, instance, sample_id, split), encode_png(task.render(instance))
    if root is not None:
        (Path(root) / sample["image"]).write_bytes(data)
    return sample, sha256_bytes(data)


def generate_samples(
    spec: GenerateSpec, workers: int = 1, image_root: Path | str | None = None, progress: bool = False
):
    """Yield (sample record, image sha256) in file order; images are written under ``image_root``
    when given (by the workers), else only rendered and encoded (what the benchmark times)."""
    streams = _streams(spec)
    total = sum(s.need for s in streams)
    executor = _executor(workers)
    try:
        with tqdm(total=total, desc=f"{spec.split}: instances", unit="case", disable=not progress) as bar:
            _accept(spec, streams, executor, workers, bar)
        root = None if image_root is None else str(image_root)
        jobs = [
            (root, name, sample_id, spec.split, instance)
            for name, sample_id, instance in _ordered_samples(spec, streams)
        ]
        rendered = (
            executor.map(_render_and_write, jobs, chunksize=max(8, len(jobs) // (workers * 16)))
            if executor
            else map(_render_and_write, jobs)
        )
        with tqdm(total=total, desc=f"{spec.split}: images", unit="img", disable=not progress) as bar:
            for item in rendered:
                bar.update(1)
                yield item
    finally:
        if executor:
            executor.shutdown(cancel_futures=True)


def _streams(spec: GenerateSpec) -> list[_Stream]:
    streams = []
    for name in spec.tasks:
        task = get_task(name)
        for level in spec.levels[name]:
            if task.balanced_difficulty:
                for b, difficulty in enumerate(DIFFICULTIES):
                    need = len(range(b, spec.per_level, len(DIFFICULTIES)))
                    if need:
                        streams.append(_Stream(name, level, difficulty, need))
            else:
                streams.append(_Stream(name, level, None, spec.per_level))
    return streams


def _accept(spec: GenerateSpec, streams: list[_Stream], executor: Executor | None, workers: int, bar) -> None:
    fraction = SPLIT_FRACTIONS[spec.split]
    while True:
        open_streams = [s for s in streams if len(s.accepted) < s.need]
        if not open_streams:
            return
        jobs = []
        for s in open_streams:
            missing = s.need - len(s.accepted)
            count = int(missing / fraction * 1.15) + 4
            chunk = max(8, -(-count // (2 * workers)))
            for start in range(s.next_index, s.next_index + count, chunk):
                jobs.append((s, start, min(start + chunk, s.next_index + count)))
            s.next_index += count
        args = [(s.task, s.level, s.difficulty, spec.split, spec.seed, a, b) for s, a, b in jobs]
        results = executor.map(_candidates, args) if executor else map(_candidates, args)
        for (s, start, _), found in zip(jobs, results):
            for offset, item in enumerate(found):
                if len(s.accepted) >= s.need:
                    break
                if item is None or item[0] in s.seen:
                    continue
                s.seen.add(item[0])
                s.accepted.append(item[1])
                s.last_new = start + offset
                bar.update(1)
        for s in open_streams:
            if len(s.accepted) < s.need and s.next_index - s.last_new > _STALL_CANDIDATES / fraction:
                raise DatasetError(
                    f"only {len(s.accepted)} distinct {s.task} level-{s.level} instances "
                    f"(difficulty {s.name}) found for split {spec.split!r} after {s.next_index} candidates; "
                    f"asked for {s.need}: lower --per-level or use larger levels"
                )


def _ordered_samples(spec: GenerateSpec, streams: list[_Stream]) -> list[tuple[str, str, object]]:
    """(task, sample id, instance) in file order; buckets interleave easy, medium, hard by index."""
    by_key = {(s.task, s.level, s.difficulty): iter(s.accepted) for s in streams}
    out = []
    for name in spec.tasks:
        task = get_task(name)
        for level in spec.levels[name]:
            for index in range(spec.per_level):
                difficulty = DIFFICULTIES[index % len(DIFFICULTIES)] if task.balanced_difficulty else None
                instance = next(by_key[(name, level, difficulty)])
                out.append((name, f"{name}_{spec.split}_level{level}_{index:05d}", instance))
    return out


def _executor(workers: int) -> Executor | None:
    if workers <= 1:
        return None
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def build_dataset(
    spec: GenerateSpec, out: Path | str, workers: int = 1, force: bool = False, progress: bool = True
) -> tuple[Path, bool]:
    """Build ``out`` from ``spec``; returns (path, built). An existing folder with the same spec is
    reused (built=False); one with another spec is an error unless ``force``."""
    out = Path(out)
    if not prepare_output(out, spec.to_json(), force):
        return out, False
    with DatasetWriter(out) as writer:
        for sample, digest in generate_samples(spec, workers, writer.tmp, progress):
            writer.record_image(sample["image"], digest)
            writer.add_sample(sample)
        writer.finish(spec.to_json(), replace=force)
    return out, True
