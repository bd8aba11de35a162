"""verl 0.9.1's synchronous trainer with MGSD's validation: macro success per task and level, and the best
checkpoint kept by it.

verl reports a validation mean per ``data_source`` (``mgsd/<task>/<level>`` here) and deletes checkpoints
by age. This trainer adds the keys of :mod:`mgsd_opcd.validation` (``val/reward_score`` = all-task macro
success, the headline) and keeps ``mgsd_opcd.save_limit`` newest checkpoints plus the best one, recorded in
``<default_local_dir>/checkpoint_tracker.json``. Registered with verl's public ``register_trainer`` and
selected by ``trainer.v1.trainer_mode=mgsd_opcd`` (``EasyR1/configs/opcd_recipe.yaml``).
"""

from __future__ import annotations

from omegaconf import open_dict
from verl.trainer.ppo.v1 import PPOTrainerSync, register_trainer

from .validation import HEADLINE_KEY, CheckpointTracker, validation_metrics

TRAINER_MODE = "mgsd_opcd"
#: Reward keys that are per-case rates (``mgsd_opcd.reward.SCORE_KEYS``).
RATE_KEYS = ("success", "optimal", "progress", "format", "parse", "illegal", "fell")


def rows_from_verl(data_sources: list[str], infos: dict[str, list]) -> list[dict]:
    """Scored rows from verl's per-sample validation lists (``data_source`` = ``mgsd/<task>/<level>``)."""
    rows = []
    for i, source in enumerate(data_sources):
        parts = str(source).split("/")
        if len(parts) != 3 or parts[0] != "mgsd" or not parts[2].isdigit():
            raise ValueError(
                f"data_source {source!r} is not mgsd/<task>/<level> (re-export with `mgsd data export verl`)"
            )
        rows.append(
            {
                "task": parts[1],
                "level": int(parts[2]),
                "scores": {k: float(infos[k][i]) for k in RATE_KEYS if k in infos},
            }
        )
    return rows


@register_trainer(TRAINER_MODE)
class OPCDTrainer(PPOTrainerSync):
    """verl's sync trainer (colocated actor and rollout) plus MGSD's validation and checkpoint selection."""

    def __init__(self, config):
        # verl branches on trainer_mode == "sync" in many places; this trainer is that mode.
        with open_dict(config):
            config.trainer.v1.trainer_mode = "sync"
        super().__init__(config)
        section = config.get("mgsd_opcd", None) or {}
        self.tracker = CheckpointTracker(config.trainer.default_local_dir, int(section.get("save_limit", 0) or 0))

    def _val_metrics_update(self, data_sources, sample_uids, reward_extra_infos_dict, sample_turns, **kwargs):
        metrics = super()._val_metrics_update(
            data_sources, sample_uids, reward_extra_infos_dict, sample_turns, **kwargs
        )
        metrics.update(validation_metrics(rows_from_verl(list(data_sources), reward_extra_infos_dict)))
        return metrics

    def _save_checkpoint(self):
        super()._save_checkpoint()
        self.tracker.saved(self.global_steps)

    def _validate(self):
        metrics = super()._validate()
        self.tracker.scored(self.global_steps, metrics.get(HEADLINE_KEY))
        return metrics
