"""Resumable evaluation runs: ``RUN_DIR/run.json`` (the run's fingerprint, see :mod:`.fingerprint`),
``RUN_DIR/results.jsonl`` (one row per case, appended and fsynced as replies arrive) and ``RUN_DIR/summary.json``.

A rerun of the same command skips cases whose latest row succeeded, retries errored ones, and at the end
rewrites ``results.jsonl`` with exactly one row per case (atomically), so a case is never duplicated or lost,
also after ``kill -9`` mid-run (a torn last line is ignored). A rerun whose fingerprint differs (asked from the
server too: the model it serves) is refused before anything is written, unless ``force``: then the folder's
results start over.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path

from task_envs.io_utils import atomic_write_json, atomic_write_text

from . import fingerprint
from .client import ChatClient, ClientSettings, EndpointError, Reply, redact
from .pipelines import Case
from .summary import summarise_run

RESULTS = "results.jsonl"
SUMMARY = "summary.json"
RUN_INFO = "run.json"


def read_results(path: Path) -> dict[str, dict]:
    """Latest row per case key; a torn or corrupt line (a killed writer) is skipped."""
    rows: dict[str, dict] = {}
    if not path.is_file():
        return rows
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and "key" in row:
                rows[row["key"]] = row
    return rows


def prepare_run_dir(run_dir: Path, info: dict, force: bool = False) -> None:
    """Refuse to mix two different runs in one folder (``force``: start the folder over); then write ``run.json``."""
    path = run_dir / RUN_INFO
    try:
        if path.is_file():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise fingerprint.RunMismatch(f"{path}: not valid JSON (use a new --out or --force)") from None
            fingerprint.check(path, old if isinstance(old, dict) else {}, info)
        elif (run_dir / RESULTS).is_file():
            raise fingerprint.RunMismatch(
                f"{run_dir / RESULTS}: results without a run.json (use a new --out or --force)"
            )
    except fingerprint.RunMismatch:
        if not force:
            raise
        for name in (RESULTS, SUMMARY):
            (run_dir / name).unlink(missing_ok=True)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, info)


class _Writer:
    def __init__(self, path: Path):
        torn = False
        if path.is_file() and path.stat().st_size:
            with path.open("rb") as f:
                f.seek(-1, os.SEEK_END)
                torn = f.read(1) != b"\n"
        self.file = path.open("a", encoding="utf-8")
        if torn:  # a writer killed mid-line: end that line, or the next row would be glued to it
            self.file.write("\n")

    def write(self, row: dict) -> None:
        self.file.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        self.file.close()


def _row(case: Case, model: str, reply: Reply | None, error: str | None = None, attempts: int = 0) -> dict:
    text = reply.text if reply else None
    actions, scores = case.score(text) if text is not None else ([], None)
    usage = (reply.usage or {}) if reply else {}
    finish = reply.finish_reason if reply else None
    return {
        "key": case.key,
        "case_id": case.case_id,
        "dataset": case.dataset,
        "task": case.task,
        "level": case.level,
        "variant": case.variant,
        "model": model,
        "endpoint": reply.endpoint if reply else None,
        "text": text,
        "actions": actions,
        "scores": scores,
        "latency_s": reply.latency_s if reply else None,
        "attempts": reply.attempts if reply else attempts,
        "error": error,
        "finish_reason": finish,
        "truncated": finish == "length",
        "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"),
    }


async def _ask(client: ChatClient, cases: list[Case], writer: _Writer, progress) -> None:
    settings = client.settings

    async def one(case: Case):
        try:
            row = _row(case, client.model, await client.chat(case.messages()))
        except EndpointError as exc:
            row = _row(case, client.model, None, str(exc), settings.retries + 1)
        except Exception as exc:  # noqa: BLE001 - a broken case must not stop the run
            row = _row(case, client.model, None, redact(f"{type(exc).__name__}: {exc}", settings.keys))
        writer.write(row)
        progress.update(1)

    await asyncio.gather(*(one(c) for c in cases))


async def _evaluate(
    cases: list[Case],
    settings: ClientSettings,
    run_dir: Path,
    info: dict,
    force: bool,
    progress: bool,
    warn: Callable[[str], None],
) -> dict:
    from tqdm import tqdm

    async with ChatClient(settings) as client:  # asks GET /models before anything is written
        served = client.served
        info = {**info, "model": served.model, "served_model": served.served, "model_guessed": served.guessed}
        prepare_run_dir(run_dir, info, force)
        if served.warning:
            warn(served.warning)
        results = run_dir / RESULTS
        done = {k for k, row in read_results(results).items() if not row.get("error")}
        todo = [c for c in cases if c.key not in done]
        if todo:
            writer = _Writer(results)
            bar = tqdm(
                total=len(cases),
                initial=len(cases) - len(todo),
                desc=f"eval {info['pipeline']}",
                unit="case",
                disable=not progress,
                dynamic_ncols=True,
            )
            try:
                await _ask(client, todo, writer, bar)
            finally:
                writer.close()
                bar.close()
    return info


def run_cases(
    cases: list[Case],
    settings: ClientSettings,
    run_dir: Path | str,
    info: dict,
    progress: bool = True,
    force: bool = False,
    warn: Callable[[str], None] = lambda line: None,
) -> dict:
    """Evaluate the unfinished ``cases`` into ``run_dir``; returns the summary. ``info`` is the fingerprint
    without the model fields (asked from the server here); ``warn`` receives one-line warnings."""
    run_dir = Path(run_dir)
    info = asyncio.run(_evaluate(cases, settings, run_dir, info, force, progress, warn))
    results = run_dir / RESULTS
    # One row per case, in case order; rows of cases no longer asked for are kept after them. Stored replies are
    # scored again (no request): rows written before a reading existed (upstream_*) get it.
    latest = read_results(results)
    for case in cases:
        row = latest.get(case.key)
        if row is not None and row.get("text") is not None:
            row["actions"], row["scores"] = case.score(row["text"])
    ordered = [latest[c.key] for c in cases if c.key in latest]
    keys = {c.key for c in cases}
    ordered += [row for key, row in latest.items() if key not in keys]
    atomic_write_text(results, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered))
    summary = summarise_run(info["pipeline"], [latest[c.key] for c in cases if c.key in latest], info)
    atomic_write_json(run_dir / SUMMARY, summary)
    return summary
