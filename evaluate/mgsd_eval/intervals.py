"""95% intervals for the report: Wilson score intervals for a rate in one cell, and a stratified percentile
bootstrap for averages of cell means (the per-task macro over levels and the all-task macro over tasks).

The bootstrap resamples cases with replacement within each (task, level) cell, recomputes every cell mean,
then the macros exactly as ``task_envs.metrics.summarise`` does (levels equally weighted within a task,
tasks equally weighted), and takes the 2.5th and 97.5th percentiles of each. A fixed seed makes reports
reproducible. Like any resampling of observed cases it cannot see variation the cases do not show: cells
whose cases all agree (all 0 or all 1) contribute no spread, so small runs give too narrow macro intervals.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 0

WILSON = "Wilson score interval (no continuity correction)"
BOOTSTRAP = (
    f"percentile bootstrap, {RESAMPLES} resamples of the cases within each task and level cell "
    f"(stratified), seed {SEED}"
)


def z_value(confidence: float = CONFIDENCE) -> float:
    """The two-sided standard normal quantile: 1.959964 for 95%."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: float, n: int, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Wilson score interval of ``successes`` out of ``n``; None when ``n`` is 0."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, n]; got {successes} of {n}")
    z = z_value(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def is_binary(values) -> bool:
    return all(v in (0, 1) for v in values)


def _percentiles(draws: np.ndarray, confidence: float) -> tuple[float, float]:
    lo, hi = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(lo), float(hi)


def cell_interval(
    values, binary: bool | None = None, confidence: float = CONFIDENCE, resamples: int = RESAMPLES, seed: int = SEED
) -> tuple[tuple[float, float] | None, str | None]:
    """(interval, method) for the mean of one cell: Wilson for a 0/1 metric, else a percentile bootstrap
    (``binary=None``: decided by the values)."""
    values = list(values)
    if not values:
        return None, None
    if binary is None:
        binary = is_binary(values)
    if binary:
        return wilson(sum(values), len(values), confidence), "wilson"
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    draws = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    return _percentiles(draws, confidence), "bootstrap"


def macro_bootstrap(
    cells: dict[str, dict[str, list[float]]],
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> dict:
    """Intervals of each task's macro over levels and of the all-task macro over tasks.

    ``cells`` maps task -> level -> the per-case values of one metric (empty cells are skipped, as the
    summary skips them). Returns ``{"by_task": {task: (lo, hi)}, "all_tasks_macro": (lo, hi) | None}``.
    """
    rng = np.random.default_rng(seed)
    task_draws: dict[str, np.ndarray] = {}
    for task in cells:  # insertion order: the summary's task and level order, so a seed gives one answer
        level_draws = []
        for values in cells[task].values():
            data = np.asarray(values, dtype=float)
            if data.size:
                level_draws.append(data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1))
        if level_draws:
            task_draws[task] = np.mean(level_draws, axis=0)
    out = {"by_task": {t: _percentiles(d, confidence) for t, d in task_draws.items()}, "all_tasks_macro": None}
    if task_draws:
        out["all_tasks_macro"] = _percentiles(np.mean(list(task_draws.values()), axis=0), confidence)
    return out
