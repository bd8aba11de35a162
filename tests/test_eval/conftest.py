"""Fixtures of the evaluation tests: a small test split, mock servers, and a real `llamafactory-cli api`
server on the tiny Qwen3-VL (started through evaluate/serve_llamafactory.sh, in the sft environment)."""

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def test_split(tmp_path_factory):
    from task_envs.dataset.generate import build_dataset, default_spec

    root = tmp_path_factory.mktemp("evaldata")
    data, _ = build_dataset(default_spec("test", per_level=2, seed=21), root / "test", progress=False)
    return data


@pytest.fixture
def mock_server():
    from mgsd_eval.mock_server import MockServer

    servers = []

    def start(**kwargs):
        servers.append(MockServer(**kwargs).start_in_thread())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def sft_python():
    return subprocess.run(
        ["bash", str(ROOT / "requirements" / "setup_env.sh"), "sft"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="session")
def llamafactory_server(sft_python, tmp_path_factory):
    """(base_url, served name) of a real `llamafactory-cli api` on the tiny model."""
    model = (
        subprocess.run(
            [sft_python, "-m", "mgsd_sft.tiny_model", "--out", str(ROOT / "models" / "tiny-qwen3-vl")],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "MODEL_PATH": model, "PORT": str(port), "MGSD_SFT_PYTHON": sft_python, "MAX_NEW_TOKENS": "24"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", str(ROOT / "evaluate" / "serve_llamafactory.sh")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llamafactory api exited: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url + "/models", timeout=2)
            break
        except OSError:
            time.sleep(1)
    else:
        proc.kill()
        raise RuntimeError(f"llamafactory api did not come up: {log.read_text()[-2000:]}")
    yield url, Path(model).name
    os.killpg(proc.pid, 15)
    proc.wait(30)
