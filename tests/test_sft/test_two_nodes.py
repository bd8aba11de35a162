"""Perception SFT over two torchrun nodes on one machine (NNODES=2, NODE_RANK=0/1, gloo on a CPU): the
launcher's multi-node path runs LLaMA-Factory's own distributed training, both ranks take part, and the
adapter lands once in the shared OUTPUT_DIR."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_perception_sft_on_two_torchrun_nodes(tmp_path, tiny_model, perception_data):
    data_dir, name = perception_data
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "adapter"  # one folder both nodes see, as on a shared filesystem
    env = {
        **os.environ,
        "MGSD_SFT_PYTHON": sys.executable,
        "MODEL_PATH": str(tiny_model),
        "DATA_DIR": str(data_dir),
        "DATASET": name,
        "OUTPUT_DIR": str(out),
        "USE_CPU": "1",
        "NNODES": "2",
        "NPROC_PER_NODE": "1",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "OMP_NUM_THREADS": "1",
        "SFT_OVERRIDES": "max_steps=2 logging_steps=1 save_steps=2 per_device_train_batch_size=2 "
        "gradient_accumulation_steps=1 plot_loss=false",
    }
    nodes = [
        subprocess.Popen(
            ["bash", str(ROOT / "LlamaFactory" / "train_perception_sft.sh")],
            cwd=ROOT,
            env={**env, "NODE_RANK": str(rank)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in (0, 1)
    ]
    logs = [node.communicate(timeout=600)[0] for node in nodes]
    for rank, (node, log) in enumerate(zip(nodes, logs)):
        assert node.returncode == 0, f"node {rank}:\n{log[-3000:]}"
        assert f"NNODES=2 NODE_RANK={rank}" in log
    # The world spans both nodes: the process of node 1 is rank 1 of 2, training distributed.
    assert "Process rank: 1, world size: 2" in logs[1] and "distributed training: True" in logs[1], logs[1][-3000:]
    assert "Process rank: 0, world size: 2" in logs[0]
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 2 and (out / "adapter_model.safetensors").is_file()
