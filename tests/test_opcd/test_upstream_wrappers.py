"""Upstream MGSD's launchers at their upstream paths (thin wrappers over ours, requirements/upstream_env.sh):
each upstream README command runs with DRY_RUN=1, exits 0 and shows the values it took from upstream's
variables; variables that cannot mean the same thing here get a note; bad upstream paths fail in one line.
The verl dry runs compose the real config (this environment); the SFT ones run in the sft environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# Every launcher of upstream's README and examples (Oranger-l/MGSD), at its upstream path.
UPSTREAM_SCRIPTS = [
    "LlamaFactory/examples/train_lora/qwen3vl_4b_vsp_tasks_perception_sft.sh",
    "LlamaFactory/examples/train_lora/qwen3vl_8b_vsp_tasks_perception_sft.sh",
    "LlamaFactory/examples/merge_lora/merge_vsp_tasks_perception_sft.sh",
    "EasyR1/examples/prepare_qwen3_vl_4b_vsp_tasks_opcd_data.sh",
    "EasyR1/examples/qwen3_vl_4b_vsp_tasks_opcd_base_teacher.sh",
    "EasyR1/examples/qwen3_vl_8b_vsp_tasks_opcd_base_teacher.sh",
    "EasyR1/examples/merge_vsp_tasks_opcd_checkpoint.sh",
    "evaluate/perception_eval/vlm.sh",
    "evaluate/perception_eval/run_vsp_perception_eval.sh",
    "evaluate/ckpt_eval/serve_ckpt.sh",
    "evaluate/ckpt_eval/serve_ckpt_8x.sh",
    "evaluate/ckpt_eval/run_ckpt_eval.sh",
    "evaluate/api_eval/run_api_eval.sh",
    "evaluate/modality_gap_eval/run_condition.sh",
    "evaluate/modality_gap_eval/run_two_modalities.sh",
    "evaluate/modality_gap_eval/serve_model.sh",
    "evaluate/modality_gap_eval/serve_model_8x.sh",
]
# Variables a developer's shell may carry that would change what the wrappers resolve.
CLEAN = [
    "MODEL_PATH",
    "DATA_DIR",
    "VAL_DIR",
    "OUTPUT_DIR",
    "OUT_DIR",
    "DATA_DIRS",
    "BASE_URLS",
    "LIMIT",
    "LABEL",
    "PIPELINES",
    "EVAL_ARGS",
    "VLLM_ARGS",
    "REPORT_TO",
    "OPCD_OVERRIDES",
    "TRAINER",
    "MODEL_SIZE",
    "PROJECT_NAME",
    "EXPERIMENT_NAME",
    "OPENAI_API_KEY",
    "API_CONFIG",
    "REPLICAS",
]
CLEAN += [k for k in os.environ if k.startswith("SWANLAB_")]


@pytest.fixture(scope="module")
def sft_python():
    proc = subprocess.run(["bash", "requirements/setup_env.sh", "sft"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


def run(script, env=None, *args, cwd="/"):
    """The wrapper from another directory, as a user types it (bash <path>), with DRY_RUN=1."""
    full = {k: v for k, v in os.environ.items() if k not in CLEAN}
    full.update({"MGSD_OPCD_PYTHON": sys.executable, "DRY_RUN": "1", **(env or {})})
    return subprocess.run(
        ["bash", str(ROOT / script), *args], capture_output=True, text=True, env=full, cwd=cwd, timeout=300
    )


def ok(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_every_upstream_launcher_exists_and_explains_itself():
    for script in UPSTREAM_SCRIPTS:
        path = ROOT / script
        assert path.is_file() and os.access(path, os.X_OK), script
        assert len(path.read_text().splitlines()) <= 25, f"{script}: a wrapper stays one screen"
        help_ = ok(run(script, {}, "-h"))
        assert "Upstream MGSD" in help_.stdout and "#" not in help_.stdout, script


def test_perception_sft_readme_commands(sft_python, tmp_path):
    env = {
        "MGSD_SFT_PYTHON": sft_python,
        "MODEL_NAME_OR_PATH": "/m/Qwen3-VL-4B-Instruct",
        "DATASET_DIR": "/d/lf",
        "MEDIA_DIR": "/d/media",
        "OUTPUT_DIR": str(tmp_path / "out"),
        "SWANLAB_PROJECT": "VSP-Test",
        "SWANLAB_RUN_NAME": "run-a",
        "SWANLAB_MODE": "offline",
        "USE_CPU": "0",
        "LLAMAFACTORY_ROOT": "/elsewhere",
    }
    for size in ("4b", "8b"):
        proc = ok(run(f"LlamaFactory/examples/train_lora/qwen3vl_{size}_vsp_tasks_perception_sft.sh", env))
        config = yaml.safe_load(proc.stdout)
        assert config["model_name_or_path"] == "/m/Qwen3-VL-4B-Instruct" and config["dataset_dir"] == "/d/lf"
        assert config["media_dir"] == "/d/media" and config["output_dir"] == str(tmp_path / "out")
        assert config["use_swanlab"] is True and config["swanlab_project"] == "VSP-Test"
        assert config["swanlab_run_name"] == "run-a" and config["swanlab_mode"] == "offline"
        assert config["gradient_accumulation_steps"] == 2 and config["lora_rank"] == 8
        assert "upstream: MODEL_PATH=/m/Qwen3-VL-4B-Instruct (from MODEL_NAME_OR_PATH)" in proc.stderr
        assert "upstream: DATA_DIR=/d/lf (from DATASET_DIR)" in proc.stderr
        assert f"MODEL_SIZE={size}" in proc.stderr
        assert "note: LLAMAFACTORY_ROOT=/elsewhere has no effect here" in proc.stderr
    # swanlab off, upstream's run name when only the mode is given, several nodes only with SINGLE_NODE=0
    off = ok(
        run(
            "LlamaFactory/examples/train_lora/qwen3vl_4b_vsp_tasks_perception_sft.sh",
            {"MGSD_SFT_PYTHON": sft_python, "ENABLE_SWANLAB": "false", "NNODES": "2"},
        )
    )
    assert yaml.safe_load(off.stdout)["report_to"] == "none" and "NNODES=1" in off.stderr
    assert "note: NNODES=2 ignored: SINGLE_NODE=1" in off.stderr
    named = yaml.safe_load(
        ok(
            run(
                "LlamaFactory/examples/train_lora/qwen3vl_8b_vsp_tasks_perception_sft.sh",
                {"MGSD_SFT_PYTHON": sft_python, "SWANLAB_MODE": "offline"},
            )
        ).stdout
    )
    assert (
        named["swanlab_project"] == "VSP-Tasks"
        and named["swanlab_run_name"] == "qwen3vl8b_vsp_tasks_perception_sft_final"
    )
    multi = ok(
        run(
            "LlamaFactory/examples/train_lora/qwen3vl_4b_vsp_tasks_perception_sft.sh",
            {"MGSD_SFT_PYTHON": sft_python, "SINGLE_NODE": "0", "NNODES": "2", "NODE_RANK": "1"},
        )
    )
    assert "NNODES=2 NODE_RANK=1" in multi.stderr


def test_lora_merge_readme_commands(sft_python):
    script = "LlamaFactory/examples/merge_lora/merge_vsp_tasks_perception_sft.sh"
    adapter = "LlamaFactory/saves/qwen3-vl-4b/vsp_tasks_perception_lora_sft/checkpoint-828"
    four = ok(run(script, {"MGSD_SFT_PYTHON": sft_python}, adapter))
    config = yaml.safe_load(four.stdout)
    assert config["adapter_name_or_path"] == adapter and config["model_name_or_path"] == "models/Qwen3-VL-4B-Instruct"
    assert f"upstream: ADAPTER_PATH={adapter} (first argument)" in four.stderr
    eight = yaml.safe_load(
        ok(
            run(script, {"MGSD_SFT_PYTHON": sft_python, "MODEL_SIZE": "8B", "EXPORT_DIR": "models/ckpts/mine"}, adapter)
        ).stdout
    )
    assert eight["model_name_or_path"] == "models/Qwen3-VL-8B-Instruct" and eight["export_dir"] == "models/ckpts/mine"


def test_opcd_data_readme_command(tmp_path):
    train, val = tmp_path / "train", tmp_path / "val"
    for folder in (train, val):
        folder.mkdir()
        (folder / "manifest.json").write_text("{}")
    script = "EasyR1/examples/prepare_qwen3_vl_4b_vsp_tasks_opcd_data.sh"
    proc = ok(
        run(
            script,
            {
                "DATA_ROOT": str(train),
                "VAL_RAW_ROOT": str(val),
                "JSON_ROOT": str(tmp_path / "pq"),
                "MAZE_TRAIN_LEVELS": "level3,level4",
                "SAMPLE_PER_LEVEL": "50",
                "TEACHER_USE_GT": "0",
                "OPCD_DUPLICATE_TO": "1000",
            },
        )
    )
    assert proc.stdout.startswith("would run:") and proc.stdout.rstrip().endswith("bash EasyR1/prepare_opcd_data.sh")
    for expected in (
        f"TRAIN_DIRS={train}",
        f"VAL_DIRS={val}",
        f"OUT_DIR={tmp_path / 'pq'}",
        "LEVELS=maze=3,4",
        "TRAIN_PER_LEVEL_CAP=50",
        "TEACHER_REFERENCE_PLAN=0",
    ):
        assert expected in proc.stdout, expected
    assert "note: OPCD_DUPLICATE_TO=1000 has no effect here" in proc.stderr
    raw = run(script, {"DATA_ROOT": str(tmp_path)})
    assert raw.returncode == 2 and raw.stderr.count("error:") == 1 and "DATA_ROOT" in raw.stderr
    assert not (tmp_path / "pq").exists()


def test_opcd_training_readme_commands(tmp_path):
    (tmp_path / "val").mkdir()
    (tmp_path / "val" / "test.parquet").write_text("")  # upstream's validation file name: noted, not read
    env = {
        "TRAINER": "verl",
        "DEVICE": "cuda",
        "MODEL_PATH": "/m/sft",
        "TRAIN_FILES": "/d/mixed/train.parquet",
        "VAL_DIR": str(tmp_path / "val"),
        "DATA_ROOT": "/raw/VSP-Tasks",
        "PROJECT_NAME": "MyProj",
        "EXPERIMENT_NAME": "my_exp",
        "TOTAL_EPOCHS": "2",
        "ROLLOUT_BATCH_SIZE": "16",
        "GLOBAL_BATCH_SIZE": "16",
    }
    for size in ("4b", "8b"):
        proc = ok(run(f"EasyR1/examples/qwen3_vl_{size}_vsp_tasks_opcd_base_teacher.sh", env))
        config = yaml.safe_load(proc.stdout)  # composed and validated by verl
        assert config["trainer"]["project_name"] == "MyProj" and config["trainer"]["experiment_name"] == "my_exp"
        assert config["trainer"]["total_epochs"] == 2 and config["data"]["train_batch_size"] == 16
        assert config["actor_rollout_ref"]["actor"]["ppo_mini_batch_size"] == 16
        assert config["trainer"]["default_local_dir"] == str(ROOT / "EasyR1/checkpoints/MyProj/my_exp")
        assert config["data"]["train_files"] == "/d/mixed/train.parquet"
        assert config["actor_rollout_ref"]["model"]["path"] == "/m/sft"
        assert "upstream: DATA_DIR=/d/mixed (from TRAIN_FILES)" in proc.stderr
        assert "note: DATA_ROOT=/raw/VSP-Tasks has no effect here" in proc.stderr
        assert "holds upstream's test.parquet, which is not read" in proc.stderr
        assert f"MODEL_SIZE={size}" in proc.stderr
    # upstream's defaults line up with its merge command: EasyR1/checkpoints/VSP_Tasks_OPCD/<experiment>
    single = ok(run("EasyR1/examples/qwen3_vl_8b_vsp_tasks_opcd_base_teacher.sh", {"TRAINER": "single"}))
    assert "experiment_name=qwen3vl8b_vsp_tasks_mixed_opcd_base_teacher_sft_student_final" in single.stderr
    assert (
        "EasyR1/checkpoints/VSP_Tasks_OPCD/qwen3vl8b_vsp_tasks_mixed_opcd_base_teacher_sft_student_final"
        in single.stderr
    )
    bad = run("EasyR1/examples/qwen3_vl_4b_vsp_tasks_opcd_base_teacher.sh", {"VAL_FILES": "/d/val/test.parquet"})
    assert bad.returncode == 2 and bad.stderr.count("error:") == 1 and "VAL_FILES" in bad.stderr


def test_opcd_merge_readme_command():
    ckpt = "EasyR1/checkpoints/VSP_Tasks_OPCD/exp/global_step_40"
    proc = ok(
        run(
            "EasyR1/examples/merge_vsp_tasks_opcd_checkpoint.sh",
            {"EXPORT_DIR": "models/ckpts/opcd", "HF_UPLOAD_PATH": "me/model"},
            ckpt,
        )
    )
    assert (
        proc.stdout.strip()
        == f"would run: CKPT_PATH={ckpt} EXPORT_DIR=models/ckpts/opcd bash EasyR1/merge_checkpoint.sh {ckpt}"
    )
    assert "note: HF_UPLOAD_PATH=me/model has no effect here" in proc.stderr


def test_evaluation_readme_commands(tmp_path):
    vlm = ok(run("evaluate/perception_eval/vlm.sh", {"REPLICAS": "2", "MAX_NUM_BATCHED_TOKENS": "65536"}))
    assert "MODEL_PATH=models/ckpts/Qwen3-VL-8B-Perception-SFT" in vlm.stdout
    assert "'VLLM_ARGS=--max-num-batched-tokens 65536'" in vlm.stdout and "bash evaluate/serve_vllm.sh" in vlm.stdout
    perception = ok(
        run(
            "evaluate/perception_eval/run_vsp_perception_eval.sh",
            {
                "REPLICAS": "2",
                "SAMPLES_PER_LEVEL": "10",
                "MODEL_NAME": "qwen3vl-vsp-perception",
                "OUTPUT": "runs/p/perception.jsonl",
                "DATASET_JSON": "LlamaFactory/data/x.json",
            },
        )
    )
    for expected in (
        "PIPELINES=perception",
        "'BASE_URLS=http://127.0.0.1:8000/v1 http://127.0.0.1:8001/v1'",
        "LIMIT=10",
        "OUT_DIR=runs/p/perception",
        "'EVAL_ARGS=--model qwen3vl-vsp-perception'",
    ):
        assert expected in perception.stdout, expected
    assert "note: DATASET_JSON=LlamaFactory/data/x.json has no effect here" in perception.stderr
    serve = ok(
        run("evaluate/ckpt_eval/serve_ckpt_8x.sh", {"MODEL_PATH": "models/ckpts/mine", "SERVED_MODEL_NAME": "vsp-opcd"})
    )
    assert "MODEL_PATH=models/ckpts/mine SERVED_NAME=vsp-opcd bash evaluate/serve_vllm.sh" in serve.stdout
    # upstream's benchmark layout is imported once into data/benchmarks and evaluated
    bench = tmp_path / "VisualPlanning" / "dataset"
    (bench / "maze" / "tokenized_dataset" / "SFT").mkdir(parents=True)
    (bench / "maze" / "tokenized_dataset" / "SFT" / "test_dataset.jsonl").write_text("")
    ckpt = ok(
        run(
            "evaluate/ckpt_eval/run_ckpt_eval.sh",
            {
                "DATASET_ROOT": str(bench),
                "FROZENLAKE_BENCH_ROOT": str(tmp_path / "none"),
                "SAMPLES_PER_TASK": "0",
                "WORKERS": "64",
                "TOP_K": "20",
            },
        )
    )
    assert "PIPELINES=planning" in ckpt.stdout and "DATA_DIRS=data/benchmarks/visualplanning_maze" in ckpt.stdout
    assert "CONCURRENCY=64" in ckpt.stdout and "LIMIT= " in ckpt.stdout
    if not (ROOT / "data/benchmarks/visualplanning_maze/manifest.json").is_file():  # imported before: reused
        assert f"would import: mgsd data import visualplanning --task maze --src {bench}/maze" in ckpt.stderr
    assert "note: TOP_K=20 has no effect here" in ckpt.stderr
    api = ok(
        run(
            "evaluate/api_eval/run_api_eval.sh",
            {
                "OPENAI_API_KEY": "sk-test-secret",
                "API_KEY": "sk-other-secret",
                "OPENAI_BASE_URL": "https://example.invalid/v1",
                "MODELS": "gpt-4o gpt-5",
            },
        )
    )
    assert "LIMIT=1" in api.stdout and api.stdout.rstrip().endswith("bash evaluate/run_api_eval.sh")
    assert "secret" not in api.stdout + api.stderr


def test_other_upstream_evaluation_scripts():
    single = ok(
        run("evaluate/ckpt_eval/serve_ckpt.sh", {"MODEL_PATH": "models/x", "PORT": "8100", "TENSOR_PARALLEL_SIZE": "2"})
    )
    assert "REPLICAS=1" in single.stdout and "BASE_PORT=8100" in single.stdout and "TP=2" in single.stdout
    for name in ("serve_model.sh", "serve_model_8x.sh"):
        proc = ok(run(f"evaluate/modality_gap_eval/{name}", {"MODEL_KIND": "opcd", "CUDA_DEVICES": "0 1"}))
        assert "MODEL_PATH=models/ckpts/Qwen3-VL-4B-VSP-Tasks-OPCD-Mixed" in proc.stdout
        assert "CUDA_VISIBLE_DEVICES=0,1" in proc.stdout and "(from CUDA_DEVICES)" in proc.stderr
    condition = ok(run("evaluate/modality_gap_eval/run_condition.sh", {"MODEL_KIND": "opcd", "INPUT_MODALITY": "text"}))
    assert "LABEL=opcd" in condition.stdout and "PIPELINES=modality-gap" in condition.stdout
    assert "note: INPUT_MODALITY=text ignored" in condition.stderr
    both = ok(run("evaluate/modality_gap_eval/run_two_modalities.sh", {"MODEL_LABEL": "base8b"}))
    assert "LABEL=base8b" in both.stdout and "PIPELINES=modality-gap" in both.stdout
    bad = run("evaluate/modality_gap_eval/run_condition.sh", {"MODEL_KIND": "large"})
    assert bad.returncode == 2 and "MODEL_KIND" in bad.stderr
