"""verl's OPCD trainer with vLLM's CPU build as its rollout and teacher vs the single-process trainer, on the
same tiny workload.

Both run through ``EasyR1/train_opcd.sh`` (the launcher users run) on the same data, model, batch, response
length and step count, without validation. Printed side by side: start-up (wall time before the first
step), median seconds per step, samples/s, and peak memory (PSS) of the whole process tree (verl runs
Ray, TransferQueue, the FSDP actor and two vLLM servers: rollout and teacher). verl's first step includes
the first weight sync into vLLM. The transformers stand-in server verl used on a CPU before vLLM (removed)
took 4-5 s per later step on this workload's shape, against vLLM's 2.8-2.9 s (shared/reference/frameworks.md).

    .venvs/opcd/bin/python benchmarks/bench_opcd_trainers.py [--steps 4] [--batch 4] [--response 48]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]


def tree_pss(proc: psutil.Process) -> int:
    """Proportional set size of ``proc`` and all its descendants, in bytes: each shared page (torch's and the
    CUDA libraries mapped by every worker, shared-memory buffers) counts once over the tree, not once per
    process as summed RSS would."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def run(trainer: str, env: dict, log: Path) -> dict:
    """Launch one trainer; returns wall time, peak tree RSS and the per-step rows of its metrics.jsonl."""
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", str(REPO / "EasyR1" / "train_opcd.sh")],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env, "TRAINER": trainer},
        )
        handle, peak = psutil.Process(proc.pid), [0]

        def poll():
            while proc.poll() is None:
                try:
                    peak[0] = max(peak[0], tree_pss(handle))
                except psutil.Error:
                    pass
                time.sleep(1.0)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        code = proc.wait()
        watcher.join()
    wall = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"{trainer} failed (exit {code}); see {log}")
    rows = [json.loads(line) for line in (Path(env["OUTPUT_DIR"]) / "metrics.jsonl").read_text().splitlines()]
    return {"wall": wall, "peak": peak[0], "rows": rows}


def step_seconds(result: dict, trainer: str) -> list[float]:
    if trainer == "verl":
        return [r["data"]["timing_s/step"] for r in result["rows"] if "timing_s/step" in r.get("data", {})]
    return [r["perf/step_s"] for r in result["rows"] if "perf/step_s" in r]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--response", type=int, default=48)
    args = parser.parse_args()

    from mgsd_sft.tiny_model import build
    from task_envs.dataset.generate import build_dataset, default_spec
    from task_envs.exporters.verl import export_verl

    work = REPO / "data" / "bench_opcd_trainers"
    shutil.rmtree(work, ignore_errors=True)
    (work / "data").mkdir(parents=True)
    model = build(REPO / "models" / "tiny-qwen3-vl")
    need = args.steps * args.batch
    per_level = max(1, -(-need // 10))
    data, _ = build_dataset(default_spec("train", per_level=per_level, seed=2), work / "train", progress=False)
    export_verl([str(data)], work / "data" / "train.parquet")
    common = {
        "MODEL_SIZE": "tiny",
        "MODEL_PATH": str(model),
        "TEACHER_MODEL_PATH": str(model),
        "DATA_DIR": str(work / "data"),
        "MGSD_OPCD_PYTHON": sys.executable,
    }
    overrides = {
        "verl": f"trainer.total_training_steps={args.steps} data.train_batch_size={args.batch} "
        f"actor_rollout_ref.actor.ppo_mini_batch_size={args.batch} data.max_response_length={args.response} "
        f"actor_rollout_ref.rollout.max_model_len={1024 + args.response} trainer.save_freq=-1",
        "single": f"max_steps={args.steps} batch_size={args.batch} micro_batch_size=2 "
        f"max_response_length={args.response} save_freq=0 lr=1e-4",
    }
    results = {}
    for trainer in ("single", "verl"):
        env = {**common, "OUTPUT_DIR": str(work / trainer), "OPCD_OVERRIDES": overrides[trainer]}
        print(f"running {trainer} ...", file=sys.stderr, flush=True)
        result = run(trainer, env, work / f"{trainer}.log")
        steps = step_seconds(result, trainer)
        if len(steps) != args.steps:
            raise SystemExit(f"{trainer}: expected {args.steps} steps in metrics.jsonl, found {len(steps)}")
        per_step = statistics.median(steps[1:] or steps)  # the first step warms up
        results[trainer] = {
            "startup_s": result["wall"] - sum(steps),
            "s_per_step": per_step,
            "samples_per_s": args.batch / per_step,
            "peak_pss_gib": result["peak"] / 2**30,
        }

    print(
        f"OPCD trainers on CPU ({psutil.cpu_count()} cores), tiny Qwen3-VL, batch {args.batch}, "
        f"{args.response} response tokens, {args.steps} steps (median step after the first), no validation"
    )
    print(f"{'':<16}{'single':>12}{'verl+vLLM':>12}{'verl/single':>13}")
    for key, label, fmt in [
        ("startup_s", "start-up s", "{:.1f}"),
        ("s_per_step", "s/step", "{:.2f}"),
        ("samples_per_s", "samples/s", "{:.2f}"),
        ("peak_pss_gib", "peak PSS GiB", "{:.2f}"),
    ]:
        a, b = results["single"][key], results["verl"][key]
        print(f"{label:<16}{fmt.format(a):>12}{fmt.format(b):>12}{b / a:>12.2f}x")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
