"""Make a merged checkpoint complete and prove that it works.

- ``complete``: copy the processor, tokenizer and chat-template files that a merge left out from the
  base model, and keep every EOS id of the base's generation config (a known pain: merged LoRA folders
  lose the processor files and the second EOS id, and then never stop generating).
- ``verify``: load the folder offline with ``AutoProcessor`` + ``AutoModelForImageTextToText`` and
  generate from a rendered task image.

    python -m mgsd_sft.checkpoint complete --base models/Qwen3-VL-4B-Instruct --merged models/ckpts/X
    python -m mgsd_sft.checkpoint verify models/ckpts/X
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

PROCESSOR_FILES = (
    "preprocessor_config.json",
    "video_preprocessor_config.json",
    "processor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "chat_template.jinja",
    "chat_template.json",
    "added_tokens.json",
)


def _eos_list(value) -> list[int]:
    if value is None:
        return []
    return [value] if isinstance(value, int) else list(value)


def complete(base: Path, merged: Path) -> list[str]:
    """Fill in what the merge left out; returns the names of the files copied or changed."""
    if not (merged / "config.json").is_file():
        raise FileNotFoundError(f"{merged}: no config.json; the merge did not produce a model")
    changed = []
    for name in PROCESSOR_FILES:
        if (base / name).is_file() and not (merged / name).is_file():
            shutil.copyfile(base / name, merged / name)
            changed.append(name)
    base_gen, merged_gen = base / "generation_config.json", merged / "generation_config.json"
    if base_gen.is_file():
        base_cfg = json.loads(base_gen.read_text())
        cfg = json.loads(merged_gen.read_text()) if merged_gen.is_file() else dict(base_cfg)
        eos = _eos_list(cfg.get("eos_token_id"))
        eos += [e for e in _eos_list(base_cfg.get("eos_token_id")) if e not in eos]
        if not merged_gen.is_file() or (eos and eos != _eos_list(cfg.get("eos_token_id"))):
            cfg["eos_token_id"] = eos
            tmp = merged_gen.with_suffix(".tmp")
            tmp.write_text(json.dumps(cfg, indent=2) + "\n")
            os.replace(tmp, merged_gen)
            changed.append("generation_config.json")
    return changed


def verify(path: Path, max_new_tokens: int = 8) -> str:
    """Load offline and generate from a task image; returns the generated text."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from task_envs import get_task
    from task_envs.prompts import load_prompt

    processor = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32).eval()
    task = get_task("maze")
    image = task.render(task.generate(4, 0))
    messages = [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": load_prompt("student", "maze")}]}
    ]
    text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    inputs = processor(text=[text], images=[image], return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    new = out[0, inputs["input_ids"].shape[1] :]
    if new.numel() == 0:
        raise RuntimeError(f"{path}: the model generated no token")
    return processor.decode(new, skip_special_tokens=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Complete and verify merged checkpoints.")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("complete", help="copy missing processor/tokenizer files and EOS ids from the base")
    c.add_argument("--base", required=True)
    c.add_argument("--merged", required=True)
    v = sub.add_parser("verify", help="load offline and generate from a task image")
    v.add_argument("path")
    args = parser.parse_args(argv)
    try:
        if args.command == "complete":
            changed = complete(Path(args.base), Path(args.merged))
            print(f"{args.merged}: completed ({', '.join(changed) or 'nothing missing'})", file=sys.stderr)
        else:
            text = verify(Path(args.path))
            print(f"{args.path}: loads and generates ({text!r})", file=sys.stderr)
    except Exception as exc:  # a one-line reason for the launcher
        print(f"error: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
