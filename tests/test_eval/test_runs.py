"""Resumable runs through `mgsd eval`: one row per case, errored cases retried, kill -9 survived,
the API key never written anywhere; the commands registered by the evaluation package (layering)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from evalhelpers import ROOT, mgsd

from task_envs.dataset.folder import load_dataset


def rows_of(run: Path) -> list[dict]:
    return [json.loads(l) for l in (run / "results.jsonl").read_text().splitlines()]


def test_errored_cases_are_retried_on_rerun(mock_server, test_split, tmp_path):
    n = len(load_dataset(test_split).samples)
    server = mock_server(faults=["400"] * 3)
    run = tmp_path / "run"
    args = [
        "eval",
        "planning",
        "--data",
        str(test_split),
        "--out",
        str(run),
        "--base-url",
        server.base_url,
        "--concurrency",
        "1",
        "--retries",
        "0",
        "--quiet",
    ]
    first = mgsd(*args)
    assert first.returncode == 1  # cases ended in errors
    assert sum(1 for r in rows_of(run) if r["error"]) == 3
    second = mgsd(*args)
    assert second.returncode == 0, second.stderr
    rows = rows_of(run)
    assert len(rows) == n and len({r["key"] for r in rows}) == n and not any(r["error"] for r in rows)
    assert server.chat_count == n + 3
    for row in rows:
        assert {
            "key",
            "case_id",
            "model",
            "endpoint",
            "variant",
            "text",
            "actions",
            "scores",
            "latency_s",
            "error",
        } <= set(row)
        assert row["model"] == "mock-model" and row["variant"] == "student" and row["actions"] == ["right"]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["cases"] == n and summary["errors"] == 0
    # a third run has nothing left to ask
    assert mgsd(*args).returncode == 0 and server.chat_count == n + 3


def test_kill_9_mid_run_loses_and_duplicates_nothing(mock_server, test_split, tmp_path):
    n = len(load_dataset(test_split).samples)
    server = mock_server(delay_s=0.15)
    run = tmp_path / "run"
    cmd = [
        str(Path(sys.executable).parent / "mgsd"),
        "eval",
        "planning",
        "--data",
        str(test_split),
        "--out",
        str(run),
        "--base-url",
        server.base_url,
        "--concurrency",
        "2",
        "--quiet",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = run / "results.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline and (not results.is_file() or len(results.read_text().splitlines()) < 5):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    written = len(results.read_text().splitlines())
    assert 5 <= written < n
    with results.open("a") as f:
        f.write('{"key": "torn')  # what a writer killed mid-line leaves
    asked_before = server.chat_count
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = rows_of(run)
    assert sorted(r["key"] for r in rows) == sorted(s["id"] for s in load_dataset(test_split).samples)
    assert (
        server.chat_count - asked_before <= n - written + 2
    )  # only unfinished cases (plus in-flight ones) asked again


def test_the_key_never_appears(mock_server, test_split, tmp_path):
    secret = "sk-test-0123456789abcdef"
    server = mock_server(faults=["400"] * 100)
    server.reply = lambda request: "x"
    original = server._route

    async def echoing(method, path, headers, body):  # a server that echoes the Authorization header in errors
        status, payload = await original(method, path, headers, body)
        if status == 400:
            payload = {"error": {"message": f"bad request with {headers.get('authorization')}"}}
        return status, payload

    server._route = echoing
    config = tmp_path / "api.json"
    config.write_text(json.dumps({"base_url": server.base_url, "api_key": "", "model": "m"}))
    run = tmp_path / "run"
    proc = mgsd(
        "eval",
        "planning",
        "--data",
        str(test_split),
        "--out",
        str(run),
        "--api-config",
        str(config),
        "--limit",
        "1",
        "--retries",
        "0",
        env={"OPENAI_API_KEY": secret},
    )
    assert proc.returncode == 1
    assert server.headers[0]["authorization"] == f"Bearer {secret}"  # the key was used...
    texts = [proc.stdout, proc.stderr] + [p.read_text() for p in run.iterdir() if p.is_file()]
    assert not any(secret in t for t in texts)  # ...and written nowhere
    assert "***" in (run / "results.jsonl").read_text()


def test_other_settings_in_the_same_folder_are_refused(mock_server, test_split, tmp_path):
    server = mock_server()
    run = tmp_path / "run"
    base = [
        "eval",
        "planning",
        "--data",
        str(test_split),
        "--out",
        str(run),
        "--base-url",
        server.base_url,
        "--limit",
        "1",
        "--quiet",
    ]
    assert mgsd(*base).returncode == 0
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    proc = mgsd(*base, "--prompt", "direct")
    assert proc.returncode == 2
    assert proc.stderr == f"mgsd: error: {run}/run.json: prompt was student, now direct (use a new --out or --force)\n"
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # nothing written


def test_bad_endpoint_arguments(test_split, tmp_path):
    proc = mgsd(
        "eval", "planning", "--data", str(test_split), "--out", str(tmp_path / "r"), env={"OPENAI_BASE_URL": ""}
    )
    assert proc.returncode == 2 and "no endpoint" in proc.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    proc = mgsd("eval", "planning", "--data", str(test_split), "--out", str(tmp_path / "r"), "--api-config", str(bad))
    assert proc.returncode == 2 and proc.stderr.strip() == f"mgsd: error: {bad}: not valid JSON (line 1)"


def test_committed_api_templates_hold_no_key():
    templates = sorted((ROOT / "api_config_files").glob("*.json"))
    assert templates
    for path in templates:
        config = json.loads(path.read_text())
        assert config["api_key"] in ("", [""]) and config["base_url"]


def test_run_ckpt_eval_script(mock_server, test_split, tmp_path):
    server = mock_server()
    env = {
        **os.environ,
        "BASE_URLS": server.base_url,
        "DATA_DIRS": str(test_split),
        "OUT_DIR": str(tmp_path / "runs"),
        "LABEL": "mock",
        "LIMIT": "1",
        "CONCURRENCY": "4",
        "MGSD_EVAL_PYTHON": sys.executable,
    }
    proc = subprocess.run(
        ["bash", str(ROOT / "evaluate" / "run_ckpt_eval.sh")], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    for pipeline in ("planning", "perception", "modality-gap"):
        assert (tmp_path / "runs" / pipeline / "summary.json").is_file()
    assert (tmp_path / "runs" / "report" / "modality_gap.png").is_file()


def test_api_config_options_reach_the_request(mock_server, test_split, tmp_path):
    server = mock_server()
    config = tmp_path / "api.json"
    config.write_text(
        json.dumps(
            {
                "base_url": server.base_url,
                "api_key": "",
                "model": "m",
                "options": {"max_completion_tokens": 77, "top_p": 0.5},
            }
        )
    )
    proc = mgsd(
        "eval",
        "planning",
        "--data",
        str(test_split),
        "--out",
        str(tmp_path / "a"),
        "--api-config",
        str(config),
        "--limit",
        "1",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    body = server.requests[0]
    assert body["max_completion_tokens"] == 77 and body["top_p"] == 0.5 and "max_tokens" not in body
    assert body["model"] == "m" and body["temperature"] == 0.0
    proc = mgsd(
        "eval",
        "planning",
        "--data",
        str(test_split),
        "--out",
        str(tmp_path / "b"),
        "--api-config",
        str(config),
        "--limit",
        "1",
        "--quiet",
        "--max-tokens",
        "9",
    )
    assert (
        proc.returncode == 0
        and server.requests[-1]["max_tokens"] == 9
        and "max_completion_tokens" not in server.requests[-1]
    )


EVAL_EXTRA = (
    "mgsd: error: the evaluation commands need the eval extra: pip install 'mgsd[eval]' "
    "(or bash requirements/setup_env.sh eval)\n"
)


def test_task_envs_imports_no_upper_layer():
    """`mgsd eval`/`mgsd report` come from mgsd_eval through the `mgsd.cli` entry point, not from task_envs."""
    import ast

    for path in sorted((ROOT / "task_envs").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] in ("mgsd_eval", "mgsd_sft", "mgsd_opcd") for n in names), path
        assert "import_module(" not in path.read_text(), path


def test_eval_and_report_help_come_from_the_evaluation_package():
    for command in ("eval", "report"):
        proc = mgsd(command, "--help")
        assert proc.returncode == 0 and proc.stdout.startswith(f"usage: mgsd {command}"), proc.stderr
    proc = mgsd("eval", "planning", "--help")
    assert all(flag in proc.stdout for flag in ("--tasks", "--levels", "--force", "--extra-body"))


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("argv", [["eval", "planning", "--data", "d", "--out", "o"], ["report", "r"]])
def test_without_the_eval_dependencies_the_commands_name_the_extra(argv):
    """mgsd_eval installed, openai/matplotlib not (a plain `pip install mgsd`)."""
    proc = _python(
        "import sys; sys.modules['openai'] = sys.modules['matplotlib'] = None\n"
        f"from task_envs.cli import main; sys.exit(main({argv!r}))"
    )
    assert (proc.returncode, proc.stderr) == (2, EVAL_EXTRA)


@pytest.mark.parametrize("argv", [["eval", "--help"], ["eval", "planning", "--data", "d"], ["report", "--help"]])
def test_without_the_evaluation_package_the_commands_name_the_extra(argv):
    """No `mgsd.cli` provider at all: stand-ins that take any arguments and print the one line."""
    proc = _python(
        "import sys, importlib.metadata as m; m.entry_points = lambda **kw: []\n"
        f"from task_envs.cli import main; sys.exit(main({argv!r}))"
    )
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, EVAL_EXTRA, "")
