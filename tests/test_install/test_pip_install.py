"""A user's install, as CI checks it: a fresh venv, plain ``pip install <repo>`` with the newest versions pip
picks (no constraints, no pinned requirement file), then the CLI on all three tasks; ``<repo>[eval]`` and
``[parquet]`` in a second fresh venv, used for real (eval and report against a mock endpoint, the verl export).

Downloads from the package index (about a minute with a warm pip cache). Run with the eval environment's python.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from packaging.version import Version
from PIL import Image

from task_envs import TASKS, get_task
from task_envs.dataset.generate import build_dataset, default_spec

ROOT = Path(__file__).resolve().parents[2]
PER_LEVEL, SPLIT, SEED = 2, "test", 3
# What would make pip skip or pin dependencies, or let the fresh venv see this checkout.
_DROP_ENV = (
    "PIP_CONSTRAINT",
    "PIP_NO_DEPS",
    "PIP_REQUIREMENT",
    "PIP_TARGET",
    "PIP_PREFIX",
    "PIP_USER",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "PYTHONHOME",
)


def run(cmd: list, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and proc.returncode:
        pytest.fail(
            f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def copy_source(dest: Path) -> Path:
    """The files a user's checkout has (tracked and new, not ignored), so that the build leaves this tree alone."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def fresh_venv(path: Path) -> Path:
    run([os.environ.get("MGSD_BASE_PYTHON", "python3"), "-m", "venv", path], cwd=path.parent)
    return path / "bin"


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("install")
    copy_source(work / "src")
    return work


@pytest.fixture(scope="module")
def plain(work) -> Path:
    """bin/ of a venv with ``pip install <repo>``."""
    bin_dir = fresh_venv(work / "plain")
    run([bin_dir / "python", "-m", "pip", "install", "--quiet", work / "src"], cwd=work)
    return bin_dir


@pytest.fixture(scope="module")
def generated(plain, work) -> Path:
    out = work / "generated"
    run(
        [
            plain / "mgsd",
            "data",
            "generate",
            "--per-level",
            PER_LEVEL,
            "--split",
            SPLIT,
            "--seed",
            SEED,
            "--out",
            out,
            "--workers",
            2,
            "--quiet",
        ],
        cwd=work,
    )
    return out


@pytest.fixture(scope="module")
def extras(work) -> Path:
    """bin/ of a venv with ``pip install <repo>[eval]``."""
    bin_dir = fresh_venv(work / "extras")
    run([bin_dir / "python", "-m", "pip", "install", "--quiet", f"{work / 'src'}[eval]"], cwd=work)
    return bin_dir


def installed(bin_dir: Path, work: Path) -> dict[str, str]:
    listing = run([bin_dir / "python", "-m", "pip", "list", "--format", "json"], cwd=work).stdout
    return {p["name"].lower(): p["version"] for p in json.loads(listing)}


def test_plain_install_is_light_with_the_sprite_gymnasium_and_the_license(plain, work):
    packages = installed(plain, work)
    assert not {"torch", "transformers", "openai", "matplotlib", "pyarrow"} & set(packages)
    assert Version("1.0") <= Version(packages["gymnasium"]) < Version("1.4")
    files = run([plain / "python", "-c", "import importlib.metadata as m; print(*m.files('mgsd'))"], cwd=work).stdout
    assert "licenses/LICENSE" in files and "task_envs/prompts/student_maze.txt" in files


def test_plain_install_generates_and_exports_all_three_tasks(plain, generated, work):
    counts = json.loads((generated / "manifest.json").read_text())["counts"]
    assert counts == {t: {str(level): PER_LEVEL for level in get_task(t).default_levels} for t in TASKS}
    run([plain / "mgsd", "data", "verify", generated], cwd=work)
    run([plain / "mgsd", "data", "export", "llamafactory", "--data", generated, "--out", work / "lf"], cwd=work)
    assert (work / "lf" / "dataset_info.json").is_file()


def test_fresh_install_builds_the_same_dataset_as_the_pinned_environment(generated, tmp_path):
    pinned, _ = build_dataset(default_spec(SPLIT, per_level=PER_LEVEL, seed=SEED), tmp_path / "pinned", progress=False)
    assert (generated / "samples.jsonl").read_bytes() == (pinned / "samples.jsonl").read_bytes()
    for image in sorted((pinned / "images").iterdir()):
        with Image.open(image) as a, Image.open(generated / "images" / image.name) as b:
            assert np.array_equal(np.asarray(a), np.asarray(b)), image.name


def test_plain_install_names_the_extra_it_lacks(plain, generated, work):
    proc = run(
        [plain / "mgsd", "data", "export", "verl", "--data", generated, "--out", work / "x.parquet"],
        cwd=work,
        check=False,
    )
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        "mgsd: error: mgsd data export verl writes parquet and needs pyarrow: pip install 'mgsd[parquet]'"
    ]
    proc = run(
        [
            plain / "mgsd",
            "eval",
            "planning",
            "--data",
            generated,
            "--out",
            work / "r",
            "--base-url",
            "http://127.0.0.1:9/v1",
        ],
        cwd=work,
        check=False,
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_eval_extra_gives_a_working_eval_and_report(extras, generated, work):
    from mgsd_eval.mock_server import MockServer

    for command in ("eval", "report"):
        assert run([extras / "mgsd", command, "--help"], cwd=work).stdout.startswith(f"usage: mgsd {command}")
    server = MockServer().start_in_thread()
    try:
        run(
            [
                extras / "mgsd",
                "eval",
                "planning",
                "--data",
                generated,
                "--out",
                work / "run",
                "--base-url",
                server.base_url,
                "--limit",
                1,
                "--quiet",
            ],
            cwd=work,
        )
    finally:
        server.stop()
    summary = json.loads((work / "run" / "summary.json").read_text())
    assert summary["cases"] == sum(len(get_task(t).default_levels) for t in TASKS) and summary["errors"] == 0
    run([extras / "mgsd", "report", work / "run", "--out", work / "report"], cwd=work)
    assert (work / "report" / "report.md").is_file() and list((work / "report").glob("*.png"))


def test_parquet_extra_exports_verl(extras, generated, work):
    import pyarrow.parquet as pq

    run([extras / "python", "-m", "pip", "install", "--quiet", f"{work / 'src'}[parquet]"], cwd=work)
    out = work / "train.parquet"
    run([extras / "mgsd", "data", "export", "verl", "--data", generated, "--out", out, "--quiet"], cwd=work)
    assert pq.read_metadata(out).num_rows == PER_LEVEL * sum(len(get_task(t).default_levels) for t in TASKS)
