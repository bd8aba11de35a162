"""Perception-SFT stage helpers: the tiny local Qwen3-VL, the CPU compatibility step, launcher config
resolution and merged-checkpoint checks. Runs in the `sft` environment (LLaMA-Factory, torch)."""
