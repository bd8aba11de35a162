"""What the evaluation scripts evaluate on, and against which endpoints, when nothing is set: the imported public
benchmarks (evaluate/fetch_benchmarks.sh, fed with local copies in the benchmarks' own formats: nothing is fetched),
else the test split, said on stderr; the replicas listed by evaluate/serve_vllm.sh's URLs file (several faked by mock
servers), which run_api_eval.sh ignores."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from evalhelpers import ROOT

sys.path.insert(0, str(ROOT / "tests" / "test_task_envs"))
from fixtures import write_visualplanning, write_vsp  # noqa: E402  (the importers' fixture writers)

BENCHMARKS = ("vsp_frozenlake", "visualplanning_maze", "visualplanning_minibehaviour")


def run(script: str, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("BASE_URLS", "DATA_DIRS", "MODELS", "OPENAI_BASE_URL")}
    full.update({"MGSD_EVAL_PYTHON": sys.executable, **env})
    return subprocess.run(
        ["bash", str(ROOT / "evaluate" / script)], env=full, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


@pytest.fixture(scope="module")
def bench_root(tmp_path_factory):
    """fetch_benchmarks.sh over local copies (VSP_SRC, VP_SRC), with a git that fails: nothing may be fetched."""
    tmp = tmp_path_factory.mktemp("bench")
    write_vsp(tmp / "vsp" / "maps", levels=(3, 4), per_level=2)
    for task, levels in (("maze", (3, 4)), ("minibehaviour", (5,))):
        write_visualplanning(
            tmp / "vp" / "dataset" / task / "tokenized_dataset" / "SFT" / "test_dataset.jsonl",
            task,
            levels,
            per_level=2,
        )
    bindir = tmp / "bin"
    bindir.mkdir()
    (bindir / "git").write_text("#!/bin/sh\necho 'git must not run in this test' >&2\nexit 97\n")
    (bindir / "git").chmod(0o755)
    env = {
        "BENCH_ROOT": str(tmp / "benchmarks"),
        "VSP_SRC": str(tmp / "vsp" / "maps"),
        "VP_SRC": str(tmp / "vp" / "dataset"),
        "PATH": f"{bindir}:{os.environ['PATH']}",
    }
    proc = run("fetch_benchmarks.sh", env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "fetch:" not in proc.stderr  # local copies: no clone
    again = run("fetch_benchmarks.sh", env)  # a rerun keeps what was imported
    assert again.returncode == 0 and again.stderr.count("exists; kept") == 3, again.stderr[-2000:]
    return tmp / "benchmarks"


def test_fetch_benchmarks_imports_the_three_folders(bench_root):
    for name, cases in (("vsp_frozenlake", 4), ("visualplanning_maze", 4), ("visualplanning_minibehaviour", 2)):
        manifest = json.loads((bench_root / name / "manifest.json").read_text())
        rows = [json.loads(l) for l in (bench_root / name / "samples.jsonl").read_text().splitlines()]
        assert len(rows) == cases and {r["split"] for r in rows} == {"test"}, (name, manifest)
    assert not (bench_root / "visualplanning_frozenlake").exists()  # optional, absent from the sources here
    assert not (bench_root / "src").exists()


def test_fetch_benchmarks_names_a_wrong_source(tmp_path):
    proc = run(
        "fetch_benchmarks.sh", {"BENCH_ROOT": str(tmp_path / "b"), "VSP_SRC": str(tmp_path), "VP_SRC": str(tmp_path)}
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().splitlines()[-1]
        == f"error: {tmp_path} holds no level3/ folder (VSP_SRC is the maps root: level3 ... level8)"
    )


@pytest.fixture
def replicas(mock_server, tmp_path):
    """Two mock replicas listed in a URLs file as serve_vllm.sh writes it."""
    servers = [mock_server(model="served-ckpt"), mock_server(model="served-ckpt")]
    urls_file = tmp_path / "logs" / "base_urls.txt"
    urls_file.parent.mkdir()
    urls_file.write_text("".join(s.base_url + "\n" for s in servers))
    return servers, urls_file


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(l) for l in (run_dir / "results.jsonl").read_text().splitlines()]


def test_run_ckpt_eval_defaults_to_the_benchmarks_and_every_listed_replica(bench_root, replicas, tmp_path):
    servers, urls_file = replicas
    proc = run(
        "run_ckpt_eval.sh",
        {
            "BENCH_ROOT": str(bench_root),
            "BASE_URLS_FILE": str(urls_file),
            "PIPELINES": "planning",
            "OUT_DIR": str(tmp_path / "runs"),
            "CONCURRENCY": "4",
            "LABEL": "ckpt",
        },
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    dirs = " ".join(str(bench_root / b) for b in BENCHMARKS)
    assert f"data: the imported public benchmarks: {dirs} (DATA_DIRS overrides)" in proc.stderr
    urls = " ".join(s.base_url for s in servers)
    assert f"endpoints: {urls} (from {urls_file}, written by serve_vllm.sh; BASE_URLS overrides)" in proc.stderr
    rows = _rows(tmp_path / "runs" / "planning")
    assert {r["dataset"] for r in rows} == {str(bench_root / b) for b in BENCHMARKS} and len(rows) == 10
    assert {r["endpoint"] for r in rows} == {s.base_url for s in servers}  # both replicas got requests
    assert all(s.chat_count > 0 for s in servers)


def test_a_missing_benchmark_is_named_and_the_others_are_used(bench_root, replicas, tmp_path):
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "visualplanning_maze").symlink_to(bench_root / "visualplanning_maze")
    _, urls_file = replicas
    proc = run(
        "run_ckpt_eval.sh",
        {
            "BENCH_ROOT": str(partial),
            "BASE_URLS_FILE": str(urls_file),
            "PIPELINES": "planning",
            "OUT_DIR": str(tmp_path / "runs"),
            "LIMIT": "1",
        },
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (
        f"data: the imported public benchmarks: {partial}/visualplanning_maze (not imported: vsp_frozenlake "
        "visualplanning_minibehaviour) (DATA_DIRS overrides)"
    ) in proc.stderr


def test_without_benchmarks_the_test_split_is_used_and_said(test_split, replicas, tmp_path):
    _, urls_file = replicas
    proc = run(
        "run_ckpt_eval.sh",
        {
            "BENCH_ROOT": str(tmp_path / "none"),
            "TEST_SPLIT": str(test_split),
            "BASE_URLS_FILE": str(urls_file),
            "PIPELINES": "planning",
            "OUT_DIR": str(tmp_path / "runs"),
            "LIMIT": "1",
        },
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (
        f"data: no imported benchmarks in {tmp_path / 'none'}/ (bash evaluate/fetch_benchmarks.sh imports them); "
        f"the test split {test_split} (DATA_DIRS overrides)"
    ) in proc.stderr
    assert {r["dataset"] for r in _rows(tmp_path / "runs" / "planning")} == {str(test_split)}


def test_base_urls_wins_over_the_file_and_no_file_means_port_8000(test_split, replicas, mock_server, tmp_path):
    _, urls_file = replicas
    other = mock_server(model="served-ckpt")
    proc = run(
        "run_ckpt_eval.sh",
        {
            "DATA_DIRS": str(test_split),
            "BASE_URLS": other.base_url,
            "BASE_URLS_FILE": str(urls_file),
            "PIPELINES": "planning",
            "OUT_DIR": str(tmp_path / "a"),
            "LIMIT": "1",
        },
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"data: DATA_DIRS={test_split}" in proc.stderr and f"endpoints: BASE_URLS={other.base_url}" in proc.stderr
    assert {r["endpoint"] for r in _rows(tmp_path / "a" / "planning")} == {other.base_url}
    proc = run(
        "run_ckpt_eval.sh",
        {
            "DATA_DIRS": str(test_split),
            "BASE_URLS_FILE": str(tmp_path / "absent.txt"),
            "PIPELINES": "planning",
            "OUT_DIR": str(tmp_path / "b"),
            "LIMIT": "1",
            "EVAL_ARGS": "--retries 0",
        },
    )
    assert (
        f"endpoints: http://127.0.0.1:8000/v1 (no {tmp_path / 'absent.txt'} from serve_vllm.sh; BASE_URLS overrides)"
        in proc.stderr
    )


def test_run_modality_gap_defaults_to_the_listed_replicas(test_split, replicas, tmp_path):
    servers, urls_file = replicas
    proc = run(
        "run_modality_gap.sh",
        {
            "DATA_DIRS": str(test_split),
            "BASE_URLS_FILE": str(urls_file),
            "OUT_DIR": str(tmp_path / "gap"),
            "LIMIT": "1",
            "CONCURRENCY": "4",
        },
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"MODELS=model={servers[0].base_url},{servers[1].base_url}" in proc.stderr
    assert {r["endpoint"] for r in _rows(tmp_path / "gap" / "model")} == {s.base_url for s in servers}


def test_run_api_eval_uses_the_benchmarks_but_not_the_vllm_urls_file(bench_root, replicas, mock_server, tmp_path):
    _, urls_file = replicas
    api = mock_server(model="gpt-test")
    config = tmp_path / "api.json"
    config.write_text(json.dumps({"base_url": api.base_url, "api_key": "", "model": "gpt-test", "options": {}}))
    proc = run(
        "run_api_eval.sh",
        {
            "BENCH_ROOT": str(bench_root),
            "BASE_URLS_FILE": str(urls_file),
            "API_CONFIG": str(config),
            "MODELS": "gpt-test",
            "OUT_DIR": str(tmp_path / "api"),
            "LIMIT": "1",
        },
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "data: the imported public benchmarks" in proc.stderr and "endpoints:" not in proc.stderr
    rows = _rows(tmp_path / "api" / "gpt-test")
    assert {r["endpoint"] for r in rows} == {api.base_url} and {r["dataset"] for r in rows} == {
        str(bench_root / b) for b in BENCHMARKS
    }
