"""Launcher override handling (dry runs for both sizes) and early, clear failures."""

import yaml

from .conftest import run_launcher


def dry(script, **env):
    result = run_launcher(script, {"DRY_RUN": "1", **env})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout), result.stderr


def test_both_sizes_resolve_with_overrides():
    for size in ("4b", "8b"):
        config, log = dry(
            "train_perception_sft.sh",
            MODEL_SIZE=size,
            MODEL_PATH="/m/base",
            DATA_DIR="/d/lf",
            OUTPUT_DIR="/o/run",
            SFT_OVERRIDES="max_steps=7 learning_rate=2e-4",
            USE_CPU="0",
        )
        assert config["model_name_or_path"] == "/m/base"
        assert config["dataset_dir"] == config["media_dir"] == "/d/lf"
        assert config["output_dir"] == "/o/run" and config["max_steps"] == 7 and config["learning_rate"] == 2e-4
        assert config["template"] == "qwen3_vl_nothink" and config["lora_rank"] == 8 and config["lora_target"] == "all"
        assert config["bf16"] is True and config["num_train_epochs"] == 3.0 and config["cutoff_len"] == 2048
        assert f"MODEL_SIZE={size}" in log and "OUTPUT_DIR=/o/run" in log


def test_override_values_keep_their_meaning():
    config, _ = dry(
        "train_perception_sft.sh",
        SFT_OVERRIDES="eval_strategy=no plot_loss=false learning_rate=3e-5 val_size=0 report_to=none",
    )
    assert config["eval_strategy"] == "no" and config["plot_loss"] is False
    assert config["learning_rate"] == 3e-5 and config["val_size"] == 0


def test_defaults_follow_the_size():
    config, _ = dry("train_perception_sft.sh", MODEL_SIZE="8b", USE_CPU="0")
    assert config["model_name_or_path"] == "models/Qwen3-VL-8B-Instruct"
    assert config["output_dir"] == "models/saves/qwen3-vl-8b/perception_lora"


def test_cpu_profile_and_reporting():
    config, _ = dry("train_perception_sft.sh", USE_CPU="1", REPORT_TO="swanlab", SWANLAB_PROJECT="p")
    assert config["use_cpu"] is True and config["bf16"] is False and config["dataloader_num_workers"] == 0
    assert config["use_swanlab"] is True and config["swanlab_project"] == "p" and config["report_to"] == "none"


def test_merge_dry_run():
    config, _ = dry("merge_lora.sh", ADAPTER_PATH="/a", MODEL_SIZE="8b")
    assert config["adapter_name_or_path"] == "/a" and config["model_name_or_path"] == "models/Qwen3-VL-8B-Instruct"
    assert config["export_dir"] == "models/ckpts/Qwen3-VL-8B-Perception-SFT" and config["export_legacy_format"] is False


def one_line_error(result, *needles):
    assert result.returncode == 2, result.stderr
    errors = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for needle in needles:
        assert needle in errors[0]


def test_bad_inputs_fail_early(tmp_path, tiny_model, perception_data):
    data_dir, _ = perception_data
    one_line_error(run_launcher("train_perception_sft.sh", {"MODEL_SIZE": "13b"}), "MODEL_SIZE")
    one_line_error(
        run_launcher("train_perception_sft.sh", {"MODEL_PATH": str(tmp_path / "none"), "DATA_DIR": str(data_dir)}),
        "MODEL_PATH",
    )
    one_line_error(
        run_launcher("train_perception_sft.sh", {"MODEL_PATH": str(tiny_model), "DATA_DIR": str(tmp_path)}),
        "DATA_DIR",
        "dataset_info.json",
    )
    one_line_error(
        run_launcher(
            "train_perception_sft.sh", {"MODEL_PATH": str(tiny_model), "DATA_DIR": str(data_dir), "DATASET": "other"}
        ),
        "'other'",
    )
    one_line_error(run_launcher("train_perception_sft.sh", {"REPORT_TO": "carrier-pigeon"}), "REPORT_TO")
    one_line_error(run_launcher("merge_lora.sh", {}), "ADAPTER_PATH")
    one_line_error(
        run_launcher("merge_lora.sh", {"ADAPTER_PATH": str(tmp_path), "BASE_MODEL": str(tiny_model)}),
        "ADAPTER_PATH",
        "adapter_config.json",
    )
    assert not list(tmp_path.glob("**/mgsd_train_config.yaml"))
