"""A tiny Qwen3-VL built locally (random weights, locally trained tokenizer), saved like a hub checkpoint.

Used by the tests and the quickstart so that every stage runs on a CPU without a model hub. The build
is deterministic (same files for the same version of this module) and cached: a folder whose
``mgsd_tiny.json`` matches the recipe is reused.

    python -m mgsd_sft.tiny_model --out models/tiny-qwen3-vl
    python -m mgsd_sft.tiny_model --recipe toy --out models/toy-qwen3-vl   # the larger base of `make toy`

Recipes: ``tiny`` (~250k parameters; the tests and the quickstart) and ``toy`` (~1.3M parameters: text
hidden 128, 4 layers, 4 heads of 32; the vision tower as tiny's; a vocabulary of ~2,800 tokens learned from
every prompt role with phrase-level pieces: state words such as "Start: (2, 1)" are single tokens, prompts ~3x
shorter), still CPU-trainable, made a
text planner by ``make toy``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import sys
from pathlib import Path

# 2: text head_dim 32 (vLLM's CPU attention supports head dims 32, 64, 80, ... only; 16 kills its engine).
RECIPE_VERSION = 2
SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
VOCAB_SIZE = 512
# A Qwen-style chat template: system/user/assistant turns, images as vision_start + image_pad + vision_end.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' or 'image' in part or 'image_url' in part %}{{ '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{% elif part['type'] == 'video' or 'video' in part %}{{ '<|vision_start|><|video_pad|><|vision_end|>' }}"
    "{% elif 'text' in part %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
RECIPE = {
    "version": RECIPE_VERSION,
    "text": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 32,
        "max_position_embeddings": 4096,
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": 10000.0,
            "mrope_section": [8, 4, 4],
            "mrope_interleaved": True,
        },
    },
    "vision": {
        "depth": 2,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_heads": 2,
        "patch_size": 16,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "out_hidden_size": 64,
        "num_position_embeddings": 256,
        "deepstack_visual_indexes": [1],
    },
    "image": {"min_pixels": 65536, "max_pixels": 262144},
}
# The toy tokenizer's pre-tokenizer: the symbolic state's words are pieces of their own, so that BPE makes each
# one token: a label with its coordinate ("Start: (2, 1)"), a coordinate with a maze cell's open directions
# ("(0, 1): down, left") or alone ("(1, 2)"); numbers and brackets/punctuation are pieces; every run of words
# between them is one piece that BPE may merge whole (the prompts' constant sentences become a token or a few).
# Prompts get ~3x shorter than with word pieces, and reading the state is a one-step lookup: what makes CPU
# training of the toy text planner take minutes, not hours. Any text still encodes (byte-level alphabet).
PHRASES = (
    r"[A-Za-z]+: \(\d+, \d+\)|\(\d+, \d+\)(?:: [a-z]+(?:, [a-z]+)*)?|\d+|[()<>\[\],:;\n]"
    r"|[^\d()<>\[\],:;\n]+"
)
# The toy base of `make toy`: larger than tiny, so that it can learn to plan from the symbolic state on a CPU
# in minutes; vLLM's CPU attention takes its head_dim of 32. Its tokenizer also learns the symbolic and teacher
# prompts (tiny's corpus has the student, direct and perception ones only).
TOY_RECIPE = {
    "name": "toy",
    "version": 1,
    "vocab_size": 4096,
    "corpus_seeds": 30,
    "corpus": "all prompt roles",
    "pretokenizer": PHRASES,
    "text": {
        **RECIPE["text"],
        "hidden_size": 128,
        "intermediate_size": 384,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 32,
    },
    "vision": {**RECIPE["vision"], "out_hidden_size": 128},
    "image": RECIPE["image"],
}
RECIPES = {"tiny": RECIPE, "toy": TOY_RECIPE}


def _corpus(all_roles: int = 0) -> list[str]:
    """Text the tokenizer learns from: every prompt and target style of the project (``all_roles`` > 0: the
    symbolic and teacher prompts too, and the teacher context and perception answers of that many instances
    per task and level)."""
    from task_envs import TASKS, get_task
    from task_envs.answers import format_answer
    from task_envs.perception import perception_prompt, perception_target
    from task_envs.prompts import PLAN_PROMPTS, load_prompt

    texts = []
    for name in TASKS:
        task = get_task(name)
        texts += [load_prompt(v, name) for v in PLAN_PROMPTS] + [perception_prompt(name)]
        if all_roles:
            from task_envs.chat import teacher_context

            texts += [load_prompt(v, name) for v in ("symbolic", "teacher")]
            for level in task.default_levels:
                for seed in range(all_roles):
                    inst = task.generate(level, seed)
                    texts += [teacher_context(name, inst), perception_target(name, inst)]
        for level in task.default_levels:
            for seed in range(3):
                inst = task.generate(level, seed)
                texts += [
                    perception_target(name, inst),
                    format_answer(task.optimal_plan(inst)),
                    task.symbolic_state(inst),
                ]
    return texts


def build_tokenizer(recipe: dict = RECIPE):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    if recipe.get("pretokenizer"):
        from tokenizers import Regex

        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(recipe["pretokenizer"]), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    else:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=recipe.get("vocab_size", VOCAB_SIZE),
        special_tokens=SPECIAL_TOKENS,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_corpus(all_roles=recipe.get("corpus_seeds", 0)), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        model_max_length=4096,
        padding_side="left",
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build(out: Path | str, force: bool = False, recipe: str = "tiny") -> Path:
    """Build the tiny (or ``recipe="toy"``) model into ``out`` (reused when already built with this recipe)."""
    out = Path(out)
    if recipe not in RECIPES:
        raise ValueError(f"recipe: expected one of {', '.join(RECIPES)}, got {recipe!r}")
    spec = RECIPES[recipe]
    marker = out / "mgsd_tiny.json"
    if not force and marker.is_file() and json.loads(marker.read_text()) == spec:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_name(out.name + ".lock"), "w") as lock:  # another process may be building the same folder
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and marker.is_file() and json.loads(marker.read_text()) == spec:
            return out
        return _build(out, spec)


def _build(out: Path, spec: dict) -> Path:
    import torch
    from transformers import GenerationConfig, Qwen3VLConfig, Qwen3VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    tmp = out.with_name(out.name + ".incomplete")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tokenizer = build_tokenizer(spec)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    config = Qwen3VLConfig(
        text_config={
            **spec["text"],
            "vocab_size": len(tokenizer),
            "bos_token_id": None,
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config=spec["vision"],
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    model = Qwen3VLForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]], pad_token_id=ids["<|endoftext|>"], do_sample=False
    )
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    image_processor = Qwen2VLImageProcessorPil(
        patch_size=16,
        merge_size=2,
        temporal_patch_size=2,
        min_pixels=spec["image"]["min_pixels"],
        max_pixels=spec["image"]["max_pixels"],
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
    )
    image_processor.save_pretrained(tmp)
    save_processor_config(tmp, spec["image"])
    marker_tmp = tmp / "mgsd_tiny.json"
    marker_tmp.write_text(json.dumps(spec, indent=1) + "\n")
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


def save_processor_config(folder: Path, image: dict = RECIPE["image"]) -> None:
    """processor_config.json / video preprocessor config so that AutoProcessor builds a Qwen3VLProcessor."""
    (folder / "processor_config.json").write_text(json.dumps({"processor_class": "Qwen3VLProcessor"}, indent=1) + "\n")
    video = {
        "video_processor_type": "Qwen3VLVideoProcessor",
        "patch_size": 16,
        "merge_size": 2,
        "temporal_patch_size": 2,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "size": {"shortest_edge": image["min_pixels"], "longest_edge": image["max_pixels"]},
    }
    (folder / "video_preprocessor_config.json").write_text(json.dumps(video, indent=1) + "\n")
    (folder / "chat_template.jinja").write_text(CHAT_TEMPLATE)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the tiny local Qwen3-VL used by tests and the quickstart "
        "(or, --recipe toy, the larger toy base of `make toy`)."
    )
    parser.add_argument("--out", default="models/tiny-qwen3-vl", help="output folder (default: models/tiny-qwen3-vl)")
    parser.add_argument(
        "--recipe",
        choices=tuple(RECIPES),
        default="tiny",
        help="tiny (~250k parameters, default) or toy (~1.3M: text hidden 128, 4 layers)",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even when the folder holds this recipe")
    args = parser.parse_args(argv)
    out = build(args.out, force=args.force, recipe=args.recipe)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
