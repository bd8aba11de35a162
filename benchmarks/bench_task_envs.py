"""Throughput of the task_envs data pipeline and scorer.

Prints, per task:
- generation pipeline (instances, images rendered and PNG-encoded, sample records) in samples/s with
  1 worker and with N workers, and the N/1 ratio; this is what the issue's targets are about;
- the end-to-end ``build_dataset`` into a folder (adds disk writes, which vary a lot on shared VMs);
- scoring throughput in responses/s (warm: instance plans cached, as when several runs are scored
  against one dataset; cold: every response against a freshly loaded instance).
Upstream's generators on this kind of machine (from the issue): FrozenLake ~53, Maze ~600,
MiniBehaviour ~340 samples/s on one core.

    python benchmarks/bench_task_envs.py [--per-level 300] [--workers 2] [--responses 50000]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from task_envs import TASKS, get_task  # noqa: E402
from task_envs.answers import format_answer  # noqa: E402
from task_envs.dataset.generate import build_dataset, default_spec, generate_samples  # noqa: E402

UPSTREAM = {"frozenlake": 53.0, "maze": 600.0, "minibehaviour": 340.0}


def time_generation(task: str, per_level: int, workers: int, repeats: int = 3) -> float:
    """Best of ``repeats`` runs (shared VMs are noisy)."""
    spec = default_spec("train", per_level, seed=1, tasks=(task,))
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        n = sum(1 for _ in generate_samples(spec, workers=workers))
        best = max(best, n / (time.perf_counter() - t0))
    return best


def time_build(task: str, per_level: int, workers: int, tmp: Path) -> float:
    spec = default_spec("train", per_level, seed=2, tasks=(task,))
    out = tmp / f"build_{task}_{workers}"
    t0 = time.perf_counter()
    build_dataset(spec, out, workers=workers, progress=False)
    rate = sum(1 for _ in open(out / "samples.jsonl")) / (time.perf_counter() - t0)
    shutil.rmtree(out)
    return rate


def responses_for(task_name: str, instance, rng: random.Random) -> list[str]:
    """A realistic mix: the optimal plan, a random plan, a wordy answer, a missing block."""
    task = get_task(task_name)
    plan = task.optimal_plan(instance)
    random_plan = [rng.choice(task.actions) for _ in range(len(plan) + 2)]
    return [
        "Let me think. The goal is close. " + format_answer(plan),
        format_answer(random_plan),
        "Reasoning...\n<answer>"
        + "".join(a[0].upper() for a in plan if a in ("up", "down", "left", "right"))
        + "</answer>",
        "I would go " + " then ".join(plan),
    ]


def time_scoring(n_responses: int) -> tuple[float, float]:
    rng = random.Random(0)
    cases = []
    for name in TASKS:
        task = get_task(name)
        for level in task.default_levels:
            for seed in range(20):
                instance = task.generate(level, seed)
                cases.append((name, task.to_record(instance), instance))
    work = [(name, record, inst, resp) for name, record, inst in cases for resp in responses_for(name, inst, rng)]
    work = (work * (n_responses // len(work) + 1))[:n_responses]
    for name, _, inst, _ in work:  # warm the per-instance caches
        get_task(name).optimal_length(inst)
    t0 = time.perf_counter()
    for name, _, inst, resp in work:
        get_task(name).score(inst, resp)
    warm = len(work) / (time.perf_counter() - t0)
    cold_work = work[: max(1, n_responses // 10)]
    t0 = time.perf_counter()
    for name, record, _, resp in cold_work:
        task = get_task(name)
        task.score(task.from_record(record), resp)
    cold = len(cold_work) / (time.perf_counter() - t0)
    return warm, cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-level", type=int, default=300, help="samples per level for generation (default 300)")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="parallel worker count (default: cores)"
    )
    parser.add_argument("--responses", type=int, default=50_000, help="responses to score (default 50000)")
    parser.add_argument("--tmp", default=str(REPO / "data"), help="where the end-to-end builds write (default: data/)")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    print(f"generation, {args.per_level} samples per level, default levels (samples/s)")
    header = f"{'task':<14}{'1 worker':>10}{f'{args.workers} workers':>12}{'ratio':>8}{'vs upstream':>13}{'build 1w':>10}{f'build {args.workers}w':>10}"
    print(header)
    print("-" * len(header))
    Path(args.tmp).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench_", dir=args.tmp))
    try:
        for name in TASKS:
            time_generation(name, 5, 1, repeats=1)  # warm sprite and module caches
            one = time_generation(name, args.per_level, 1)
            many = time_generation(name, args.per_level, args.workers)
            build_one = time_build(name, args.per_level, 1, tmp)
            build_many = time_build(name, args.per_level, args.workers, tmp)
            print(
                f"{name:<14}{one:>10.0f}{many:>12.0f}{many / one:>7.2f}x{one / UPSTREAM[name]:>12.1f}x"
                f"{build_one:>10.0f}{build_many:>10.0f}"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    warm, cold = time_scoring(args.responses)
    print(f"scoring, {args.responses} responses (4 kinds, 3 tasks, all default levels)")
    print(f"  warm instances: {warm:,.0f} responses/s")
    print(f"  cold instances: {cold:,.0f} responses/s (record parsed and plan searched per response)")


if __name__ == "__main__":
    main()
