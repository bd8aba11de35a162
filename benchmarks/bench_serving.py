"""Serving throughput: vLLM (evaluate/serve_vllm.sh) vs `llamafactory-cli api` (evaluate/serve_llamafactory.sh).

Both serve the same model (default: the tiny Qwen3-VL, models/tiny-qwen3-vl) and get the same requests: the
student prompt of the evaluation with a task image (the three tasks in turn), the same max_tokens and sampling
(temperature 1, so that the random tiny model writes long replies; `--seeded` adds one seed per request, as the
quickstart and the tests send: vLLM samples seeded requests one by one, which is slower on CPU). Each server is started through its launcher, alone on the machine, then
measured: start-up (launch until it answers /v1/models; serve_vllm.sh: until its URLs file is written), requests/s
at concurrency 1 and 16 (after two warm-up requests), completion tokens/s, and the peak resident memory of the
server's whole process tree (sampled every 0.2 s). Printed side by side with the ratio vLLM / LLaMA-Factory.

On a machine without a GPU serve_vllm.sh runs vLLM's CPU build (the `vllm` environment); with GPUs it serves on
the GPUs the launcher picks (set CUDA_VISIBLE_DEVICES to one GPU for a like-for-like comparison). Standard library
only; run with the eval environment's python (task_envs renders the images):

    .venvs/eval/bin/python benchmarks/bench_serving.py [--model DIR] [--requests 64] [--requests-c1 16] [--max-tokens 32] [--seeded]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVERS = {"vllm": ("vLLM", "serve_vllm.sh"), "llamafactory": ("llamafactory-cli api", "serve_llamafactory.sh")}


def setup_env(name: str) -> str:
    return subprocess.run(
        ["bash", str(REPO / "requirements" / "setup_env.sh"), name], capture_output=True, text=True, check=True
    ).stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_requests(count: int, max_tokens: int, seeded: bool = False) -> list[dict]:
    """``count`` chat requests: the student prompt with a rendered task image, tasks and levels in turn."""
    from task_envs import TASKS, get_task
    from task_envs.prompts import load_prompt

    requests = []
    for i in range(count):
        name = TASKS[i % len(TASKS)]
        task = get_task(name)
        level = task.default_levels[i // len(TASKS) % len(task.default_levels)]
        buffer = io.BytesIO()
        task.render(task.generate(level, 1000 + i)).save(buffer, format="PNG")
        image = base64.b64encode(buffer.getvalue()).decode()
        content = [
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}},
            {"type": "text", "text": load_prompt("student", name)},
        ]
        requests.append(
            {
                "messages": [{"role": "user", "content": content}],
                "max_tokens": max_tokens,
                "temperature": 1.0,
                **({"seed": i} if seeded else {}),
            }
        )
    return requests


def post(url: str, body: dict, timeout: float = 600) -> dict:
    request = urllib.request.Request(
        url + "/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def tree_rss_bytes(pgid: int) -> int:
    """Resident memory of every process in the process group ``pgid``."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.getpgid(int(proc.name)) != pgid:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return total


class PeakRss(threading.Thread):
    def __init__(self, pgid: int):
        super().__init__(daemon=True)
        self.pgid, self.peak, self._halt = pgid, 0, threading.Event()

    def run(self):
        while not self._halt.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pgid))
            self._halt.wait(0.2)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


def measure(url: str, model: str, requests: list[dict], concurrency: int) -> dict:
    bodies = [{**r, "model": model} for r in requests]
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        replies = list(pool.map(lambda b: post(url, b), bodies))
    elapsed = time.perf_counter() - start
    completion = [r["usage"]["completion_tokens"] for r in replies]
    prompt = [r["usage"]["prompt_tokens"] for r in replies]
    return {
        "req_s": len(bodies) / elapsed,
        "tok_s": sum(completion) / elapsed,
        "completion": statistics.mean(completion),
        "prompt": statistics.mean(prompt),
    }


def bench_server(
    kind: str,
    model: Path,
    requests: list[dict],
    c1_requests: list[dict],
    concurrency: int,
    workdir: Path,
    timeout: float,
) -> dict:
    port = free_port()
    env = {**os.environ, "MODEL_PATH": str(model), "SERVED_NAME": "bench", "HF_HUB_OFFLINE": "1"}
    if kind == "vllm":
        env.update({"BASE_PORT": str(port), "LOG_DIR": str(workdir / "vllm_logs"), "REPLICAS": "1"})
        if "MGSD_OPCD_PYTHON" not in env and not _has_gpu():
            env["MGSD_OPCD_PYTHON"] = setup_env("opcd")
        ready_file = workdir / "vllm_logs" / "base_urls.txt"
    else:
        env.update({"PORT": str(port), "MGSD_SFT_PYTHON": env.get("MGSD_SFT_PYTHON") or setup_env("sft")})
        ready_file = None
    url = f"http://127.0.0.1:{port}/v1"
    log = workdir / f"{kind}.log"
    with log.open("w") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            ["bash", str(REPO / "evaluate" / SERVERS[kind][1])],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO,
        )
    rss = PeakRss(proc.pid)
    rss.start()
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{SERVERS[kind][1]} exited: {log.read_text()[-2000:]}")
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"{SERVERS[kind][1]} did not come up in {timeout:.0f} s: {log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(url + "/models", timeout=2).read()
                if ready_file is None or ready_file.is_file():
                    break
            except OSError:
                pass
            time.sleep(0.2)
        startup = time.perf_counter() - started
        for body in requests[:2]:  # warm-up
            post(url, {**body, "model": "bench"})
        c1 = measure(url, "bench", c1_requests, 1)
        cn = measure(url, "bench", requests, concurrency)
        return {"startup_s": startup, "c1": c1, "cn": cn, "peak_rss": rss.stop()}
    finally:
        rss.stop() if rss.is_alive() else None
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _has_gpu() -> bool:
    return subprocess.run(["sh", "-c", "nvidia-smi -L"], capture_output=True).returncode == 0


def table(results: dict, concurrency: int) -> str:
    v, l = results["vllm"], results["llamafactory"]
    rows = [
        ("start-up (s)", v["startup_s"], l["startup_s"], "{:.1f}"),
        ("req/s, concurrency 1", v["c1"]["req_s"], l["c1"]["req_s"], "{:.2f}"),
        (f"req/s, concurrency {concurrency}", v["cn"]["req_s"], l["cn"]["req_s"], "{:.2f}"),
        ("completion tok/s, concurrency 1", v["c1"]["tok_s"], l["c1"]["tok_s"], "{:.1f}"),
        (f"completion tok/s, concurrency {concurrency}", v["cn"]["tok_s"], l["cn"]["tok_s"], "{:.1f}"),
        ("completion tokens / request", v["cn"]["completion"], l["cn"]["completion"], "{:.1f}"),
        ("prompt tokens / request", v["cn"]["prompt"], l["cn"]["prompt"], "{:.1f}"),
        ("peak RSS of the server (GiB)", v["peak_rss"] / 2**30, l["peak_rss"] / 2**30, "{:.2f}"),
    ]
    lines = [
        f"| metric | {SERVERS['vllm'][0]} | {SERVERS['llamafactory'][0]} | vLLM / LLaMA-Factory |",
        "|---|---:|---:|---:|",
    ]
    for name, a, b, fmt in rows:
        lines.append(
            f"| {name} | {fmt.format(a)} | {fmt.format(b)} | {a / b:.2f}x |"
            if b
            else f"| {name} | {fmt.format(a)} | {fmt.format(b)} | - |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model folder [the tiny Qwen3-VL, built if missing]")
    parser.add_argument("--requests", type=int, default=64, help="requests at the high concurrency [64]")
    parser.add_argument("--requests-c1", type=int, default=16, help="requests at concurrency 1 [16]")
    parser.add_argument("--concurrency", type=int, default=16, help="the high concurrency [16]")
    parser.add_argument("--max-tokens", type=int, default=32, help="max_tokens of every request [32]")
    parser.add_argument("--timeout", type=float, default=900, help="start-up limit per server, s [900]")
    parser.add_argument("--servers", default="vllm,llamafactory", help="order of the runs [vllm,llamafactory]")
    parser.add_argument("--seeded", action="store_true", help="one seed per request (as the quickstart and tests send)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    model = args.model
    if model is None:
        out = (
            subprocess.run(
                [setup_env("sft"), "-m", "mgsd_sft.tiny_model", "--out", str(REPO / "models" / "tiny-qwen3-vl")],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        model = Path(out)
    requests = build_requests(args.requests, args.max_tokens, args.seeded)
    c1_requests = requests[: args.requests_c1]
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench_serving_") as tmp:
        for kind in args.servers.split(","):
            print(f"{SERVERS[kind][0]}: starting {SERVERS[kind][1]} on {model} ...", file=sys.stderr, flush=True)
            results[kind] = bench_server(kind, model, requests, c1_requests, args.concurrency, Path(tmp), args.timeout)
            print(f"  {json.dumps(results[kind])}", file=sys.stderr, flush=True)
    print(
        f"model {model}, {args.requests} image requests at concurrency {args.concurrency} and {len(c1_requests)} at 1, "
        f"max_tokens {args.max_tokens}, temperature 1{', one seed per request' if args.seeded else ''}; {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end"
    )
    if "vllm" in results and "llamafactory" in results:
        print(table(results, args.concurrency))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
