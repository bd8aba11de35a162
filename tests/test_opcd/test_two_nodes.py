"""verl over two Ray nodes on one machine, started as a user starts them (`ray start --head`, then
`ray start --address`, token authentication, logical GPUs, the opcd environment's own `ray`), from an
environment that holds none of the launcher's settings; then `NNODES=2 bash EasyR1/train_opcd.sh` with
`RAY_ADDRESS` naming the cluster.

Checked: every setting the launcher means for its workers is in the environment of every verl worker on
both nodes (read from /proc while the run goes: Ray's runtime_env carried it, not `ray start`), and the
logs, metrics.jsonl, the swanlab offline run and the checkpoint tracker land under OUTPUT_DIR.
The batch is one of equal lengths (one prompt length, responses of one token): the run also guards
mgsd_opcd.verl_fixes (verl 0.9.1 packs the mRoPE position ids of such a batch along the wrong axis)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
RAY = Path(sys.executable).parent / "ray"
# What train_opcd.sh exports for its workers on a CPU (its worker_vars), with the values this test expects.
WORKER_VARS = (
    "VERL_USE_EXTERNAL_MODULES",
    "HF_HUB_OFFLINE",
    "TOKENIZERS_PARALLELISM",
    "WANDB_MODE",
    "VERL_FILE_LOGGER_PATH",
    "SWANLAB_MODE",
    "SWANLAB_LOG_DIR",
    "VERL_PLATFORM",
    "OMP_NUM_THREADS",
    "VLLM_CPU_KVCACHE_SPACE",
)


def _bare_env(home: Path) -> dict:
    """A shell with none of the launcher's settings (and a HOME of its own for Ray's token file)."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "USER", "PIP_CONFIG_FILE")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, "HOME": str(home)}


def _ray(args: list[str], env: dict) -> None:
    proc = subprocess.run([str(RAY), *args], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


def _worker_envs(temp_dir: str, stop: threading.Event, seen: dict) -> None:
    """Until ``stop``: for each verl worker process of this cluster, the raylet (node) it runs under and the
    launcher's variables in its environment."""
    while not stop.is_set():
        for proc in psutil.process_iter(["pid", "name", "cmdline"]):
            try:
                title = " ".join(proc.info["cmdline"] or [])
                if not title.startswith("ray::") or title.startswith("ray::IDLE") or proc.pid in seen:
                    continue
                raylet = next((p for p in proc.parents() if "raylet" in p.name()), None)
                if raylet is None or temp_dir not in " ".join(raylet.cmdline()):
                    continue
                env = proc.environ()
                seen[proc.pid] = (title.split()[0].split(".")[0], raylet.pid, {k: env.get(k) for k in WORKER_VARS})
            except psutil.Error:
                continue
        time.sleep(1)


@pytest.fixture
def two_node_cluster(tmp_path):
    """A head and a second node, 2 logical GPUs each, token authentication on (Ray 2.60's `ray start --head`
    turns it on when ~/.ray/auth_token exists; the joining node and the driver need RAY_AUTH_MODE=token and the
    token)."""
    temp_dir = tempfile.mkdtemp(prefix="r2n", dir="/tmp")  # Ray's socket paths must stay short
    home = tmp_path / "home"
    home.mkdir()
    env = _bare_env(home)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    common = ["--num-cpus=16", "--num-gpus=2", "--disable-usage-stats"]
    try:
        _ray(["get-auth-token", "--generate"], env)  # ~/.ray/auth_token: with it `ray start --head` turns auth on
        assert (home / ".ray" / "auth_token").is_file()
        _ray(["start", "--head", f"--port={port}", f"--temp-dir={temp_dir}", "--include-dashboard=false", *common], env)
        _ray(["start", f"--address=127.0.0.1:{port}", *common], {**env, "RAY_AUTH_MODE": "token"})
        yield {"address": f"127.0.0.1:{port}", "env": env, "temp_dir": temp_dir}
    finally:
        # stop only this cluster's processes and their workers (`ray stop` would stop every Ray on the machine)
        mine = []
        for proc in psutil.process_iter(["cmdline"]):
            try:
                if temp_dir in " ".join(proc.info["cmdline"] or []):
                    mine += [proc, *proc.children(recursive=True)]
            except psutil.Error:
                pass
        for proc in mine:
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(mine, timeout=30)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_verl_runs_on_two_ray_nodes_and_its_settings_reach_every_worker(tiny_model, tmp_path, two_node_cluster):
    from task_envs.dataset.generate import GenerateSpec, build_dataset
    from task_envs.exporters.verl import export_verl

    levels = {"frozenlake": (3,)}  # one prompt length: a fixed text around one image of one size
    data, _ = build_dataset(GenerateSpec(tuple(levels), levels, 8, "train", 3), tmp_path / "train", progress=False)
    (tmp_path / "data").mkdir()
    export_verl([str(data)], tmp_path / "data" / "train.parquet")
    out = tmp_path / "run"
    env = {
        **two_node_cluster["env"],
        "RAY_AUTH_MODE": "token",
        "RAY_ADDRESS": two_node_cluster["address"],
        "NNODES": "2",
        "TRAINER_GPUS": "1",
        "TEACHER_GPUS": "1",
        "MGSD_OPCD_PYTHON": sys.executable,
        "TRAINER": "verl",
        "MODEL_SIZE": "tiny",
        "MODEL_PATH": str(tiny_model),
        "TEACHER_MODEL_PATH": str(tiny_model),
        "DATA_DIR": str(tmp_path / "data"),
        "OUTPUT_DIR": str(out),
        "LOGGER": "swanlab",
        # the trainer spans both nodes (FSDP over 2 ranks, a rollout server each); one teacher server suffices
        "OPCD_OVERRIDES": "distillation.nnodes=1 trainer.total_training_steps=2 data.train_batch_size=4 "
        "actor_rollout_ref.actor.ppo_mini_batch_size=4 data.max_response_length=1 "
        "actor_rollout_ref.rollout.max_model_len=1025 trainer.val_before_train=false "
        "trainer.test_freq=-1 trainer.save_freq=2",
    }
    seen, stop = {}, threading.Event()
    watcher = threading.Thread(target=_worker_envs, args=(two_node_cluster["temp_dir"], stop, seen), daemon=True)
    watcher.start()
    try:
        proc = subprocess.run(
            ["bash", str(ROOT / "EasyR1" / "train_opcd.sh")],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=1200,
        )
    finally:
        stop.set()
        watcher.join()
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    output = proc.stdout + proc.stderr
    assert "Connecting to existing Ray cluster" in output and "Started a local Ray instance" not in output

    expected = {
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "WANDB_MODE": "offline",
        "VERL_FILE_LOGGER_PATH": str(out / "metrics.jsonl"),
        "SWANLAB_MODE": "offline",
        "SWANLAB_LOG_DIR": str(out / "swanlog"),
        "VERL_PLATFORM": "cpu",
        "VLLM_CPU_KVCACHE_SPACE": "1",
    }
    workers = {
        pid: w
        for pid, w in seen.items()
        if w[0] in ("ray::WorkerDict", "ray::TaskRunnerV1", "ray::vLLMHttpServer", "ray::RewardLoopWorker")
    }
    assert {w[0] for w in workers.values()} >= {"ray::WorkerDict", "ray::TaskRunnerV1", "ray::vLLMHttpServer"}, seen
    assert len({raylet for _, raylet, _ in workers.values()}) == 2, "verl's workers did not span both nodes"
    for name, raylet, got in workers.values():
        assert {k: got[k] for k in expected} == expected, (name, raylet, got)
        assert "mgsd_opcd.verl_plugin" in (got["VERL_USE_EXTERNAL_MODULES"] or ""), (name, got)

    rows = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    step = {}
    for row in rows:
        step.update(row["data"] if row["step"] == 2 else {})
    # the batch of equal lengths: every prompt and every response had one length, and the update ran
    assert step["prompt_length/min"] == step["prompt_length/max"]
    assert step["response_length/min"] == step["response_length/max"] == 1
    assert "actor/distillation/loss" in step and "actor/grad_norm" in step
    assert (out / "latest_checkpointed_iteration.txt").read_text().strip() == "2"
    assert json.loads((out / "checkpoint_tracker.json").read_text())["last_global_step"] == 2
    assert any((out / "swanlog").rglob("*")) and any((out / "hydra").rglob("*.log"))
    assert not (tmp_path / "metrics.jsonl").exists() and not (tmp_path / "outputs").exists()
