"""Validation metrics and checkpoint selection shared by both OPCD trainers.

Keys (logged by the single-process trainer and by verl's trainer alike):

- ``val/reward_score``: all-task macro success (success averaged over levels within each task, then over
  tasks): MGSD's headline number, and what selects the best checkpoint;
- ``val/optimal``, ``val/progress``: the same macro average of the optimal-plan rate and progress;
- ``val/by_task/<task>_success``: one task's success, averaged over its levels;
- ``val/by_task_level/<task>_level_<level>_success``: one cell.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from task_envs.metrics import summarise

HEADLINE_KEY = "val/reward_score"
#: verl's per-step checkpoint folders and the tracker both trainers write beside them.
STEP_DIR = re.compile(r"^global_step_(\d+)$")
TRACKER = "checkpoint_tracker.json"


def validation_metrics(rows: list[dict]) -> dict[str, float]:
    """Metrics of scored validation rows (``task``, ``level``, ``scores`` as ``task_envs.metrics.summarise``)."""
    summary = summarise(rows)
    macro = summary["all_tasks_macro"]
    out = {
        HEADLINE_KEY: macro.get("success", 0.0),
        "val/optimal": macro.get("optimal", 0.0),
        "val/progress": macro.get("progress", 0.0),
    }
    for task, entry in summary["by_task"].items():
        out[f"val/by_task/{task}_success"] = entry["success"]
    for task, levels in summary["by_task_level"].items():
        for level, entry in levels.items():
            out[f"val/by_task_level/{task}_level_{level}_success"] = entry["success"]
    return out


class CheckpointTracker:
    """Records which ``global_step_N`` folders exist and their validation scores, and prunes old ones.

    ``save_limit`` newest checkpoints are kept, plus the best-scoring one, whatever its age. The tracker
    file holds ``last_global_step``, ``best_global_step``, ``best_val_score`` and every ``scores`` entry.
    """

    def __init__(self, root: str | Path, save_limit: int = 0):
        self.root = Path(root)
        self.save_limit = save_limit
        self.path = self.root / TRACKER

    def read(self) -> dict:
        return json.loads(self.path.read_text()) if self.path.is_file() else {"scores": {}}

    def _write(self, state: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
        tmp.replace(self.path)

    def saved(self, step: int) -> None:
        """A checkpoint of ``step`` was written."""
        state = self.read()
        state["last_global_step"] = step
        state.setdefault("scores", {}).setdefault(str(step), None)
        self._write(state)
        self.prune()

    def scored(self, step: int, score: float | None) -> None:
        """Validation of ``step``'s weights gave ``score``; only a saved step can become the best."""
        state = self.read()
        scores = state.setdefault("scores", {})
        if str(step) not in scores or score is None:
            return
        scores[str(step)] = float(score)
        best = state.get("best_global_step")
        # ties go to the later checkpoint: the same score after more training
        if best is None or scores.get(str(best)) is None or float(score) >= scores[str(best)]:
            state["best_global_step"], state["best_val_score"] = step, float(score)
        self._write(state)
        self.prune()

    def prune(self) -> list[int]:
        """Delete checkpoints beyond ``save_limit`` that are not the best; returns the deleted steps."""
        if self.save_limit <= 0:
            return []
        state = self.read()
        steps = sorted(int(m.group(1)) for p in self.root.iterdir() if (m := STEP_DIR.match(p.name)) and p.is_dir())
        keep = set(steps[-self.save_limit :])
        if state.get("best_global_step") is not None:
            keep.add(int(state["best_global_step"]))
        removed = [s for s in steps if s not in keep]
        for step in removed:
            shutil.rmtree(self.root / f"global_step_{step}", ignore_errors=True)
            state["scores"].pop(str(step), None)
        if removed:
            self._write(state)
        return removed
