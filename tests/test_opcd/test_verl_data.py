"""The verl RL parquet: schema, content, and loading through verl's own RLHFDataset."""

import json

import pyarrow.parquet as pq
import pytest
from omegaconf import OmegaConf

from task_envs import get_task
from task_envs.chat import IMAGE_TOKEN, REFERENCE_PLAN_LABEL
from task_envs.dataset.folder import DatasetError, load_dataset
from task_envs.exporters.verl import export_verl


def test_columns_and_rows(opcd_data):
    table = pq.read_table(opcd_data["train"])
    assert set(table.column_names) == {"data_source", "prompt", "images", "ability", "reward_model", "extra_info"}
    dataset = load_dataset(opcd_data["train_dir"])
    rows = table.to_pylist()
    assert len(rows) == len(dataset.samples)
    for row, sample in zip(rows, dataset.samples):
        extra = row["extra_info"]
        assert row["data_source"] == f"mgsd/{sample['task']}/{sample['level']}" and extra["id"] == sample["id"]
        assert row["images"][0]["bytes"] == dataset.image_path(sample).read_bytes()
        assert row["prompt"][0]["content"].count(IMAGE_TOKEN) == 1
        record = json.loads(extra["record"])
        task = get_task(record["task"])
        inst = task.from_record(record)
        assert task.symbolic_state(inst) in extra["teacher_context"]
        assert task.symbolic_state(inst) not in row["prompt"][0]["content"]
        assert extra["reference_plan"] == ", ".join(sample["optimal_plan"])
        assert task.score(inst, row["reward_model"]["ground_truth"])["success"] == 1


def test_no_reference_plan_and_refusals(opcd_data, tmp_path):
    out, n = export_verl([str(opcd_data["train_dir"])], tmp_path / "x.parquet", per_level=1, reference_plan=False)
    rows = pq.read_table(out).to_pylist()
    assert n == len(rows) and len({(r["extra_info"]["task"], r["extra_info"]["level"]) for r in rows}) == n
    assert all(REFERENCE_PLAN_LABEL not in r["extra_info"]["teacher_context"] for r in rows)
    with pytest.raises(DatasetError, match="already exists"):
        export_verl([str(opcd_data["train_dir"])], out)
    with pytest.raises(DatasetError, match="parquet"):
        export_verl([str(opcd_data["train_dir"])], tmp_path / "x.json")


def test_loads_in_verl_rlhf_dataset(opcd_data, tiny_model):
    from transformers import AutoProcessor
    from verl.utils.dataset.rl_dataset import RLHFDataset

    processor = AutoProcessor.from_pretrained(tiny_model)
    config = OmegaConf.create(
        {
            "prompt_key": "prompt",
            "image_key": "images",
            "max_prompt_length": 4096,
            "filter_overlong_prompts": False,
            "return_raw_chat": True,
            "truncation": "error",
        }
    )
    dataset = RLHFDataset(str(opcd_data["train"]), processor.tokenizer, config, processor)
    assert len(dataset) == pq.read_metadata(opcd_data["train"]).num_rows
    item = dataset[0]
    assert item["data_source"].startswith("mgsd/")
    assert "teacher_context" in item["extra_info"] and "record" in item["extra_info"]
    content = item["raw_prompt"][0]["content"]
    assert isinstance(content, list) and content[0]["type"] == "image"
