"""Compose and check the verl OPCD config exactly as ``verl.trainer.main_ppo`` will see it.

    python -m mgsd_opcd.verl_config --size 4b [hydra overrides ...]   # prints the resolved YAML

Used by ``EasyR1/train_opcd.sh`` before it starts Ray (``DRY_RUN=1`` stops there), so a bad override or GPU
split fails in seconds with verl's own message instead of after the cluster came up.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


def compose_config(size: str, overrides: list[str] = ()):
    """verl's ppo_trainer + the OPCD recipe + the size's yaml + ``overrides``, validated by verl."""
    from hydra import compose, initialize_config_dir
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        cfg = compose(config_name=f"opcd_qwen3vl_{size}", overrides=list(overrides))
    check_batch_split(cfg)
    check_on_policy(cfg)
    validate_config(cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg))
    return cfg


def check_batch_split(cfg) -> None:
    """Each rollout batch is split evenly over the trainer's GPUs of every node (verl asserts it deep in its
    checks; this says which settings to change)."""
    batch, n = cfg.data.train_batch_size, cfg.actor_rollout_ref.rollout.n
    gpus, nodes = cfg.trainer.n_gpus_per_node, cfg.trainer.nnodes
    if (batch * n) % (gpus * nodes):
        raise ValueError(
            f"the train batch ({batch} prompts x {n} responses) must divide by TRAINER_GPUS x NNODES "
            f"= {gpus} x {nodes}: change TRAINER_GPUS, NNODES or data.train_batch_size"
        )


def check_on_policy(cfg) -> None:
    """OPCD's advantage is log p_teacher - log p_student of the sampled tokens. verl scores the teacher at
    temperature 1 whatever the rollout's, and computes the student's term from the update's own forward pass,
    which is the policy that sampled only for one update per rollout batch (PPO mini-batch = the batch, one
    epoch). Anything else would distil an off-policy signal silently."""
    actor, rollout = cfg.actor_rollout_ref.actor, cfg.actor_rollout_ref.rollout
    if rollout.temperature != 1.0:
        raise ValueError(
            f"actor_rollout_ref.rollout.temperature={rollout.temperature}: OPCD samples at 1.0, the "
            "temperature verl scores the teacher at (validation has its own val_kwargs.temperature)"
        )
    if actor.ppo_epochs != 1 or actor.ppo_mini_batch_size != cfg.data.train_batch_size:
        raise ValueError(
            f"actor ppo_epochs={actor.ppo_epochs}, ppo_mini_batch_size={actor.ppo_mini_batch_size} with "
            f"data.train_batch_size={cfg.data.train_batch_size}: the k1 advantage is on-policy only with "
            "one update per batch: set ppo_epochs=1 and ppo_mini_batch_size=data.train_batch_size"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mgsd_opcd.verl_config", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("4b", "8b", "tiny"), default="4b")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides (key=value)")
    args = parser.parse_args(argv)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # verl reports its checks on stdout; stdout is the YAML
            cfg = compose_config(args.size, args.overrides)
    except Exception as exc:  # Hydra and verl raise many kinds; the launcher wants one line
        print(f"mgsd_opcd: invalid verl config: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    from omegaconf import OmegaConf

    print(OmegaConf.to_yaml(cfg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
