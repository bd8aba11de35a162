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


@pytest.fixture(scope="module")
def plugin(extras, work) -> Path:
    """The extras venv with the example task plugin (examples/task_plugin) and pytest installed beside mgsd."""
    plugin_src = work / "src" / "examples" / "task_plugin"
    run(
        [extras / "python", "-m", "pip", "install", "--quiet", f"{work / 'src'}[parquet]", f"{plugin_src}[test]"],
        cwd=work,
    )
    return extras


def _fixed_route(request: dict) -> str:
    """The mock model answers one route whatever the case; the task's own scoring of it is what the run reports."""
    return "Fetch the key first.\n<answer>up, left, down</answer>"


def test_example_task_plugin_goes_through_every_stage_by_name(plugin, work):
    """README "Add your own task": `pip install` the example package, then every stage takes `keydoor` by name."""
    import pyarrow.parquet as pq

    from mgsd_eval.mock_server import MockServer

    mgsd = [plugin / "mgsd"]
    listing = run([*mgsd, "tasks", "--strict"], cwd=work).stdout.splitlines()
    assert [line.split()[0] for line in listing] == [*TASKS, "keydoor"]
    assert listing[-1].split()[1:3] == ["mgsd-task-keydoor", "0.1.0"]
    # the package's own tests: the conformance kit and its rules
    tests = work / "src" / "examples" / "task_plugin" / "tests"
    assert (
        "10 passed" in run([plugin / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", tests], cwd=work).stdout
    )

    data = work / "keydoor"
    run(
        [
            *mgsd,
            "data",
            "generate",
            "--tasks",
            "keydoor",
            "--per-level",
            3,
            "--split",
            "test",
            "--out",
            data,
            "--quiet",
        ],
        cwd=work,
    )
    assert json.loads((data / "manifest.json").read_text())["counts"] == {"keydoor": {"3": 3, "4": 3, "5": 3}}
    run([*mgsd, "data", "verify", data], cwd=work)
    run([*mgsd, "oracle", "--data", data, "--out", work / "oracle.jsonl", "--quiet"], cwd=work)
    run(
        [*mgsd, "score", "--data", data, "--predictions", work / "oracle.jsonl", "--out", work / "m.json", "--quiet"],
        cwd=work,
    )
    assert json.loads((work / "m.json").read_text())["all_tasks_macro"]["success"] == 1.0

    for kind in ("plan", "perception"):
        out = work / f"lf_{kind}"
        run([*mgsd, "data", "export", "llamafactory", "--data", data, "--kind", kind, "--out", out], cwd=work)
        info = json.loads((out / "dataset_info.json").read_text())
        rows = json.loads((out / next(iter(info.values()))["file_name"]).read_text())
        assert len(rows) == 9 and "key" in json.dumps(rows[0]).lower()
    parquet = work / "keydoor.parquet"
    run([*mgsd, "data", "export", "verl", "--data", data, "--out", parquet, "--quiet"], cwd=work)
    row = pq.read_table(parquet).to_pylist()[0]
    assert row["extra_info"]["task"] == "keydoor" and "Door (locked" in row["extra_info"]["teacher_context"]
    # the OPCD reward and the teacher's messages, in a process that finds the task through its entry point
    check = (
        "import json, sys; from mgsd_opcd.reward import compute_score; from mgsd_opcd.teacher import teacher_messages_for\n"
        "extra = json.loads(sys.argv[1]); answer = '<answer>' + extra['reference_plan'] + '</answer>'\n"
        "print(compute_score('mgsd', answer, extra_info=extra)['score'], teacher_messages_for(extra)[0]['content'][:40])"
    )
    printed = run([plugin / "python", "-c", check, json.dumps(row["extra_info"])], cwd=work).stdout
    assert printed.startswith("1.0 You are the planning teacher for a key-a"), printed

    server = MockServer(reply=_fixed_route).start_in_thread()
    try:
        for pipeline in ("planning", "perception", "modality-gap"):
            out = work / f"run_{pipeline}"
            run(
                [*mgsd, "eval", pipeline, "--data", data, "--out", out, "--base-url", server.base_url, "--quiet"],
                cwd=work,
            )
            summary = json.loads((out / "summary.json").read_text())
            assert summary["cases"] >= 9 and summary["errors"] == 0, summary
    finally:
        server.stop()
    # what the run reports is the task's own scoring of the replies (`mgsd score` on the same texts)
    rows = [json.loads(line) for line in (work / "run_planning" / "results.jsonl").read_text().splitlines()]
    assert {r["task"] for r in rows} == {"keydoor"} and len(rows) == 9
    replies = work / "replies.jsonl"
    replies.write_text("".join(json.dumps({"id": r["case_id"], "response": r["text"]}) + "\n" for r in rows))
    run([*mgsd, "score", "--data", data, "--predictions", replies, "--out", work / "r.json", "--quiet"], cwd=work)
    rescored = json.loads((work / "r.json").read_text())["all_tasks_macro"]
    reported = json.loads((work / "run_planning" / "summary.json").read_text())["metrics"]["all_tasks_macro"]
    assert [reported[k] for k in ("success", "progress", "illegal")] == [
        rescored[k] for k in ("success", "progress", "illegal")
    ]
    assert reported["illegal"] > 0  # the fixed route walks into walls, the door or the edge somewhere
    run([*mgsd, "report", work / "run_planning", "--out", work / "report_keydoor"], cwd=work)
    assert "keydoor" in (work / "report_keydoor" / "report.md").read_text()
    # VLMEvalKit's class for the task (the class logic; VLMEvalKit itself is the vlmeval suite's)
    lmu = work / "LMUData"
    run([*mgsd, "data", "export", "vlmeval", "--data", data, "--out", lmu / "MGSD_All.tsv"], cwd=work)
    check = (
        "import os, sys; os.environ['MGSD_VLMEVAL_DIR'] = sys.argv[1]\n"
        "from mgsd_eval.vlmeval_datasets import MGSDBenchmark\n"
        "bench = MGSDBenchmark('MGSD_KeyDoor'); rows = bench.rows()\n"
        "for r in rows: r['prediction'] = r['answer']\n"
        "print(len(rows), bench.score_predictions(rows)['all_tasks_macro']['success'])"
    )
    assert run([plugin / "python", "-c", check, lmu], cwd=work).stdout.split() == ["9", "1.0"]
