"""The base install stays light: no torch, transformers or training framework; prompts ship as data."""

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "llamafactory", "verl", "vllm", "peft", "accelerate", "deepspeed")


def test_base_dependencies_are_light():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [d.split(">")[0].split("=")[0].split("<")[0].strip().lower() for d in project["dependencies"]]
    assert names and not [n for n in names if n in HEAVY]
    assert project["scripts"]["mgsd"] == "task_envs.cli:main"


def test_prompts_are_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "prompts/*.txt" in config["task_envs"]
    from task_envs import TASKS
    from task_envs.prompts import PROMPT_ROLES

    names = {p.name for p in (ROOT / "task_envs" / "prompts").glob("*.txt")}
    assert names == {f"{role}_{task}.txt" for role in PROMPT_ROLES for task in TASKS}


def test_core_requirements_are_pinned():
    for name in ("core.txt", "test.txt"):
        for line in (ROOT / "requirements" / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert "==" in line, f"{name}: {line} is not pinned"
