"""The task reward for OPCD, on ``task_envs.score``. It is logged and drives validation (checkpoint
selection by macro success); it never enters the gradient.

verl's reward managers call ``compute_score(data_source, solution_str, ground_truth, extra_info)``;
``extra_info["record"]`` (written by ``mgsd data export verl``) is the task state the response is
replayed on.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from task_envs import get_task

#: Keys of the returned dict besides ``score`` (verl logs every key).
SCORE_KEYS = ("success", "optimal", "progress", "format", "parse", "illegal", "fell")


@lru_cache(maxsize=65536)
def _instance(record_json: str):
    record = json.loads(record_json)
    task = get_task(record["task"])
    return task, task.from_record(record)


def instance_from_extra(extra_info: Any):
    """(task, instance) from a verl row's ``extra_info`` (cached: a row is scored once per epoch)."""
    if not isinstance(extra_info, dict) or "record" not in extra_info:
        raise ValueError("extra_info has no 'record' (export the data with `mgsd data export verl`)")
    record = extra_info["record"]
    return _instance(record if isinstance(record, str) else json.dumps(record, sort_keys=True))


def score_response(extra_info: Any, response: str) -> dict:
    """``task_envs`` score of ``response`` with ``score`` = success (float)."""
    task, instance = instance_from_extra(extra_info)
    result = task.score(instance, response)
    out = {"score": float(result["success"])}
    out.update({k: float(result[k]) for k in SCORE_KEYS})
    out["task"] = task.name
    out["level"] = int(instance.level)
    return out


def compute_score(
    data_source: str, solution_str: str, ground_truth: str | None = None, extra_info: dict | None = None, **kwargs
) -> dict:
    """verl's custom reward function (``reward.custom_reward_function.path=pkg://mgsd_opcd.reward``)."""
    out = score_response(extra_info, solution_str)
    del out["task"], out["level"]  # verl averages every key over the batch; only the rates go back
    return out
