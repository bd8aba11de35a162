"""VLMEvalKit executed (the `vlmeval` environment): evaluate/run_vlmeval.sh against a local OpenAI-compatible mock
that answers by the image it is shown (the same reply for a case whichever client asks), VLMEvalKit's own result
files, and its scores equal to `mgsd eval planning`'s on the same replies."""

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from task_envs import get_task
from task_envs.answers import format_answer
from task_envs.dataset.folder import load_dataset
from tests.test_task_envs.fixtures import CORRIDOR_SOURCE, write_task_distribution

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET = "sk-test-do-not-print-4c0ffee"
MODEL = "mock-model"


def thumb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB").resize((32, 32), Image.BILINEAR), dtype=np.float32)


class ImagePolicy:
    """Answers a chat request by the case whose image it carries (nearest 32x32 thumbnail: VLMEvalKit re-encodes
    the PNG as JPEG, `mgsd eval` sends the PNG), with a fixed policy per case: the optimal plan, its first half,
    no answer tags, or an invalid token, in turn over the cases in id order. Records the case of each request."""

    def __init__(self, data: Path):
        dataset = load_dataset(data)
        self.samples = sorted(dataset.samples, key=lambda s: s["id"])
        self.thumbs = np.stack([thumb(Image.open(dataset.image_path(s))) for s in self.samples])
        self.asked: list[str] = []

    def answer(self, i: int) -> str:
        plan = list(self.samples[i]["optimal_plan"])
        return [
            f"The path is clear.\n{format_answer(plan)}",
            f"Going part of the way.\n{format_answer(plan[: len(plan) // 2])}",
            "I cannot tell from this picture.",
            "<answer>jump twice</answer>",
        ][i % 4]

    def __call__(self, request: dict) -> str:
        parts = [p for m in request["messages"] if isinstance(m.get("content"), list) for p in m["content"]]
        url = next(p["image_url"]["url"] for p in parts if p.get("type") == "image_url")
        image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        distances = np.abs(self.thumbs - thumb(image)).mean(axis=(1, 2, 3))
        i = int(distances.argmin())
        self.asked.append(self.samples[i]["id"])
        return self.answer(i)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("vlmeval") / "test"
    proc = subprocess.run(
        [
            str(BIN / "mgsd"),
            "data",
            "generate",
            "--split",
            "test",
            "--per-level",
            "1",
            "--seed",
            "3",
            "--out",
            str(out),
            "--workers",
            "1",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def server(data):
    from mgsd_eval.mock_server import MockServer

    policy = ImagePolicy(data)
    # every case is told apart from every other by a wide margin (JPEG noise is far below it)
    gaps = np.abs(policy.thumbs[:, None] - policy.thumbs[None]).mean(axis=(2, 3, 4))
    assert (gaps + np.eye(len(gaps)) * 1e9).min() > 2.0
    srv = MockServer(model=MODEL, reply=policy).start_in_thread()
    srv.policy = policy
    yield srv
    srv.stop()


def run_vlmeval(env: dict, timeout=300) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LMUData", "MGSD_VLMEVAL_DIR"))}
    full.update(MGSD_VLMEVAL_PYTHON=sys.executable, **env)
    return subprocess.run(
        ["bash", str(ROOT / "evaluate" / "run_vlmeval.sh")],
        capture_output=True,
        text=True,
        env=full,
        cwd=ROOT,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def vlmeval_run(data, server, tmp_path_factory):
    out = tmp_path_factory.mktemp("vlmeval_out")
    env = dict(
        DATA_DIRS=str(data),
        BASE_URL=server.base_url,
        MODEL=MODEL,
        OUT=str(out),
        API_KEY=SECRET,
        DATASETS="MGSD_All MGSD_Maze",
        CONCURRENCY="4",
    )
    start = len(server.policy.asked)
    proc = run_vlmeval(env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"out": out, "env": env, "proc": proc, "asked": server.policy.asked[start:]}


def read_tsv(path):
    import pandas as pd

    return pd.read_csv(path, sep="\t", keep_default_na=False)


def test_vlmeval_own_result_files(vlmeval_run, data, server):
    out, proc = vlmeval_run["out"], vlmeval_run["proc"]
    run_dir = out / MODEL
    samples = load_dataset(data).samples
    maze = [s["id"] for s in samples if s["task"] == "maze"]
    # VLMEvalKit asked once per case of MGSD_All and once per case of MGSD_Maze
    assert sorted(vlmeval_run["asked"]) == sorted([s["id"] for s in samples] + maze)
    for name, count in (("MGSD_All", len(samples)), ("MGSD_Maze", len(maze))):
        preds = read_tsv(run_dir / f"{MODEL}_{name}.tsv")
        assert len(preds) == count and "image" not in preds.columns
        policy = server.policy
        by_id = {s["id"]: policy.answer(i) for i, s in enumerate(policy.samples)}
        assert [p for p in preds["prediction"]] == [by_id[c].strip() for c in preds["case_id"]]
        assert (
            (run_dir / f"{MODEL}_{name}_acc.csv").read_text().splitlines()[0].startswith("task,level,n,errors,success")
        )
        assert (run_dir / f"{MODEL}_{name}_score.json").is_file()
    status = json.loads((run_dir / "status.json").read_text())
    for name in ("MGSD_All", "MGSD_Maze"):
        entry = status["datasets"][name]
        assert entry["status"] == "done" and not entry.get("error_message"), entry
        assert entry["primary_metric"] == "all_tasks_macro|success"
    assert list((out / "logs").glob("*.log")), "VLMEvalKit's log"
    config = json.loads((out / "vlmeval_config.json").read_text())
    assert config["model"][MODEL]["class"] == "GPT4V"
    assert config["model"][MODEL]["api_base"] == server.base_url + "/chat/completions"
    assert config["data"]["MGSD_Maze"] == {"class": "MGSD_Maze", "dataset": "MGSD_Maze"}
    # the key went to the server, and nowhere else
    assert server.headers[-1].get("authorization") == f"Bearer {SECRET}"
    assert SECRET not in proc.stdout + proc.stderr
    assert "API Key: ***" in proc.stdout
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".tsv", ".csv", ".log", ".txt"):
            assert SECRET not in path.read_text(errors="replace"), path


def test_scores_equal_mgsd_eval_on_the_same_replies(vlmeval_run, data, server, tmp_path):
    start = len(server.policy.asked)
    proc = subprocess.run(
        [
            str(BIN / "mgsd"),
            "eval",
            "planning",
            "--data",
            str(data),
            "--base-url",
            server.base_url,
            "--model",
            MODEL,
            "--out",
            str(tmp_path / "run"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(server.policy.asked[start:]) == sorted(s["id"] for s in load_dataset(data).samples)
    mgsd_summary = json.loads((tmp_path / "run" / "summary.json").read_text())["metrics"]
    run_dir = vlmeval_run["out"] / MODEL
    vlmeval_summary = json.loads((run_dir / f"{MODEL}_MGSD_All_score.json").read_text())
    for key in ("all_tasks_macro", "by_task", "by_task_level", "micro"):
        assert vlmeval_summary[key] == mgsd_summary[key], key
    macro = vlmeval_summary["all_tasks_macro"]
    assert 0 < macro["success"] < 1 and 0 < macro["format"] < 1 and 0 < macro["parse"] < 1  # a mix, not a constant
    # the maze-only dataset: the maze rows of the same scores
    maze = json.loads((run_dir / f"{MODEL}_MGSD_Maze_score.json").read_text())
    assert maze["by_task"] == {"maze": mgsd_summary["by_task"]["maze"]}
    # VLMEvalKit's status.json holds the same headline
    status = json.loads((run_dir / "status.json").read_text())
    assert status["datasets"]["MGSD_All"]["metrics"]["all_tasks_macro|success"] == pytest.approx(macro["success"])


def test_rerun_resumes_and_other_settings_are_refused(vlmeval_run, server):
    env = vlmeval_run["env"]
    before = server.chat_count
    proc = run_vlmeval(env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert server.chat_count == before, "a finished run asks nothing again"
    proc = run_vlmeval({**env, "TEMPERATURE": "0.7"})
    assert proc.returncode == 2
    assert "other settings" in proc.stderr and "temperature: 0.0 -> 0.7" in proc.stderr
    assert server.chat_count == before


def test_dry_run_prints_settings_and_writes_nothing(data, server, tmp_path):
    out = tmp_path / "out"
    proc = run_vlmeval(
        dict(
            DATA_DIRS=str(data),
            BASE_URL=server.base_url,
            MODEL=MODEL,
            OUT=str(out),
            API_KEY=SECRET,
            DRY_RUN="1",
            DATASETS="MGSD_Maze",
        )
    )
    assert proc.returncode == 0, proc.stderr
    settings = json.loads(proc.stdout)
    assert settings["config"]["model"][MODEL]["api_base"] == server.base_url + "/chat/completions"
    assert list(settings["config"]["data"]) == ["MGSD_Maze"]
    assert "API_KEY=set" in proc.stderr and SECRET not in proc.stdout + proc.stderr
    assert not out.exists()


def test_bad_settings_fail_early(data, tmp_path):
    proc = run_vlmeval(
        dict(
            DATA_DIRS=str(tmp_path / "nowhere"),
            BASE_URL="http://127.0.0.1:9/v1",
            MODEL=MODEL,
            OUT=str(tmp_path / "out"),
        )
    )
    assert proc.returncode == 2 and "not a dataset folder" in proc.stderr
    proc = run_vlmeval(
        dict(
            DATA_DIRS=str(data),
            BASE_URL="http://127.0.0.1:9/v1",
            MODEL=MODEL,
            OUT=str(tmp_path / "out"),
            DATASETS="MGSD_Chess",
        )
    )
    assert proc.returncode == 2 and "DATASETS: unknown 'MGSD_Chess'" in proc.stderr


def test_documented_registration(data, tmp_path, monkeypatch):
    """evaluate/README.md: one MGSD_All.tsv export, then VLMEvalKit builds MGSD_Maze by name (from --data or a
    --config entry naming the class) after register(); no VLMEvalKit file is changed."""
    tsv = tmp_path / "MGSD_All.tsv"
    proc = subprocess.run(
        [str(BIN / "mgsd"), "data", "export", "vlmeval", "--data", str(data), "--out", str(tsv)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    monkeypatch.setenv("LMUData", str(tmp_path))
    monkeypatch.delenv("MGSD_VLMEVAL_DIR", raising=False)
    from mgsd_eval.vlmeval_datasets import register, torchvision_stand_in

    torchvision_stand_in()
    import vlmeval.dataset
    import vlmeval.run

    register()
    register()  # idempotent
    assert [c.__name__ for c in vlmeval.dataset.DATASET_CLASSES].count("MGSD_Maze") == 1
    maze = vlmeval.dataset.build_dataset("MGSD_Maze")
    assert set(maze.data["category"]) == {"maze"} and len(maze) == sum(1 for _ in maze.data["index"])
    from_config = vlmeval.run.build_dataset_from_config(
        {"MGSD_All": {"class": "MGSD_All", "dataset": "MGSD_All"}}, "MGSD_All"
    )
    assert len(from_config) == len(load_dataset(data).samples)
    message = maze.build_prompt(maze.data.iloc[0])
    assert message[0]["type"] == "image" and Path(message[0]["value"]).is_file()
    assert message[1]["type"] == "text" and "<image>" not in message[1]["value"]


def test_an_installed_task_is_a_dataset_vlmevalkit_runs_by_its_title(tmp_path):
    """A task package on the path (an `mgsd.tasks` entry point; Maze's rules as `corridor`) goes through
    run_vlmeval.sh as `MGSD_Corridor`: VLMEvalKit's own run asks the server and scores with the task's rules."""
    from mgsd_eval.mock_server import MockServer

    site = tmp_path / "site"
    site.mkdir()
    write_task_distribution(
        site, "corridor-task", "corridor_task", CORRIDOR_SOURCE, {"corridor": "corridor_task:Corridor"}
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    data = tmp_path / "corridor"
    generate = [str(BIN / "mgsd"), "data", "generate", "--tasks", "corridor", "--levels", "3", "--per-level", "3"]
    generate += ["--split", "test", "--out", str(data), "--workers", "1", "--quiet"]
    proc = subprocess.run(generate, capture_output=True, text=True, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    server = MockServer(model=MODEL).start_in_thread()  # answers "right" to every case
    try:
        out = tmp_path / "out"
        settings = dict(DATA_DIRS=str(data), BASE_URL=server.base_url, MODEL=MODEL, OUT=str(out))
        proc = run_vlmeval(dict(settings, DATASETS="MGSD_Corridor", PYTHONPATH=str(site)))
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads(next(out.rglob("*MGSD_Corridor*_score.json")).read_text())
    assert set(summary["by_task"]) == {"corridor"} and summary["micro"]["n"] == 3
    maze = get_task("maze")  # corridor's rules, here without the package
    solved = [
        maze.score(maze.from_record({**s, "task": "maze"}), "<answer>right</answer>")["success"]
        for s in load_dataset(data).samples
    ]
    assert summary["micro"]["success"] == pytest.approx(sum(solved) / len(solved))
    # without the package on the path the dataset does not exist, and the launcher says which do
    proc = run_vlmeval(dict(settings, DATASETS="MGSD_Corridor", OUT=str(tmp_path / "none")))
    assert proc.returncode == 2 and "DATASETS: unknown 'MGSD_Corridor'" in proc.stderr
