"""The run fingerprint (RUN_DIR/run.json): what it records, and a rerun that differs in any field refused with one
line naming the field and both values, before anything is written; --force starts over."""

import hashlib
import importlib.metadata
import json
import shutil

import pytest
from evalhelpers import mgsd, mgsd_inproc

from task_envs import TASKS
from task_envs.prompts import load_prompt


def eval_args(server, data, run, *extra):
    return [
        "eval",
        "planning",
        "--data",
        data,
        "--out",
        run,
        "--base-url",
        server.base_url,
        "--limit",
        "1",
        "--quiet",
        *extra,
    ]


def snapshot(run):
    return {p.name: p.read_bytes() for p in run.iterdir()}


def refused(capsys, server, run, args, line):
    """Run ``args`` and check the one-line refusal ``line``: exit 2, nothing asked, nothing written."""
    before, asked = snapshot(run), server.chat_count
    rc, out, err = mgsd_inproc(capsys, *args)
    assert (rc, out, err) == (2, "", f"mgsd: error: {run}/run.json: {line} (use a new --out or --force)\n")
    assert snapshot(run) == before and server.chat_count == asked


def test_run_json_records_the_fingerprint_and_rows_keep_usage(mock_server, test_split, tmp_path, capsys):
    from mgsd_eval.fingerprint import prompt_sha256

    server = mock_server(model="served-x")
    run = tmp_path / "run"
    rc, _, err = mgsd_inproc(
        capsys, *eval_args(server, test_split, run, "--model", "m", "--seed", "3", "--extra-body", '{"top_k": 5}')
    )
    assert rc == 0 and err == ""
    info = json.loads((run / "run.json").read_text())
    # the named model is sent; what the (single-model) server reports is recorded beside it
    assert (info["model"], info["served_model"], info["model_guessed"]) == ("m", "served-x", False)
    assert info["options"] == {
        "temperature": 0.0,
        "top_p": None,
        "seed": 3,
        "max_tokens": 4096,
        "max_completion_tokens": None,
        "stop": None,
        "extra_body": {"top_k": 5},
    }
    assert info["manifests"] == {
        str(test_split): hashlib.sha256((test_split / "manifest.json").read_bytes()).hexdigest()
    }
    assert info["mgsd_version"] == importlib.metadata.version("mgsd")
    texts = {f"student_{t}": load_prompt("student", t) for t in TASKS}
    assert info["prompt"] == "student" and info["prompts"] == sorted(texts)
    assert info["prompt_sha256"] == prompt_sha256(texts)
    assert info["tasks"] is None and info["levels"] is None and info["limit"] == 1 and info["scoring"] == "strict"
    body = server.requests[0]
    assert (body["model"], body["seed"], body["top_k"]) == ("m", 3, 5)
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert rows and all(r["finish_reason"] == "stop" and r["truncated"] is False for r in rows)
    assert all(r["prompt_tokens"] > 20 and r["completion_tokens"] == 5 for r in rows)  # the mock counts words


def test_truncated_replies_are_kept_and_marked(mock_server, test_split, tmp_path, capsys):
    server = mock_server(faults=["length", "length-empty"])
    run = tmp_path / "run"
    rc, _, _ = mgsd_inproc(capsys, *eval_args(server, test_split, run, "--concurrency", "1", "--retries", "0"))
    assert rc == 0  # a reply cut at the token limit is an answer (scored), not an error
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert server.chat_count == len(rows)  # the empty cut reply was not retried
    assert [r["truncated"] for r in rows[:2]] == [True, True] and not any(r["truncated"] for r in rows[2:])
    assert rows[1]["text"] == "" and rows[1]["finish_reason"] == "length" and rows[1]["scores"]["format"] == 0
    assert rows[1]["completion_tokens"] == 0 and rows[1]["error"] is None


REFUSALS = [  # (first run's extra flags, the rerun's, the refusal)
    ([], ["--temperature", "0.7"], "temperature was 0.0, now 0.7"),
    ([], ["--top-p", "0.5"], "top_p was unset, now 0.5"),
    ([], ["--max-tokens", "64"], "max_tokens was 4096, now 64"),
    (
        ["--max-tokens", "64"],
        ["--max-tokens", "64", "--token-field", "max_completion_tokens"],
        "max_tokens was 64, now unset",
    ),
    (["--seed", "1"], ["--seed", "2"], "seed was 1, now 2"),
    ([], ["--extra-body", '{"top_k": 5}'], 'extra_body was unset, now {"top_k":5}'),
    (["--model", "a"], ["--model", "b"], "model was a, now b"),
    ([], ["--prompt", "direct"], "prompt was student, now direct"),
    ([], ["--lenient"], "scoring was strict, now lenient"),
    (["--lenient"], ["--scoring", "upstream"], "scoring was lenient, now upstream"),
    ([], ["--tasks", "maze"], 'tasks was unset, now ["maze"]'),
    ([], ["--levels", "maze=3"], 'levels was unset, now {"maze":[3]}'),
    (
        ["--tasks", "frozenlake,maze", "--levels", "3-4"],
        ["--tasks", "frozenlake,maze", "--levels", "3"],
        'levels was {"frozenlake":[3,4],"maze":[3,4]}, now {"frozenlake":[3],"maze":[3]}',
    ),
]


@pytest.mark.parametrize(
    "first, second, line", REFUSALS, ids=[r[2].split()[0] + str(i) for i, r in enumerate(REFUSALS)]
)
def test_a_rerun_with_another_setting_is_refused(mock_server, test_split, tmp_path, capsys, first, second, line):
    server = mock_server()
    run = tmp_path / "run"
    assert mgsd_inproc(capsys, *eval_args(server, test_split, run, *first))[0] == 0
    refused(capsys, server, run, eval_args(server, test_split, run, *second), line)


def test_a_stop_option_from_the_api_config_is_part_of_the_fingerprint(mock_server, test_split, tmp_path, capsys):
    server = mock_server()
    run, config = tmp_path / "run", tmp_path / "api.json"
    args = eval_args(server, test_split, run, "--api-config", config)
    config.write_text(json.dumps({"base_url": server.base_url, "api_key": "", "options": {"stop": ["###"]}}))
    assert mgsd_inproc(capsys, *args)[0] == 0 and server.requests[0]["stop"] == ["###"]
    config.write_text(json.dumps({"base_url": server.base_url, "api_key": "", "options": {"stop": ["@@@"]}}))
    refused(capsys, server, run, args, 'stop was ["###"], now ["@@@"]')


def test_another_model_behind_the_same_server_is_refused(mock_server, test_split, tmp_path):
    """The model is asked from GET /models on every run: a server that now serves another model is refused."""
    server = mock_server(model="model-one")
    run = tmp_path / "run"
    args = eval_args(server, test_split, run)
    first = mgsd(*args)
    assert first.returncode == 0, first.stderr
    assert json.loads((run / "run.json").read_text())["model"] == "model-one"
    server.model = "model-two"
    before, asked = snapshot(run), server.chat_count
    proc = mgsd(*args)
    assert proc.returncode == 2
    assert (
        proc.stderr == f"mgsd: error: {run}/run.json: model was model-one, now model-two (use a new --out or --force)\n"
    )
    assert snapshot(run) == before and server.chat_count == asked


def test_a_named_model_whose_server_now_reports_another_is_refused(mock_server, test_split, tmp_path, capsys):
    server = mock_server(model="ckpt-a")
    run = tmp_path / "run"
    args = eval_args(server, test_split, run, "--model", "served")
    assert mgsd_inproc(capsys, *args)[0] == 0
    server.model = "ckpt-b"
    refused(capsys, server, run, args, "served_model was ckpt-a, now ckpt-b")


def test_another_prompt_text_is_refused(mock_server, test_split, tmp_path, capsys, monkeypatch):
    import mgsd_eval.pipelines as pipelines

    server = mock_server()
    run = tmp_path / "run"
    assert mgsd_inproc(capsys, *eval_args(server, test_split, run, "--model", "m"))[0] == 0
    old = json.loads((run / "run.json").read_text())["prompt_sha256"]
    monkeypatch.setattr(pipelines, "load_prompt", lambda role, task: load_prompt(role, task) + " Be brief.")
    from mgsd_eval.fingerprint import prompt_sha256

    new = prompt_sha256(pipelines.prompt_texts("planning", "student", TASKS))
    assert new != old
    refused(
        capsys, server, run, eval_args(server, test_split, run, "--model", "m"), f"prompt_sha256 was {old}, now {new}"
    )


def test_another_dataset_manifest_is_refused(mock_server, test_split, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(test_split, data)
    server = mock_server()
    run = tmp_path / "run"
    args = eval_args(server, data, run, "--model", "m")
    assert mgsd_inproc(capsys, *args)[0] == 0
    manifest = data / "manifest.json"
    old = hashlib.sha256(manifest.read_bytes()).hexdigest()
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "note": "rebuilt"}, indent=1) + "\n")
    new = hashlib.sha256(manifest.read_bytes()).hexdigest()
    refused(capsys, server, run, args, f"{data}/manifest.json sha256 was {old}, now {new}")


def test_another_project_version_is_refused(mock_server, test_split, tmp_path, capsys, monkeypatch):
    import mgsd_eval.fingerprint as fingerprint

    server = mock_server()
    run = tmp_path / "run"
    args = eval_args(server, test_split, run, "--model", "m")
    monkeypatch.setattr(fingerprint, "project_version", lambda: "0.0.1")
    assert mgsd_inproc(capsys, *args)[0] == 0
    monkeypatch.undo()
    refused(capsys, server, run, args, f"mgsd_version was 0.0.1, now {importlib.metadata.version('mgsd')}")


def test_force_starts_over_and_a_matching_rerun_resumes(mock_server, test_split, tmp_path, capsys):
    server = mock_server()
    run = tmp_path / "run"
    args = eval_args(server, test_split, run, "--model", "m")
    assert mgsd_inproc(capsys, *args)[0] == 0
    n = server.chat_count
    assert mgsd_inproc(capsys, *args, "--force")[0] == 0 and server.chat_count == n  # same settings: resumed
    assert mgsd_inproc(capsys, *args, "--temperature", "0.7", "--force")[0] == 0
    assert server.chat_count == 2 * n  # another setting: every case asked again
    assert json.loads((run / "run.json").read_text())["options"]["temperature"] == 0.7
    rows = (run / "results.jsonl").read_text().splitlines()
    assert len(rows) == n and server.requests[-1]["temperature"] == 0.7
    # results without a run.json (another tool's, or a run of an older mgsd) are not resumed either
    (run / "run.json").unlink()
    rc, _, err = mgsd_inproc(capsys, *args)
    assert (
        rc == 2
        and err == f"mgsd: error: {run}/results.jsonl: results without a run.json (use a new --out or --force)\n"
    )
    (run / "run.json").write_text("{")
    rc, _, err = mgsd_inproc(capsys, *args)
    assert rc == 2 and err == f"mgsd: error: {run}/run.json: not valid JSON (use a new --out or --force)\n"
    assert mgsd_inproc(capsys, *args, "--force")[0] == 0 and server.chat_count == 3 * n


def test_a_guessed_model_name_is_warned_about(mock_server, test_split, tmp_path, capsys):
    one = mock_server()
    rc, _, err = mgsd_inproc(capsys, *eval_args(one, test_split, tmp_path / "a"))
    assert rc == 0 and err == (
        "mgsd: warning: no --model given; using 'mock-model', the only model listed by "
        "GET /models; name it with --model\n"
    )
    several = mock_server(models=["big", "small"])
    rc, _, err = mgsd_inproc(capsys, *eval_args(several, test_split, tmp_path / "b"))
    assert rc == 0 and err == (
        "mgsd: warning: no --model given; using 'big', the first of 2 (big, small) listed by "
        "GET /models; name it with --model\n"
    )
    assert json.loads((tmp_path / "b" / "run.json").read_text())["model_guessed"] is True
    rc, _, err = mgsd_inproc(capsys, *eval_args(several, test_split, tmp_path / "c", "--model", "small"))
    assert rc == 0 and err == ""
    rc, _, err = mgsd_inproc(capsys, *eval_args(several, test_split, tmp_path / "d", "--model", "tiny"))
    assert rc == 0 and err == "mgsd: warning: --model 'tiny' is not among the 2 models GET /models lists (big, small)\n"
    assert json.loads((tmp_path / "d" / "run.json").read_text())["served_model"] is None
