"""Prompt texts from a folder the user names (PROMPT_DIR or --prompt-dir): used by evaluation and the exports,
checked for their placeholders, recorded by hash; upstream MGSD's file names work as they are."""

import hashlib
import json
import os

import pytest
from evalhelpers import mgsd_inproc

from task_envs.chat import student_user_content, symbolic_messages, teacher_messages
from task_envs.prompts import load_prompt

MINE = "Look at <TEST-IMAGE> and plan the shortest route. End with <answer>...</answer>."


@pytest.fixture(autouse=True)
def no_prompt_dir(monkeypatch):
    monkeypatch.setenv("PROMPT_DIR", "")  # empty = unset; removed afterwards, also when the CLI set it


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_texts_and_placeholders_from_the_folder(tmp_path, monkeypatch):
    from task_envs import get_task

    (tmp_path / "student_maze.txt").write_text(MINE)
    (tmp_path / "opcd_teacher_text_Maze.txt").write_text("You plan from text. (upstream's file name)")
    (tmp_path / "text_student_MiniBehaviour.txt").write_text("State:\n<TEXT-STATE>\nAnswer in tags.")
    package_frozenlake = load_prompt("student", "frozenlake")
    monkeypatch.setenv("PROMPT_DIR", str(tmp_path))
    # the image goes where the text marks it (upstream's <TEST-IMAGE> read as <image>)
    assert student_user_content("maze") == "Look at <image> and plan the shortest route. End with <answer>...</answer>."
    assert load_prompt("student", "frozenlake") == package_frozenlake  # no file for it: the package's
    mb = get_task("minibehaviour")
    room = mb.generate(5, 1)
    content = symbolic_messages("minibehaviour", room)[0]["content"]
    assert content == f"State:\n{mb.symbolic_state(room)}\nAnswer in tags."
    maze = get_task("maze").generate(3, 1)
    assert teacher_messages("maze", maze)[0]["content"] == "You plan from text. (upstream's file name)"


@pytest.mark.parametrize(
    "name, text, problem",
    [
        (
            "student_maze.txt",
            "See <IMAGE-1> then <image>.",
            "student prompt holds <IMAGE-1>: only the case's image is sent",
        ),
        (
            "student_maze.txt",
            "<image> and <TEST-IMAGE>",
            "student prompt holds <image> (or <TEST-IMAGE>) 2 times: one image is sent",
        ),
        ("teacher_maze.txt", "<image> plan", "teacher prompt holds <image>: the teacher prompt goes with no image"),
        (
            "direct_maze.txt",
            "Plan. <TEXT-STATE>",
            "direct prompt holds <TEXT-STATE>: only the symbolic prompt gets the state",
        ),
        ("student_maze.txt", "  \n", "student prompt is empty"),
    ],
)
def test_a_text_its_role_cannot_fill_is_refused_with_one_line(tmp_path, capsys, name, text, problem):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / name).write_text(text)
    data = tmp_path / "data"
    assert (
        mgsd_inproc(
            capsys,
            "data",
            "generate",
            "--split",
            "test",
            "--per-level",
            "1",
            "--tasks",
            "maze",
            "--out",
            data,
            "--quiet",
        )[0]
        == 0
    )
    kind = "symbolic-plan" if name.startswith("teacher") else "plan"
    if name.startswith("direct"):
        rc, _, err = mgsd_inproc(
            capsys,
            "data",
            "export",
            "vlmeval",
            "--data",
            data,
            "--out",
            tmp_path / "x.tsv",
            "--prompt",
            "direct",
            "--prompt-dir",
            tmp_path / "p",
        )
    else:
        rc, _, err = mgsd_inproc(
            capsys,
            "data",
            "export",
            "llamafactory",
            "--data",
            data,
            "--out",
            tmp_path / "x",
            "--kind",
            kind,
            "--prompt-dir",
            tmp_path / "p",
        )
    assert rc == 2 and err.strip() == f"mgsd: error: {tmp_path / 'p' / name}: {problem}", err
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.tsv").exists()


def test_not_a_folder_is_refused(tmp_path, capsys, test_split):
    rc, _, err = mgsd_inproc(
        capsys,
        "eval",
        "planning",
        "--data",
        test_split,
        "--out",
        tmp_path / "run",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--prompt-dir",
        tmp_path / "nope",
    )
    assert rc == 2 and err.strip() == f"mgsd: error: PROMPT_DIR={tmp_path / 'nope'}: not a folder"


def test_exports_and_runs_record_the_texts_by_hash(tmp_path, capsys, mock_server, test_split):
    import pyarrow.parquet as pq

    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "student_maze.txt").write_text(MINE)
    mine = MINE.replace("<TEST-IMAGE>", "<image>")
    out = tmp_path / "sft"
    assert (
        mgsd_inproc(
            capsys,
            "data",
            "export",
            "llamafactory",
            "--data",
            test_split,
            "--out",
            out,
            "--kind",
            "plan",
            "--prompt-dir",
            prompts,
        )[0]
        == 0
    )
    assert json.loads((out / "prompts.json").read_text())["student_maze"] == sha(mine)
    records = (
        json.loads((out / "mgsd_plan.json").read_text())
        if (out / "mgsd_plan.json").exists()
        else json.loads(
            next(p for p in out.glob("*.json") if p.name not in ("dataset_info.json", "prompts.json")).read_text()
        )
    )
    assert {r["messages"][0]["content"] for r in records if r["task"] == "maze"} == {mine}
    parquet = tmp_path / "train.parquet"
    assert (
        mgsd_inproc(
            capsys, "data", "export", "verl", "--data", test_split, "--out", parquet, "--prompt-dir", prompts, "--quiet"
        )[0]
        == 0
    )
    recorded = json.loads(pq.read_schema(parquet).metadata[b"mgsd_prompts"])
    assert recorded["student_maze"] == sha(mine) and recorded["student_frozenlake"] == sha(
        load_prompt("student", "frozenlake")
    )

    server = mock_server()
    run = tmp_path / "run"
    args = [
        "eval",
        "planning",
        "--data",
        test_split,
        "--out",
        run,
        "--base-url",
        server.base_url,
        "--limit",
        "1",
        "--quiet",
        "--tasks",
        "maze",
    ]
    assert mgsd_inproc(capsys, *args, "--prompt-dir", prompts)[0] == 0
    sent = [p["text"] for r in server.requests for p in r["messages"][0]["content"] if p["type"] == "text"]
    assert sent and set(sent) == {"Look at ", " and plan the shortest route. End with <answer>...</answer>."}
    info = json.loads((run / "run.json").read_text())
    assert info["prompt_files"] == {"student_maze": str(prompts / "student_maze.txt")}
    # the same folder without the prompt dir: the texts differ, so the rerun is refused
    os.environ["PROMPT_DIR"] = ""
    rc, _, err = mgsd_inproc(capsys, *args)
    assert rc == 2 and "prompt_sha256 was " in err
