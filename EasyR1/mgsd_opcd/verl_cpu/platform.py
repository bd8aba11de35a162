"""A CPU platform for verl 0.9.1, registered through its public ``PlatformRegistry``.

verl ships CUDA, NPU and ROCm platforms only; without one for the CPU every device call falls back to
``torch.cuda`` and fails. Nearly all of verl's device calls go through ``get_torch_device()``, which
returns the platform's ``device_module``: here a stand-in for ``torch.cuda`` built on ``torch.cpu``,
whose memory and cache calls are no-ops and whose RNG is the CPU generator.
"""

from __future__ import annotations

import contextlib
import os
import types
from typing import Any

import psutil
import torch
from verl.plugin.platform import PlatformBase, PlatformRegistry

#: The name selected with ``VERL_PLATFORM=cpu``.
PLATFORM_NAME = "cpu"


def _device_module() -> types.ModuleType:
    """``torch.cpu`` plus the ``torch.cuda`` calls verl makes that the CPU has no use for."""
    module = types.ModuleType("mgsd_opcd.verl_cpu.device")
    for name in (
        "Event",
        "Stream",
        "StreamContext",
        "current_device",
        "current_stream",
        "device_count",
        "is_available",
        "set_device",
        "stream",
        "synchronize",
    ):
        setattr(module, name, getattr(torch.cpu, name))

    def noop(*args, **kwargs):
        return None

    def zero(*args, **kwargs):
        return 0

    for name in ("empty_cache", "ipc_collect", "reset_peak_memory_stats", "set_per_process_memory_fraction"):
        setattr(module, name, noop)
    for name in ("memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved"):
        setattr(module, name, zero)
    module.mem_get_info = lambda *a, **k: (psutil.virtual_memory().available, psutil.virtual_memory().total)
    module.memory_stats = lambda *a, **k: {}
    module.get_device_name = lambda *a, **k: "cpu"
    module.manual_seed = module.manual_seed_all = torch.manual_seed
    module.get_rng_state = lambda *a, **k: torch.get_rng_state()
    module.set_rng_state = lambda state, *a, **k: torch.set_rng_state(state)
    module.is_bf16_supported = lambda *a, **k: True
    return module


@PlatformRegistry.register(platform=PLATFORM_NAME)
class PlatformCPU(PlatformBase):
    """verl's device interface on the CPU: gloo for collectives, logical Ray GPUs for placement."""

    _module = _device_module()

    @property
    def device_name(self) -> str:
        return "cpu"

    @property
    def vendor_name(self) -> str:
        return "cpu"

    @property
    def device_module(self) -> types.ModuleType:
        return self._module

    def is_available(self) -> bool:
        return True

    def is_platform_available(self, use_smi_check=False) -> bool:
        # Never auto-detected: a GPU machine must keep its own platform; VERL_PLATFORM=cpu selects this one.
        return False

    def current_device(self) -> str:
        # verl passes this straight to .to()/device=; an integer would mean an accelerator to torch.
        return "cpu"

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index: int) -> None:
        return None

    def synchronize(self, device_index: int | None = None) -> None:
        return None

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        return None

    def empty_cache(self) -> None:
        return None

    def get_device_capability(self, device_index: int = 0) -> tuple[int | None, int | None]:
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        return "CUDA_VISIBLE_DEVICES"

    @contextlib.contextmanager
    def nvtx_range(self, msg: str):
        yield

    def profiler_start(self) -> None:
        return None

    def profiler_stop(self) -> None:
        return None

    def ray_resource_name(self) -> str:
        # verl's resource pools only count GPU/NPU; the CPU run declares logical GPUs to Ray
        # (ray_init.num_gpus) and each worker takes one, as on a GPU node.
        return "GPU"

    def ray_noset_envvars(self) -> list[str]:
        return []

    def is_ipc_supported(self) -> bool:
        return False

    def cudart(self) -> Any:
        return None


def selected() -> bool:
    """True when this process runs verl on the CPU platform (``VERL_PLATFORM=cpu``)."""
    return os.environ.get("VERL_PLATFORM", "").strip().lower() == PLATFORM_NAME
