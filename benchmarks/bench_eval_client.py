"""Throughput of the evaluation client against a local OpenAI-compatible server that answers at once.

Prints requests/s at concurrency 1, 16 and 64, and the client's resident memory over 10,000 requests (it must
stay flat). Target: >= 300 requests/s at 64 concurrency, so that the client is never what limits a vLLM server.
The mock server runs in its own process (on this 2-core machine it competes with the client for CPU, so the
figures are a lower bound). Run in the eval environment:

    .venvs/eval/bin/python benchmarks/bench_eval_client.py [--requests 2000] [--memory-requests 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MESSAGES = [{"role": "user", "content": "Plan the route.\n<answer>up</answer>"}]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(url: str, concurrency: int, requests: int, checkpoints=()) -> tuple[float, list]:
    from mgsd_eval.client import ChatClient, ClientSettings

    memory = []
    async with ChatClient(ClientSettings([url], model="mock-model", concurrency=concurrency)) as client:
        done = 0
        start = time.perf_counter()

        async def worker(n):
            nonlocal done
            for _ in range(n):
                await client.chat(MESSAGES)
                done += 1
                if done in checkpoints:
                    memory.append((done, rss_mib()))

        per = requests // concurrency
        await asyncio.gather(*(worker(per) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return per * concurrency / elapsed, memory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--memory-requests", type=int, default=10000)
    parser.add_argument("--port", type=int, default=8391)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "mgsd_eval.mock_server", "--port", str(args.port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{args.port}/v1"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/models", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        asyncio.run(measure(url, 16, 200))  # warm-up
        print("concurrency  requests/s")
        for concurrency in (1, 16, 64):
            n = args.requests if concurrency > 1 else args.requests // 4
            rate, _ = asyncio.run(measure(url, concurrency, n))
            print(f"{concurrency:>11}  {rate:10.0f}")
        total = args.memory_requests // 64 * 64
        marks = {1000, total // 2, total}
        rate, memory = asyncio.run(measure(url, 64, args.memory_requests, checkpoints=marks))
        print(
            f"memory over {total} requests at 64 concurrency ({rate:.0f} requests/s): "
            + ", ".join(f"{n}: {m:.0f} MiB" for n, m in sorted(memory))
        )
    finally:
        server.terminate()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
