"""Resumable evaluation runs: ``RUN_DIR/run.json`` (the settings), ``RUN_DIR/results.jsonl`` (one row per
case, appended and fsynced as replies arrive) and ``RUN_DIR/summary.json``.

A rerun of the same command skips cases whose latest row succeeded, retries errored ones, and at the end
rewrites ``results.jsonl`` with exactly one row per case (atomically), so a case is never duplicated or lost,
also after ``kill -9`` mid-run (a torn last line is ignored).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from task_envs.errors import TaskError
from task_envs.io_utils import atomic_write_json, atomic_write_text

from .client import ChatClient, ClientSettings, EndpointError, redact
from .pipelines import Case
from .summary import summarise_run

RESULTS = "results.jsonl"
SUMMARY = "summary.json"
RUN_INFO = "run.json"
#: Settings that must match for a rerun to resume (anything else is a different run).
IDENTITY = ("pipeline", "data", "prompt", "model", "limit", "lenient")


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


def check_run_info(run_dir: Path, info: dict) -> None:
    """Refuse to mix two different runs in one folder."""
    path = run_dir / RUN_INFO
    if not path.is_file():
        atomic_write_json(path, info)
        return
    old = json.loads(path.read_text())
    for key in IDENTITY:
        if old.get(key) != info.get(key):
            raise TaskError(f"{run_dir} holds a run with another {key} ({old.get(key)!r}, now {info.get(key)!r}); "
                            "use another --out or delete it")
    atomic_write_json(path, {**old, "endpoints": info.get("endpoints"), "options": info.get("options")})


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


def _row(case: Case, model: str, endpoint: str | None, text: str | None, error: str | None,
         latency: float | None, attempts: int) -> dict:
    actions, scores = case.score(text) if text is not None else ([], None)
    return {"key": case.key, "case_id": case.case_id, "dataset": case.dataset, "task": case.task, "level": case.level,
            "variant": case.variant, "model": model, "endpoint": endpoint, "text": text, "actions": actions,
            "scores": scores, "latency_s": latency, "attempts": attempts, "error": error}


async def _run(cases: list[Case], settings: ClientSettings, writer: _Writer, progress) -> tuple[str, int]:
    errors = 0
    async with ChatClient(settings) as client:
        async def one(case: Case):
            nonlocal errors
            try:
                reply = await client.chat(case.messages())
                row = _row(case, client.model, reply.endpoint, reply.text, None, reply.latency_s, reply.attempts)
            except EndpointError as exc:
                errors += 1
                row = _row(case, client.model, None, None, str(exc), None, settings.retries + 1)
            except Exception as exc:  # noqa: BLE001 - a broken case must not stop the run
                errors += 1
                row = _row(case, client.model, None, None, redact(f"{type(exc).__name__}: {exc}", settings.api_key), None, 0)
            writer.write(row)
            progress.update(1)

        await asyncio.gather(*(one(c) for c in cases))
        return client.model, errors


def run_cases(cases: list[Case], settings: ClientSettings, run_dir: Path | str, info: dict,
              progress: bool = True) -> dict:
    """Evaluate the unfinished ``cases`` into ``run_dir``; returns the summary."""
    from tqdm import tqdm

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    check_run_info(run_dir, info)
    results = run_dir / RESULTS
    done = {k for k, row in read_results(results).items() if not row.get("error")}
    todo = [c for c in cases if c.key not in done]
    if todo:
        writer = _Writer(results)
        bar = tqdm(total=len(cases), initial=len(cases) - len(todo), desc=f"eval {info['pipeline']}", unit="case",
                   disable=not progress, dynamic_ncols=True)
        try:
            model, _ = asyncio.run(_run(todo, settings, writer, bar))
        finally:
            writer.close()
            bar.close()
        if not info.get("model"):
            info = {**info, "model": model}
    # One row per case, in case order; rows of cases no longer asked for are kept after them.
    latest = read_results(results)
    ordered = [latest[c.key] for c in cases if c.key in latest]
    keys = {c.key for c in cases}
    ordered += [row for key, row in latest.items() if key not in keys]
    atomic_write_text(results, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered))
    summary = summarise_run(info["pipeline"], [latest[c.key] for c in cases if c.key in latest], info)
    atomic_write_json(run_dir / SUMMARY, summary)
    return summary
