"""Seeds and split membership for generated datasets.

An instance's split is a pure function of its content (a hash of the task's canonical key), so the
train, val and test splits are disjoint by construction: two builds can never put the same instance
in two splits, whatever their seeds. Candidate seeds are hashed from (base seed, task, level, stream,
candidate index), so each candidate is independent of every other and of the worker count.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "val", "test")
# Share of the instance space (by hash) that each split draws from.
SPLIT_FRACTIONS = {"train": 0.8, "val": 0.1, "test": 0.1}
_BOUNDS = {"train": (0.0, 0.8), "val": (0.8, 0.9), "test": (0.9, 1.0)}


def _unit(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


def split_of(task: str, key: str) -> str:
    """The split an instance belongs to, from its task name and canonical key."""
    u = _unit(f"mgsd-split/{task}/{key}")
    for split, (lo, hi) in _BOUNDS.items():
        if lo <= u < hi:
            return split
    return "test"


def candidate_seed(base_seed: int, task: str, level: int, stream: str, index: int) -> int:
    """A 63-bit seed for candidate ``index`` of one (task, level, difficulty stream)."""
    digest = hashlib.sha256(f"mgsd-seed/{base_seed}/{task}/{level}/{stream}/{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1
