"""verl 0.9.1 on a machine without a GPU: the CPU platform and the few adjustments verl needs there. The
rollout and the teacher are verl's own vLLM servers on vLLM's CPU build (``configs/device/cpu.yaml``; the one
touch vLLM itself needs is :mod:`mgsd_opcd.vllm_cpu`). For tests and laptops: a smaller run of the GPU code.

Loaded before verl resolves its platform, in every process of the run (the driver and each Ray worker),
through verl's own hook: ``VERL_USE_EXTERNAL_MODULES=mgsd_opcd.verl_cpu`` (``EasyR1/train_opcd.sh`` sets it
with ``VERL_PLATFORM=cpu``). Importing this package calls :func:`install`, which is idempotent.

Where verl has a public extension point it is used: ``PlatformRegistry.register`` (platform) and
``VERL_ENGINE_DEVICE`` (engine choice). Where it has none, the touch is in :func:`install` alone, with the
reason beside it; verl stays pinned to ``0.9.1`` and ``tests/test_opcd/test_verl_cpu.py`` checks each touch.
"""

from __future__ import annotations

import importlib
import sys

from .. import VERL_VERSION  # the verl version these touches were written against

_installed = False


def install() -> None:
    """Register the CPU platform with verl and apply the CPU adjustments."""
    global _installed
    if _installed:
        return
    import os

    deferred = _import_verl_first()
    import verl

    # First: registers "cpu" with PlatformRegistry before anything below can resolve the platform.
    from . import platform as cpu_platform

    if verl.__version__ != VERL_VERSION:
        raise RuntimeError(f"mgsd_opcd.verl_cpu was written for verl {VERL_VERSION}, found {verl.__version__}")
    if cpu_platform.selected():
        # verl registers its FSDP engines for the "cuda" and "npu" devices only; they run on the CPU as they
        # are, so pick them through verl's own override.
        os.environ.setdefault("VERL_ENGINE_DEVICE", "cuda")
        _gloo_process_group()
    _installed = True
    deferred()


def _import_verl_first():
    """Import verl with its extensions held back when this package is imported before verl.

    That happens in a fresh Ray worker that unpickles a class of this package: its import then imports verl, whose ``__init__`` imports ``VERL_USE_EXTERNAL_MODULES`` and the ``verl.plugins``
    entry points, and those need the platform registered below. They are imported afterwards instead,
    as verl would (a failed entry point is logged, a failed module raises). Returns that step."""
    import logging
    import os

    if "verl" in sys.modules:
        return lambda: None
    saved = {k: os.environ.get(k) for k in ("VERL_USE_EXTERNAL_MODULES", "VERL_USE_EXTERNAL_PLUGINS")}
    os.environ.update(VERL_USE_EXTERNAL_MODULES="", VERL_USE_EXTERNAL_PLUGINS="none")
    try:
        import verl  # noqa: F401
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)

    def load_extensions():
        from importlib.metadata import entry_points

        for module in filter(None, (saved["VERL_USE_EXTERNAL_MODULES"] or "").split(",")):
            if module.strip() != __name__:
                importlib.import_module(module.strip())
        policy = (saved["VERL_USE_EXTERNAL_PLUGINS"] or "auto").strip().lower()
        if policy == "none":
            return
        allowed = None if policy == "auto" else {n.strip() for n in policy.split(",")}
        for ep in entry_points(group="verl.plugins"):
            if allowed is None or ep.name in allowed:
                try:
                    ep.load()
                except Exception as exc:  # verl itself only logs these
                    logging.getLogger(__name__).warning("verl plugin %s failed to load: %s", ep.name, exc)

    return load_extensions


def _gloo_process_group() -> None:
    """Make verl's Ray workers create a plain ``gloo`` process group.

    ``initialize_global_process_group_ray`` builds ``cpu:gloo,<device>:<backend>``, which on the CPU
    platform reads ``cpu:gloo,cpu:gloo`` and torch rejects as a duplicate device. Changing the default of
    its ``backend`` argument on the function object reaches every module that imported it.
    """
    from verl.utils import distributed

    fn = distributed.initialize_global_process_group_ray
    fn.__defaults__ = (None, "gloo")


install()
