"""The real thing on a CPU: export -> llamafactory-cli train (LoRA, tiny model) -> llamafactory-cli export
-> the merged folder loads offline and generates from a task image; its weights moved."""

import json

import torch
from safetensors.torch import load_file

from mgsd_sft.checkpoint import verify

from .conftest import run_launcher


def test_train_merge_load_generate(tmp_path, tiny_model, perception_data):
    data_dir, name = perception_data
    adapter, merged = tmp_path / "adapter", tmp_path / "merged"
    train = run_launcher(
        "train_perception_sft.sh",
        {
            "MODEL_PATH": str(tiny_model),
            "DATA_DIR": str(data_dir),
            "DATASET": name,
            "OUTPUT_DIR": str(adapter),
            "USE_CPU": "1",
            "SFT_OVERRIDES": "max_steps=4 learning_rate=5e-3 logging_steps=1 save_steps=4 eval_steps=4 "
            "val_size=0.2 per_device_train_batch_size=2 per_device_eval_batch_size=2 plot_loss=false",
        },
    )
    assert train.returncode == 0, train.stderr[-3000:]
    state = json.loads((adapter / "trainer_state.json").read_text())
    losses = [e["loss"] for e in state["log_history"] if "loss" in e]
    assert len(losses) == 4 and all(l == l and l < 100 for l in losses)  # finite
    assert any("eval_loss" in e for e in state["log_history"])
    assert (adapter / "adapter_model.safetensors").is_file()
    resolved = (adapter / "mgsd_train_config.yaml").read_text()
    assert "use_cpu: true" in resolved and "lora_rank: 8" in resolved

    merge = run_launcher(
        "merge_lora.sh", {"ADAPTER_PATH": str(adapter), "BASE_MODEL": str(tiny_model), "EXPORT_DIR": str(merged)}
    )
    assert merge.returncode == 0, merge.stderr[-3000:]
    assert "loads and generates" in merge.stderr
    for name_ in (
        "config.json",
        "preprocessor_config.json",
        "tokenizer.json",
        "chat_template.jinja",
        "generation_config.json",
    ):
        assert (merged / name_).is_file(), name_
    base_eos = json.loads((tiny_model / "generation_config.json").read_text())["eos_token_id"]
    merged_eos = json.loads((merged / "generation_config.json").read_text())["eos_token_id"]
    assert set(base_eos) <= set(merged_eos if isinstance(merged_eos, list) else [merged_eos])

    base_w, merged_w = load_file(tiny_model / "model.safetensors"), load_file(merged / "model.safetensors")
    q = [k for k in base_w if "layers.0.self_attn.q_proj.weight" in k and "visual" not in k][0]
    assert not torch.allclose(base_w[q].float(), merged_w[q].float())  # the LoRA update landed
    visual = [k for k in base_w if k.startswith("model.visual") or "visual" in k][0]
    assert torch.equal(base_w[visual].float(), merged_w[visual].float())  # the vision tower stayed frozen
    assert verify(merged, max_new_tokens=4)
