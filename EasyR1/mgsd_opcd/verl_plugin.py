"""verl 0.9.1 extension for OPCD: the distillation teacher reads the symbolic state, not the image.

verl's on-policy distillation scores the student's own prompt (image included) + response with the
teacher. OPCD's teacher instead reads ``teacher_system_prompt`` + ``teacher_context`` (from the row's
``extra_info``), text only, followed by the same response ids; its log-probs are then realigned to the
student's response positions. Everything else (k1 advantage, PPO-clip, no KL penalty) is verl's own,
set in ``EasyR1/configs/opcd_qwen3vl_*.yaml``.

Selected with ``actor_rollout_ref.rollout.agent.agent_loop_manager_class=mgsd_opcd.verl_plugin.OPCDAgentLoopManager``.
The package is also a ``verl.plugins`` entry point, so verl imports it in every process (Ray actors too);
``EasyR1/train_opcd.sh`` also names it in ``VERL_USE_EXTERNAL_MODULES``, where a failed import is an error
rather than a debug-level log line. Importing it registers the ``mgsd_opcd`` trainer (``verl_trainer.py``).
These are ``verl.experimental`` internals: verl is pinned to 0.9.1 and the override is tested.
"""

from __future__ import annotations

import ray
import torch
import transfer_queue as tq
from verl.experimental.agent_loop.agent_loop import AgentLoopWorker
from verl.trainer.ppo.v1.agent_loop_tq import AgentLoopManagerTQ, AgentLoopWorkerTQ

from . import (
    verl_fixes,  # noqa: F401  (a verl 0.9.1 bug fix: equal-length batches of mRoPE position ids)
    verl_trainer,  # noqa: F401  (registers trainer.v1.trainer_mode=mgsd_opcd)
)
from .teacher import realign_teacher_outputs, teacher_messages_for, teacher_prompt_ids

#: The project's own config section (``mgsd_opcd:`` in the Hydra yaml).
CONFIG_SECTION = "mgsd_opcd"


def reference_plan_enabled(config) -> bool:
    section = config.get(CONFIG_SECTION, None) if hasattr(config, "get") else None
    return bool(section.get("teacher_reference_plan", True)) if section is not None else True


class OPCDAgentLoopWorkerImpl(AgentLoopWorkerTQ.__ray_actor_class__):
    """The TQ agent-loop worker with OPCD's teacher input."""

    def __init__(self, *args, **kwargs):
        # verl's AgentLoopWorkerTQ.__init__ calls the zero-argument super(), whose class cell is Ray's
        # wrapped class; once this subclass is wrapped by ray.remote again, that super() raises
        # "TypeError: super(type, obj): obj must be an instance or subtype of type" when Ray constructs
        # the actor. So this does the TQ worker's __init__ itself (verl 0.9.1: the base worker's, then
        # TransferQueue's client init and the task set).
        AgentLoopWorker.__init__(self, *args, **kwargs)
        tq.init()
        self.background_tasks = set()

    async def _compute_teacher_logprobs(self, output, prompt_ids, response_ids, validate, sample_kwargs=None) -> None:
        if not self.distillation_enabled or validate:
            return
        extra_info = (sample_kwargs or {}).get("extra_info")
        messages = teacher_messages_for(extra_info, reference_plan_enabled(self.config))
        t_prompt = teacher_prompt_ids(self.tokenizer, messages)
        routing = (sample_kwargs or {}).get(self.teacher_key)
        routing = routing.item() if hasattr(routing, "item") else routing
        ids, logprobs = await self.teacher_server_manager.compute_teacher_logprobs_single(
            sequence_ids=t_prompt + list(response_ids),
            multi_modal_data=None,  # the teacher never sees the image
            routing_key=routing,
        )
        ids, logprobs = realign_teacher_outputs(
            torch.as_tensor(ids), torch.as_tensor(logprobs), len(t_prompt), len(prompt_ids), len(response_ids)
        )
        output.extra_fields["teacher_ids"] = ids
        output.extra_fields["teacher_logprobs"] = logprobs


OPCDAgentLoopWorker = ray.remote(OPCDAgentLoopWorkerImpl)


class OPCDAgentLoopManager(AgentLoopManagerTQ):
    """verl's TQ agent-loop manager running :class:`OPCDAgentLoopWorker` actors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.agent_loop_workers_class = OPCDAgentLoopWorker


def register() -> str:
    """``verl.plugins`` entry point: importing this module is the registration; returns the manager's path."""
    return f"{OPCDAgentLoopManager.__module__}.{OPCDAgentLoopManager.__qualname__}"
