"""Fixtures of the opcd tests: a small generated build exported to verl parquet, the tiny model, and another
job's Ray cluster."""

import contextlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def opcd_data(tmp_path_factory):
    """(train.parquet, val.parquet, train dataset folder) from small generated splits."""
    from task_envs.dataset.generate import build_dataset, default_spec
    from task_envs.exporters.verl import export_verl

    root = tmp_path_factory.mktemp("opcddata")
    out = {}
    for split in ("train", "val"):
        data, _ = build_dataset(default_spec(split, per_level=2, seed=11), root / split, progress=False)
        out[split] = export_verl([str(data)], root / f"{split}.parquet")[0]
        out[f"{split}_dir"] = data
    return out


@pytest.fixture(scope="session")
def tiny_model():
    from mgsd_sft.tiny_model import build

    return build(ROOT / "models" / "tiny-qwen3-vl")


@pytest.fixture
def unrelated_ray_cluster():
    """Another job's Ray cluster on this machine (`ray start --head` in Ray's default temp folder, the newest
    cluster here, so a bare ``ray.init()`` would join it). Yields its address; afterwards stops only its own
    processes, found by its session folder (``ray stop`` would stop every Ray on the machine)."""
    import os
    import signal
    import socket
    import subprocess
    import sys

    import psutil

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    # `ray start` overwrites the file naming the machine's newest cluster: put back what another job had there
    current = Path("/tmp/ray/ray_current_cluster")
    previous = current.read_text() if current.is_file() else None
    subprocess.run(
        [
            str(Path(sys.executable).parent / "ray"),
            "start",
            "--head",
            f"--port={port}",
            "--num-cpus=1",
            "--num-gpus=0",
            "--include-dashboard=false",
            "--disable-usage-stats",
        ],
        check=True,
        capture_output=True,
        env={**env, "RAY_AUTH_MODE": "disabled"},
        timeout=180,
    )
    session = os.path.realpath("/tmp/ray/session_latest")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        mine = [p for p in psutil.process_iter(["cmdline"]) if session in " ".join(p.info["cmdline"] or [])]
        for p in mine:
            with contextlib.suppress(psutil.Error):
                p.send_signal(signal.SIGTERM)
        _, alive = psutil.wait_procs(mine, timeout=5)
        for p in alive:
            with contextlib.suppress(psutil.Error):
                p.kill()
        # `ray stop` would also remove the file naming the newest cluster; a stale one sends a bare ray.init()
        # to a dead address
        with contextlib.suppress(OSError):
            if current.read_text().strip().endswith(f":{port}"):
                if previous is None:
                    current.unlink()
                else:
                    current.write_text(previous)
