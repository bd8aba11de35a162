"""A fix for a verl 0.9.1 bug that OPCD runs hit, on GPUs and CPUs alike; applied by importing this module
(``verl_plugin`` does, so every process of a run has it).

Equal-length batches of mRoPE position ids (verl-project/verl#6073, #7899; unfixed in 0.9.1). verl packs the
per-sample ``(4, L_i)`` position ids of a Qwen-VL batch into a jagged NestedTensor with
``torch.nested.as_nested_tensor``, which takes the ragged dimension from the shapes it is given. When every
sample has the same length (all prompts and responses of a batch alike: a policy that has settled on one
answer does this), it makes the 4 rows ragged instead of the tokens: ``values()`` is ``(B*4, L)``, not
``(4, B*L)``. ``maybe_fix_3d_position_ids``, which each engine worker calls before a forward, then marks the
tokens ragged without looking, and the model fails in ``apply_rotary_pos_emb`` ("The size of tensor a (B*L)
must match the size of tensor b (B*4) at non-singleton dimension 2"); ``make toy`` with ``TRAINER=verl`` died
so at step 17 of 48. :func:`normalize_3d_position_ids` replaces that function in the modules that call it: it
reads the layout from ``values`` and ``offsets`` and rebuilds the canonical one.
"""

from __future__ import annotations

import importlib

import torch

from . import VERL_VERSION

#: Modules of verl 0.9.1 that imported ``maybe_fix_3d_position_ids`` by name and call it before a forward.
CALLERS = ("verl.workers.engine_workers", "verl.workers.engine.base", "verl.workers.engine_workers_tinker")


def canonical_position_ids(position_ids: torch.Tensor) -> torch.Tensor:
    """The jagged ``(B, C, j)`` layout (tokens ragged: ``values`` is ``(C, sum L_i)``) of 3D position ids in
    either layout ``as_nested_tensor`` can produce; raises ``ValueError`` on anything else."""
    from verl.utils.tensordict_utils import nested_tensor_from_tensor_list

    values, offsets = position_ids.values(), position_ids.offsets()
    total, batch = int(offsets[-1]), offsets.numel() - 1
    if values.dim() == 2 and values.shape[1] == total:  # tokens ragged (the marker may be lost in transport)
        position_ids._ragged_idx = 2
        return position_ids
    lengths = offsets.diff()
    if values.dim() == 2 and values.shape[0] == total and batch and bool((lengths == lengths[0]).all()):
        rows = int(lengths[0])  # the rope components were taken as ragged: B blocks of (C, L)
        return nested_tensor_from_tensor_list(
            list(values.reshape(batch, rows, values.shape[1]).unbind(0)), ragged_idx=2
        )
    raise ValueError(
        f"position_ids: values {tuple(values.shape)} fit neither jagged layout of offsets {offsets.tolist()}"
    )


def normalize_3d_position_ids(data) -> None:
    """In place: ``data["position_ids"]`` in the canonical layout when it is a 3D NestedTensor (verl's
    ``maybe_fix_3d_position_ids``, which only sets the ragged marker, corrected)."""
    if "position_ids" in data.keys() and data["position_ids"].is_nested and data["position_ids"].dim() == 3:
        data["position_ids"] = canonical_position_ids(data["position_ids"])


def install() -> None:
    """Point verl's callers of ``maybe_fix_3d_position_ids`` at :func:`normalize_3d_position_ids` (idempotent)."""
    import verl

    if verl.__version__ != VERL_VERSION:
        raise RuntimeError(f"mgsd_opcd.verl_fixes was written for verl {VERL_VERSION}, found {verl.__version__}")
    for name in CALLERS:
        module = importlib.import_module(name)
        if not hasattr(module, "maybe_fix_3d_position_ids"):
            raise RuntimeError(
                f"{name} no longer has maybe_fix_3d_position_ids: check mgsd_opcd.verl_fixes against the installed verl"
            )
        module.maybe_fix_3d_position_ids = normalize_3d_position_ids


install()
