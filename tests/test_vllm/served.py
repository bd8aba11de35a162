"""Helpers of the serving tests: the tiny model, a served endpoint started through a launcher script, a chat request.

Shared with tests/test_eval (imported by path), so that the evaluation tests serve through the same launcher,
evaluate/serve_vllm.sh, as a GPU user (or evaluate/serve_llamafactory.sh with MGSD_TEST_SERVER=llamafactory).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVERS = {"vllm": "serve_vllm.sh", "llamafactory": "serve_llamafactory.sh"}


def setup_env(name: str) -> str:
    """Python of the environment NAME (created on first use)."""
    return subprocess.run(
        ["bash", str(ROOT / "requirements" / "setup_env.sh"), name], capture_output=True, text=True, check=True
    ).stdout.strip()


def tiny_model() -> Path:
    """The tiny Qwen3-VL (models/tiny-qwen3-vl), built by the sft environment as the quickstart does."""
    out = (
        subprocess.run(
            [setup_env("sft"), "-m", "mgsd_sft.tiny_model", "--out", str(ROOT / "models" / "tiny-qwen3-vl")],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return Path(out)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def serve(server: str, model: Path, workdir: Path, env: dict | None = None, timeout: float = 900):
    """Start evaluate/<server script> on ``model`` and yield (base_url, served name, process, log path) once it
    answers; stop its whole process group after. vLLM: its URLs file is ``workdir/logs/base_urls.txt``."""
    port = free_port()
    log = workdir / "server.log"
    full = {**os.environ, "MODEL_PATH": str(model), "HF_HUB_OFFLINE": "1", **(env or {})}
    if server == "vllm":
        full.update({"BASE_PORT": str(port), "LOG_DIR": str(workdir / "logs"), "READY_TIMEOUT": str(int(timeout))})
    else:
        full.update({"PORT": str(port)})
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", str(ROOT / "evaluate" / SERVERS[server])],
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + timeout
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{SERVERS[server]} exited ({proc.returncode}): {log.read_text()[-3000:]}")
            if time.time() > deadline:
                raise RuntimeError(f"{SERVERS[server]} did not come up in {timeout:.0f}s: {log.read_text()[-3000:]}")
            try:
                get_json(url + "/models", timeout=2)
                # serve_vllm.sh is ready when it has written its URLs file (every replica answers)
                if server != "vllm" or (workdir / "logs" / "base_urls.txt").is_file():
                    break
            except OSError:
                pass
            time.sleep(1)
        yield url, model.name, proc, log
    finally:
        stop(proc)


def stop(proc: subprocess.Popen, timeout: float = 60) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def chat(
    url: str, model: str, image: Path | None, text: str, max_tokens: int = 8, timeout: float = 300, seed: int = 1
) -> dict:
    content = [{"type": "text", "text": text}]
    if image is not None:
        data = base64.b64encode(image.read_bytes()).decode()
        content.insert(0, {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}})
    body = {
        "model": model,
        "max_tokens": max_tokens,
        "temperature": 1.0,
        "seed": seed,
        "messages": [{"role": "user", "content": content}],
    }
    request = urllib.request.Request(
        url + "/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())
