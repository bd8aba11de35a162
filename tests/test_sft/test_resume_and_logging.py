"""Perception SFT on a CPU: an interrupted run resumes from its last checkpoint (RESUME=0 starts over), swanlab's
offline mode writes its local run with the logged metrics, a logger that cannot run is one error line before
training, and the LoRA merge takes the base model (and size) from the adapter."""

import json
from pathlib import Path

import yaml

from .conftest import run_launcher
from .test_launchers import one_line_error


def swanlab_scalars(logdir: Path) -> dict:
    """{metric key: [(step, value), ...]} from swanlab's local run file (its own reader)."""
    from swanlab.proto.swanlab.record.v1.record_pb2 import Record
    from swanlab.sdk.internal.core_python.store import DataStoreReader

    runs = sorted(logdir.glob("run-*/run-*.swanlab"))
    assert runs, f"no swanlab run under {logdir}: {sorted(p.name for p in logdir.glob('*'))}"
    reader, out = DataStoreReader(), {}
    reader.open(runs[-1])
    for raw in reader:
        record = Record()
        record.ParseFromString(raw)
        if record.HasField("scalar"):
            out.setdefault(record.scalar.key, []).append((record.scalar.step, record.scalar.value.number))
    reader.close()
    return out


def global_step(folder: Path) -> int:
    return json.loads((folder / "trainer_state.json").read_text())["global_step"]


def test_resume_after_a_checkpoint_and_swanlab_offline(tmp_path, tiny_model, perception_data):
    data_dir, name = perception_data
    out = tmp_path / "lora"
    env = {
        "MODEL_PATH": str(tiny_model),
        "DATA_DIR": str(data_dir),
        "DATASET": name,
        "OUTPUT_DIR": str(out),
        "USE_CPU": "1",
        "SWANLAB_ROOT": str(tmp_path / "swanlab_home"),
    }
    common = "learning_rate=5e-3 logging_steps=1 save_steps=2 val_size=0 eval_strategy=no per_device_train_batch_size=2 plot_loss=false"

    # 1. two steps with a checkpoint at step 2, logged to swanlab offline: the "interrupted" run
    first = run_launcher(
        "train_perception_sft.sh",
        {
            **env,
            "SFT_OVERRIDES": f"max_steps=2 {common}",
            "SWANLAB_PROJECT": "mgsd-test",
            "SWANLAB_RUN_NAME": "resume",
            "SWANLAB_MODE": "offline",
        },
    )
    assert first.returncode == 0, first.stderr[-3000:]
    assert "REPORT_TO=swanlab" in first.stderr and "no checkpoint in OUTPUT_DIR, starting fresh" in first.stderr
    assert global_step(out / "checkpoint-2") == 2
    resolved = yaml.safe_load((out / "mgsd_train_config.yaml").read_text())
    assert resolved["use_swanlab"] is True and resolved["swanlab_mode"] == "offline"
    assert resolved["swanlab_project"] == "mgsd-test" and "resume_from_checkpoint" not in resolved
    scalars = swanlab_scalars(out / "swanlog")
    losses = [v for k, steps in scalars.items() if k.endswith("loss") for _, v in steps]
    assert len(losses) >= 2 and all(v == v for v in losses), scalars.keys()  # one per logged step, finite

    # 2. the rerun with a longer budget continues from checkpoint-2 instead of starting again
    second = run_launcher("train_perception_sft.sh", {**env, "SFT_OVERRIDES": f"max_steps=4 {common}"})
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"resuming from {out}/checkpoint-2" in second.stderr
    assert (
        "Resuming training from checkpoint with epoch 0 and global step 2" in second.stdout + second.stderr
    )  # the trainer
    assert global_step(out) == 4 and global_step(out / "checkpoint-4") == 4
    history = json.loads((out / "trainer_state.json").read_text())["log_history"]
    assert [e["step"] for e in history if "loss" in e] == [1, 2, 3, 4]  # steps 1-2 from the checkpoint, 3-4 new

    # 3. RESUME=0 starts over: the old checkpoints go, the step count restarts
    third = run_launcher("train_perception_sft.sh", {**env, "RESUME": "0", "SFT_OVERRIDES": f"max_steps=2 {common}"})
    assert third.returncode == 0, third.stderr[-3000:]
    assert "starting over; deleting 2 checkpoint(s)" in third.stderr
    assert not (out / "checkpoint-4").exists() and global_step(out) == 2

    # 4. the merge reads the base model from the adapter (no MODEL_SIZE, no BASE_MODEL)
    merge = run_launcher("merge_lora.sh", {"ADAPTER_PATH": str(out), "DRY_RUN": "1"})
    assert merge.returncode == 0, merge.stderr
    config = yaml.safe_load(merge.stdout)
    assert config["model_name_or_path"] == str(tiny_model)
    assert config["export_dir"] == "models/ckpts/tiny-qwen3-vl-Perception-SFT"


def test_merge_size_from_the_adapters_base(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "/cluster/Qwen3-VL-8B-Instruct"})
    )
    merge = run_launcher("merge_lora.sh", {"ADAPTER_PATH": str(adapter), "DRY_RUN": "1"})
    assert merge.returncode == 0, merge.stderr
    config = yaml.safe_load(merge.stdout)
    assert config["model_name_or_path"] == "models/Qwen3-VL-8B-Instruct"  # not here: the local folder of that size
    assert config["export_dir"] == "models/ckpts/Qwen3-VL-8B-Perception-SFT"
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "/cluster/my-vlm"}))
    one_line_error(
        run_launcher("merge_lora.sh", {"ADAPTER_PATH": str(adapter), "DRY_RUN": "1"}), "BASE_MODEL", "/cluster/my-vlm"
    )


def test_a_logger_that_cannot_run_stops_before_training(tmp_path, tiny_model, perception_data):
    data_dir, name = perception_data
    env = {
        "MODEL_PATH": str(tiny_model),
        "DATA_DIR": str(data_dir),
        "DATASET": name,
        "USE_CPU": "1",
        "OUTPUT_DIR": str(tmp_path / "out"),
        "SWANLAB_ROOT": str(tmp_path / "home"),
    }
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "swanlab.py").write_text("raise ImportError('simulated: not installed')\n")
    one_line_error(
        run_launcher(
            "train_perception_sft.sh",
            {**env, "SWANLAB_PROJECT": "p", "SWANLAB_MODE": "offline", "PYTHONPATH": str(fake)},
        ),
        "swanlab package is not installed",
    )
    one_line_error(
        run_launcher("train_perception_sft.sh", {**env, "SWANLAB_PROJECT": "p", "SWANLAB_API_KEY": ""}),
        "SWANLAB_MODE=cloud needs SWANLAB_API_KEY",
    )
    one_line_error(
        run_launcher("train_perception_sft.sh", {**env, "REPORT_TO": "wandb"}), "wandb package is not installed"
    )
    one_line_error(run_launcher("train_perception_sft.sh", {**env, "RESUME": "maybe"}), "RESUME")
    assert not (tmp_path / "out").exists()  # nothing was started
