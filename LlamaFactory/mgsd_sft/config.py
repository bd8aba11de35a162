"""Resolve a LLaMA-Factory YAML for a run: the stage's config, ``key=value`` overrides, the CPU profile;
then check the paths it names, so that a launcher fails early with one clear line.

    python -m mgsd_sft.config train --base LlamaFactory/configs/qwen3vl_4b_perception_lora.yaml \\
        --set model_name_or_path=models/x --set max_steps=5 --cpu --out run.yaml --print
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

# What a CPU run changes: no mixed precision, no worker processes, no flash attention.
CPU_PROFILE = {
    "use_cpu": True,
    "bf16": False,
    "fp16": False,
    "preprocessing_num_workers": 1,
    "dataloader_num_workers": 0,
    "flash_attn": "disabled",
}


class ConfigError(ValueError):
    pass


_WORDS_KEPT = {"yes", "no", "on", "off", "y", "n"}


def _scalar(text: str):
    """A YAML scalar, with numbers like ``2e-4`` read as numbers (YAML 1.1 wants ``2.0e-4``) and
    ``no``/``yes``/``on``/``off`` kept as words (``eval_strategy=no``); only true/false are booleans."""
    if text.strip().lower() in _WORDS_KEPT:
        return text.strip()
    value = yaml.safe_load(text)
    if isinstance(value, str):
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                pass
    return value


def parse_overrides(items: list[str] | None) -> dict:
    """``["lr=1e-4", "max_steps=5"]`` -> typed values (YAML scalars)."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"override {item!r}: expected key=value")
        out[key.strip()] = _scalar(value) if value.strip() else None
    return out


def resolve(base: Path, overrides: dict, cpu: bool = False) -> dict:
    """The base YAML with the CPU profile (if asked) and then the overrides applied; None drops a key."""
    if not base.is_file():
        raise ConfigError(f"{base}: no such config")
    config = yaml.safe_load(base.read_text()) or {}
    if cpu:
        config.update(CPU_PROFILE)
    for key, value in overrides.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return config


def _model_dir(path: str, what: str) -> None:
    p = Path(path)
    if not (p / "config.json").is_file():
        raise ConfigError(
            f"{what} {path}: not a model folder (no config.json); download the model or point "
            f"MODEL_PATH at it (nothing is fetched from a model hub)"
        )


def check_train(config: dict) -> None:
    """The model and dataset a training config names exist locally."""
    _model_dir(str(config.get("model_name_or_path", "")), "MODEL_PATH")
    dataset_dir = Path(str(config.get("dataset_dir", "")))
    info = dataset_dir / "dataset_info.json"
    if not info.is_file():
        raise ConfigError(
            f"DATA_DIR {dataset_dir}: no dataset_info.json (make one with: mgsd data export llamafactory)"
        )
    names = json.loads(info.read_text())
    for name in str(config.get("dataset", "")).split(","):
        if name.strip() not in names:
            raise ConfigError(
                f"DATA_DIR {dataset_dir}: dataset {name.strip()!r} is not in dataset_info.json ({', '.join(names)})"
            )
        if not (dataset_dir / names[name.strip()]["file_name"]).is_file():
            raise ConfigError(f"DATA_DIR {dataset_dir}: {names[name.strip()]['file_name']} is missing")


def check_export(config: dict) -> None:
    """The base model and adapter a merge config names exist locally."""
    _model_dir(str(config.get("model_name_or_path", "")), "BASE_MODEL")
    adapter = Path(str(config.get("adapter_name_or_path", "")))
    if not (adapter / "adapter_config.json").is_file():
        raise ConfigError(f"ADAPTER_PATH {adapter}: not a LoRA adapter folder (no adapter_config.json)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Resolve and check a LLaMA-Factory config for a launcher.")
    parser.add_argument("mode", choices=("train", "export"), help="what the config is for (decides the checks)")
    parser.add_argument("--base", required=True, help="the stage's YAML")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override (repeatable)")
    parser.add_argument("--cpu", action="store_true", help="apply the CPU profile")
    parser.add_argument("--no-check", action="store_true", help="skip the path checks (dry runs)")
    parser.add_argument("--out", help="write the resolved YAML here")
    parser.add_argument("--print", action="store_true", help="print the resolved YAML")
    args = parser.parse_args(argv)
    try:
        config = resolve(Path(args.base), parse_overrides(args.set), cpu=args.cpu)
        if not args.no_check:
            (check_train if args.mode == "train" else check_export)(config)
    except (ConfigError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = yaml.safe_dump(config, sort_keys=False)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(args.out + ".tmp")
        tmp.write_text(text)
        tmp.replace(args.out)
    if args.print:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
