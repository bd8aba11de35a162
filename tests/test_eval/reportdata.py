"""Synthetic evaluation runs and training logs for the report tests (no server): rows with scores drawn at a
chosen success rate, written as a run folder the way the runner writes one."""

import json
import random
from pathlib import Path

from mgsd_eval.summary import summarise_run
from task_envs import get_task

LEVELS = {"frozenlake": (3, 4, 5), "maze": (3, 4), "minibehaviour": (5, 6)}


def plan_scores(success: bool, rng: random.Random) -> dict:
    fell = int(not success and rng.random() < 0.3)
    return {
        "success": int(success),
        "optimal": int(success and rng.random() < 0.7),
        "progress": 1.0 if success else rng.random() / 2,
        "format": int(success or rng.random() < 0.8),
        "parse": 1,
        "illegal": int(not success and not fell),
        "fell": fell,
    }


def perception_scores(task: str, p: float, rng: random.Random) -> dict:
    out = {}
    for q in get_task(task).perception_questions:
        out[q.key] = int(rng.random() < p)
        if q.kind in ("positions", "open_directions", "moves"):
            out[f"{q.key}_f1"] = 1.0 if out[q.key] else rng.random()
    exact = [out[q.key] for q in get_task(task).perception_questions]
    out["field_accuracy"], out["all_correct"] = sum(exact) / len(exact), int(all(exact))
    return out


def make_rows(
    pipeline: str,
    rate: float,
    per_cell: int = 4,
    seed: int = 0,
    usage: bool = True,
    truncate_every: int = 5,
    dataset: str = "/data/quickstart/test",
    errors: int = 0,
) -> list[dict]:
    rng = random.Random(seed)
    variants = {"planning": ["student"], "perception": ["perception"], "modality-gap": ["visual", "symbolic"]}[pipeline]
    rows, i = [], 0
    for variant in variants:
        p = min(1.0, rate * (1.6 if variant == "symbolic" else 1.0))
        for task, levels in LEVELS.items():
            for level in levels:
                for k in range(per_cell):
                    i += 1
                    key = f"{task}-{level}-{k}" + (f"/{variant}" if pipeline == "modality-gap" else "")
                    row = {
                        "key": key,
                        "case_id": key.split("/")[0],
                        "dataset": dataset,
                        "task": task,
                        "level": level,
                        "variant": variant,
                        "model": "m",
                        "text": "x",
                        "error": None,
                    }
                    if errors and k == 0 and level == levels[0]:
                        row.update(text=None, scores=None, error="HTTP 500")
                        errors -= 1
                    elif pipeline == "perception":
                        row["scores"] = perception_scores(task, p, rng)
                    else:
                        row["scores"] = plan_scores(rng.random() < p, rng)
                    if usage and not row["error"]:
                        finish = "length" if truncate_every and i % truncate_every == 0 else "stop"
                        row.update(
                            finish_reason=finish,
                            truncated=finish == "length",
                            prompt_tokens=100 + level,
                            completion_tokens=40 + k,
                        )
                    rows.append(row)
    return rows


def write_run(folder: Path, pipeline: str, rows: list[dict], label: str, statistics: bool = True) -> Path:
    """A run folder: results.jsonl, run.json, summary.json (without ``statistics`` to imitate an old run)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    info = {
        "pipeline": pipeline,
        "label": label,
        "model": f"model-{label}",
        "data": sorted({r["dataset"] for r in rows}),
        "prompt": "student" if pipeline == "planning" else None,
    }
    (folder / "run.json").write_text(json.dumps(info))
    summary = summarise_run(pipeline, rows, info)
    if not statistics:
        del summary["statistics"]
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def write_single_metrics(folder: Path, steps: int = 6, val_every: int = 2, start: int = 0) -> Path:
    """The single-process trainer's metrics.jsonl: validation at step 0 and every ``val_every`` steps."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [{"step": 0, "val/reward_score": 0.1}] if start == 0 else []
    for s in range(max(1, start), steps + 1):
        row = {
            "step": s,
            "actor/reverse_kl": 0.5 / s,
            "actor/pg_loss": 0.01,
            "response_length/mean": 30.0 + s,
            "reward/success": 0.1,
        }
        if s % val_every == 0:
            row["val/reward_score"] = min(1.0, 0.1 + 0.1 * s)
        lines.append(row)
    (folder / "metrics.jsonl").write_text("".join(json.dumps(l) + "\n" for l in lines))
    return folder


def verl_rows(steps, val_every: int = 2, kl: float = 0.4, base: float = 0.0) -> list[dict]:
    rows = []
    for s in steps:
        data = (
            {}
            if s == 0
            else {
                "actor/distillation/abs_loss": kl / s,
                "actor/distillation/loss": -kl / (2 * s),
                "response_length/mean": 20.0 + 2 * s,
                "critic/score/mean": 0.0,
            }
        )
        if s % val_every == 0:
            data["val/reward_score"] = min(1.0, base + 0.05 * s)
        rows.append({"step": s, "data": data})
    return rows


def write_verl_metrics(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
