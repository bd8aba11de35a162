"""A rollout and teacher server for verl 0.9.1 on transformers ``generate``, for machines without vLLM.

verl's agent loop talks to rollout servers through Ray actor calls shaped like its vLLM server
(``generate`` returning a ``TokenOutput``, plus ``wake_up``/``sleep``/``abort_all_requests``/...), and the
distillation teacher pool reuses the same server class with ``prompt_logprobs`` requests. This module
provides that server on a Hugging Face model:

- :class:`HFRolloutServer`: the Ray actor; samples responses (vision placeholder tokens banned: an
  untrained model samples them and verl's position ids then fail), scores prompts for the teacher in
  vLLM's ``prompt_logprobs`` layout, and takes weight updates from the trainer;
- :class:`HFReplica`: verl's ``RolloutReplica`` for it (one server per replica);
- :class:`HFServerAdapter`: verl's ``BaseRollout`` living in the trainer process, which pushes the
  trainer's weights to the server after each step (verl's ``naive`` checkpoint engine calls it).

Registered under the rollout name ``hf`` by :func:`register` (see ``registry.py``). It is for tests and
laptops: one request at a time, no KV-cache management. GPU runs use vLLM.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Optional

import ray
import torch

from verl.utils.config import omega_conf_to_dataclass
from verl.workers.rollout.base import BaseRollout
from verl.workers.rollout.replica import RolloutReplica, TokenOutput

logger = logging.getLogger(__name__)

#: The rollout name (``actor_rollout_ref.rollout.name`` and the teacher's ``inference.name``).
ROLLOUT_NAME = "hf"
#: Tokens a rollout never samples: they only stand for image/video features inserted by the processor.
VISION_PLACEHOLDERS = ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>")


def _server_name(replica_rank: int, node_rank: int, suffix: str = "", teacher: bool = False) -> str:
    return f"hf_server_{'teacher_' if teacher else ''}{replica_rank}_{node_rank}{suffix}"


def banned_token_ids(tokenizer) -> list[int]:
    """Ids of the vision placeholder tokens the tokenizer knows."""
    vocab = tokenizer.get_vocab()
    return sorted(vocab[t] for t in VISION_PLACEHOLDERS if t in vocab)


def prompt_logprob_rows(logits: torch.Tensor, ids: list[int]) -> tuple[list[list[int]], list[list[float]]]:
    """vLLM's ``prompt_logprobs`` layout as verl extracts it: row ``i`` holds token ``i + 1`` and its
    log-prob given tokens ``0..i``; the last row is a dummy ``(0, 0.0)``."""
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    target = torch.tensor(ids[1:], dtype=torch.long)
    picked = logprobs[:-1].gather(-1, target[:, None])[:, 0]
    rows_ids = [[int(t)] for t in ids[1:]] + [[0]]
    rows_lp = [[float(v)] for v in picked] + [[0.0]]
    return rows_ids, rows_lp


class HFRolloutServer:
    """A Hugging Face model behind verl's rollout-server calls (one request at a time)."""

    def __init__(self, config, model_config, replica_rank: int = 0, is_teacher: bool = False):
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.config = omega_conf_to_dataclass(config)
        self.model_config = omega_conf_to_dataclass(model_config)
        self.replica_rank = replica_rank
        self.is_teacher = is_teacher
        path = self.model_config.local_path
        torch.set_num_threads(int(os.environ.get("MGSD_ROLLOUT_THREADS", "1")))
        self.processor = AutoProcessor.from_pretrained(path)
        self.tokenizer = getattr(self.processor, "tokenizer", self.processor)
        self.model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32,
                                                                 attn_implementation="sdpa").eval()
        self.banned = banned_token_ids(self.tokenizer)
        self.image_token_id = self.tokenizer.convert_tokens_to_ids("<|image_pad|>")
        self.global_steps: Optional[int] = None
        self.lock = asyncio.Lock()
        torch.manual_seed(int(getattr(self.config, "seed", 0) or 0) + replica_rank)

    # -- generation ---------------------------------------------------------------------------------
    async def generate(self, prompt_ids: list[int], sampling_params: dict[str, Any], request_id: str,
                       image_data: Optional[list[Any]] = None, video_data: Optional[list[Any]] = None,
                       audio_data: Optional[list[Any]] = None, mm_processor_kwargs: Optional[dict] = None,
                       priority: int = 0, **kwargs) -> TokenOutput:
        """Sample a response (or, with ``prompt_logprobs`` set, score the prompt) for one request."""
        if video_data or audio_data:
            raise ValueError("the hf rollout server takes text and images only")
        params = dict(sampling_params)
        async with self.lock:  # one forward at a time: the model is not re-entrant and the CPU is busy
            return await asyncio.to_thread(self._run, list(map(int, prompt_ids)), params, image_data,
                                           mm_processor_kwargs or {})

    def _inputs(self, prompt_ids: list[int], images, mm_kwargs: dict) -> dict[str, torch.Tensor]:
        input_ids = torch.tensor([prompt_ids], dtype=torch.long)
        inputs = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids),
                  "mm_token_type_ids": (input_ids == self.image_token_id).long()}
        if images:
            vision = self.processor.image_processor(images=images, return_tensors="pt", **mm_kwargs)
            merge = getattr(self.processor.image_processor, "merge_size", 2)
            expected = int(vision["image_grid_thw"].prod(-1).sum()) // merge ** 2
            found = int((input_ids == self.image_token_id).sum())
            if expected != found:
                raise ValueError(f"prompt has {found} image tokens, the images need {expected}")
            inputs.update(pixel_values=vision["pixel_values"], image_grid_thw=vision["image_grid_thw"])
        return inputs

    @torch.no_grad()
    def _run(self, prompt_ids: list[int], params: dict, images, mm_kwargs: dict) -> TokenOutput:
        inputs = self._inputs(prompt_ids, images, mm_kwargs)
        extra: dict[str, Any] = {"global_steps": self.global_steps}
        if params.get("prompt_logprobs") is not None:
            if params["prompt_logprobs"]:
                raise ValueError("the hf rollout server returns the scored token's log-prob only (top-k is 0)")
            logits = self.model(**inputs).logits[0]
            extra["prompt_ids"], extra["prompt_logprobs"] = prompt_logprob_rows(logits, prompt_ids)
            return TokenOutput(token_ids=[int(logits[-1].argmax())], stop_reason="completed", extra_fields=extra)

        max_tokens = params.get("max_tokens", params.get("max_new_tokens"))
        if max_tokens is None:
            max_tokens = min(self.config.response_length,
                             self.config.prompt_length + self.config.response_length - len(prompt_ids))
        max_tokens = max(1, min(int(max_tokens), self.config.max_model_len - len(prompt_ids)))
        temperature = float(params.get("temperature", 1.0))
        top_k = int(params.get("top_k", -1))
        gen = dict(max_new_tokens=max_tokens, do_sample=temperature > 0, suppress_tokens=self.banned or None,
                   return_dict_in_generate=True, output_logits=True,
                   pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id)
        if temperature > 0:
            gen.update(temperature=temperature, top_p=float(params.get("top_p", 1.0)), top_k=top_k if top_k > 0 else None)
        out = self.model.generate(**inputs, **gen)
        tokens = out.sequences[0, len(prompt_ids):].tolist()
        log_probs = None
        if params.get("logprobs"):
            steps = torch.stack(out.logits, dim=1)[0].float().log_softmax(-1)
            log_probs = steps.gather(-1, torch.tensor(tokens)[:, None])[:, 0].tolist()
        return TokenOutput(token_ids=tokens, log_probs=log_probs, stop_reason="completed", extra_fields=extra)

    # -- weights ------------------------------------------------------------------------------------
    def update_weights(self, state: dict[str, torch.Tensor], global_steps: Optional[int] = None) -> int:
        """Load the trainer's full weights (Hugging Face names); returns how many tensors were loaded."""
        own = self.model.state_dict()
        unknown = sorted(set(state) - set(own))
        if unknown:
            raise KeyError(f"weights the rollout model does not have: {unknown[:5]}")
        self.model.load_state_dict(state, strict=False)
        if global_steps is not None:
            self.global_steps = global_steps
        return len(state)

    # -- verl's server control calls: nothing to release or cache on the CPU ------------------------
    def get_server_address(self):
        return ray.util.get_node_ip_address(), 0

    async def set_global_steps(self, global_steps: int):
        self.global_steps = global_steps

    async def abort_all_requests(self, reset_prefix_cache: bool = True, reject_request: bool = False):
        return {"aborted_count": 0, "request_ids": []}

    async def abort_request(self, request_id: str, reset_prefix_cache: bool = True):
        return {"aborted": False, "request_id": request_id}

    async def wake_up(self, tags=None): ...
    async def sleep(self): ...
    async def clear_kv_cache(self): ...
    async def release_kv_cache(self): ...
    async def resume_kv_cache(self): ...
    async def resume_generation(self): ...
    async def resume_engine_generation(self): ...
    async def open_submission_gate(self): ...
    async def wait_for_requests_to_drain(self): ...
    async def start_profile(self, **kwargs): ...
    async def stop_profile(self): ...


class HFReplica(RolloutReplica):
    """One :class:`HFRolloutServer` per replica, placed on the node of the replica's first worker."""

    async def launch_servers(self):
        if self.world_size != 1:
            raise ValueError("the hf rollout server runs one process per replica: set tensor/data/pipeline "
                             "parallel sizes to 1")
        node_id = await self.workers[0].__ray_call__.remote(lambda _: ray.get_runtime_context().get_node_id())
        name = _server_name(self.replica_rank, 0, self.name_suffix, teacher=self.is_teacher_model)
        server = ray.remote(HFRolloutServer).options(
            name=name, num_cpus=0, max_concurrency=self.max_concurrency,
            scheduling_strategy=ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy(node_id=node_id, soft=False),
        ).remote(self.config, self.model_config, self.replica_rank, self.is_teacher_model)
        address, port = await server.get_server_address.remote()  # waits for the model to load
        self.servers = [server]
        self._server_handle = server
        self._server_address = f"{address}:{port}"


class HFServerAdapter(BaseRollout):
    """The trainer-side handle of a replica: pushes the trainer's weights to its server after each step."""

    def __init__(self, config, model_config, device_mesh, replica_rank: int = -1, **kwargs):
        super().__init__(config, model_config, device_mesh)
        rank = int(os.environ.get("RANK", 0))
        world = (self.config.tensor_model_parallel_size * self.config.data_parallel_size
                 * self.config.pipeline_model_parallel_size)
        self.replica_rank = rank // world if replica_rank == -1 else replica_rank
        self.rollout_rank = rank % world
        self.is_leader_rank = self.rollout_rank == 0
        self.server_handle = None

    def _server(self):
        if self.server_handle is None:
            self.server_handle = ray.get_actor(_server_name(self.replica_rank, 0))
        return self.server_handle

    async def resume(self, tags: list[str]):
        return None

    async def release(self):
        return None

    @torch.no_grad()
    async def update_weights(self, weights, global_steps: int = None, wire_format: str = "named_tensors", **kwargs):
        if wire_format != "named_tensors":
            raise ValueError(f"the hf rollout server takes full named tensors, got wire_format={wire_format!r}")
        if kwargs.get("peft_config") is not None:
            raise ValueError("the hf rollout server takes merged weights: set actor_rollout_ref.model.lora.merge=true")
        state = {}
        for name, tensor in weights:
            if hasattr(tensor, "full_tensor"):  # a DTensor shard: every rank takes part in the gather
                tensor = tensor.full_tensor()
            state[name] = tensor.detach().to("cpu", copy=True)
        if self.is_leader_rank:
            await self._server().update_weights.remote(state, global_steps)
