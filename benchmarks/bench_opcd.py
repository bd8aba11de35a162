"""Throughput and peak memory of the single-process OPCD trainer on the tiny local Qwen3-VL.

Runs a few real OPCD steps (rollout, student and teacher scoring, PPO-clip update) and prints samples/s,
response tokens/s and peak memory (CUDA: max allocated; CPU: max resident set). Run it in the opcd
environment, on a CPU or a GPU (device=auto):

    .venvs/opcd/bin/python benchmarks/bench_opcd.py [--steps 6] [--batch 8] [--response 64] [--device auto]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--micro", type=int, default=4)
    parser.add_argument("--response", type=int, default=64, help="response tokens per sample (fixed length)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    import torch

    from mgsd_opcd.sp_config import load_config
    from mgsd_opcd.sp_train import Trainer
    from mgsd_sft.tiny_model import build
    from task_envs.dataset.generate import build_dataset, default_spec
    from task_envs.exporters.verl import export_verl

    work = REPO / "data" / "bench_opcd"
    shutil.rmtree(work, ignore_errors=True)
    model = build(REPO / "models" / "tiny-qwen3-vl")
    data, _ = build_dataset(default_spec("train", per_level=4, seed=2), work / "train", progress=False)
    parquet, _ = export_verl([str(data)], work / "train.parquet")
    cfg = load_config(
        REPO / "EasyR1" / "configs" / "opcd_single_process.yaml",
        [
            f"model_path={model}",
            f"teacher_model_path={model}",
            f"train_file={parquet}",
            "val_file=",
            f"output_dir={work / 'run'}",
            f"batch_size={args.batch}",
            f"micro_batch_size={args.micro}",
            f"max_response_length={args.response}",
            f"device={args.device}",
            "lr=1e-5",
        ],
    )
    trainer = Trainer(cfg)
    trainer.eos = set()  # fixed-length responses: comparable figures whatever the random model emits
    rows = trainer.train_rows
    figures = []
    for step in range(args.steps + 1):
        batch = rows[(step * args.batch) % (len(rows) - args.batch) :][: args.batch]
        metrics = trainer.train_step(batch)
        trainer.step += 1
        if step:  # the first step warms up kernels and allocators
            figures.append(metrics)
    sps = statistics.median(m["perf/samples_per_s"] for m in figures)
    tps = statistics.median(m["perf/response_tokens_per_s"] for m in figures)
    if trainer.device.type == "cuda":
        peak = f"{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB GPU (max allocated)"
        name = torch.cuda.get_device_name()
    else:
        peak = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB RSS"
        name = f"CPU, {torch.get_num_threads()} threads"
    print(
        f"device: {name}; batch {args.batch}, micro {args.micro}, {args.response} response tokens, "
        f"median of {len(figures)} steps"
    )
    print(f"samples/s: {sps:.2f}   response tokens/s: {tps:.0f}   peak memory: {peak}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
