"""Ray clusters of several nodes on one machine, started as a user starts them, and a watcher of the
environments the verl workers of such a cluster run with (read from /proc while a run goes)."""

import contextlib
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

RAY = Path(sys.executable).parent / "ray"
# What train_opcd.sh exports for its workers on a CPU (its worker_vars).
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


def bare_env(home: Path) -> dict:
    """A shell with none of the launcher's settings (and a HOME of its own for Ray's token file)."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "USER", "PIP_CONFIG_FILE")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, "HOME": str(home)}


def _ray(args: list[str], env: dict) -> None:
    proc = subprocess.run([str(RAY), *args], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]


@contextlib.contextmanager
def two_nodes(home: Path, gpus_per_node: int = 2):
    """A head and a second node with ``gpus_per_node`` logical GPUs each, token authentication on (Ray 2.60's
    `ray start --head` turns it on when ~/.ray/auth_token exists; the joining node and the driver need
    RAY_AUTH_MODE=token and the token). Yields {address, env (a bare shell with the token), temp_dir}; stops
    only this cluster's processes (`ray stop` would stop every Ray on the machine)."""
    temp_dir = tempfile.mkdtemp(prefix="r2n", dir="/tmp")  # Ray's socket paths must stay short
    home.mkdir(parents=True, exist_ok=True)
    env = bare_env(home)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    common = ["--num-cpus=16", f"--num-gpus={gpus_per_node}", "--disable-usage-stats"]
    try:
        _ray(["get-auth-token", "--generate"], env)
        assert (home / ".ray" / "auth_token").is_file()
        _ray(["start", "--head", f"--port={port}", f"--temp-dir={temp_dir}", "--include-dashboard=false", *common], env)
        _ray(["start", f"--address=127.0.0.1:{port}", *common], {**env, "RAY_AUTH_MODE": "token"})
        yield {"address": f"127.0.0.1:{port}", "env": {**env, "RAY_AUTH_MODE": "token"}, "temp_dir": temp_dir}
    finally:
        mine = []
        for proc in psutil.process_iter(["cmdline"]):
            with contextlib.suppress(psutil.Error):
                if temp_dir in " ".join(proc.info["cmdline"] or []):
                    mine += [proc, *proc.children(recursive=True)]
        for proc in mine:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(mine, timeout=30)
        shutil.rmtree(temp_dir, ignore_errors=True)


@contextlib.contextmanager
def watch_workers(temp_dir: str):
    """Yields a dict that fills, while the block runs, with pid -> (actor class, raylet pid, WORKER_VARS of its
    environment) for each Ray worker process of the cluster whose session lives under ``temp_dir``."""
    seen, stop = {}, threading.Event()

    def watch():
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

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield seen
    finally:
        stop.set()
        watcher.join()
