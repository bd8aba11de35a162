"""Runs show the upstream reading beside their own, from the same replies: rows, summary, printed table, report."""

import json

from evalhelpers import mgsd_inproc

from task_envs import get_task
from task_envs.dataset.folder import instance_of, load_dataset

REPLY = (
    "Right first, then down.\n<answer>right then down</answer>"  # "then": strict rejects the block, upstream plays it
)


def _run(capsys, server, data, out, *extra):
    rc, stdout, _ = mgsd_inproc(
        capsys,
        "eval",
        "planning",
        "--data",
        str(data),
        "--out",
        str(out),
        "--base-url",
        server.base_url,
        "--quiet",
        *extra,
    )
    assert rc == 0
    return (
        stdout,
        [json.loads(l) for l in (out / "results.jsonl").read_text().splitlines()],
        json.loads((out / "summary.json").read_text()),
    )


def test_upstream_reading_beside_the_strict_one(mock_server, test_split, tmp_path, capsys):
    server = mock_server(reply=lambda request: REPLY)
    samples = {s["id"]: s for s in load_dataset(test_split).samples}
    stdout, rows, summary = _run(capsys, server, test_split, tmp_path / "strict")
    by_task = {}
    for row in rows:
        expected = get_task(row["task"]).score(instance_of(samples[row["case_id"]], "test"), REPLY, scoring="upstream")
        assert row["scores"]["parse"] == 0 and row["scores"]["success"] == 0
        assert row["scores"]["upstream_success"] == expected["success"]
        assert row["scores"]["upstream_optimal"] == expected["optimal"]
        by_task.setdefault(row["task"], []).append(expected["success"])
    pooled = sum(sum(v) / len(v) for v in by_task.values()) / len(by_task)
    assert 0 < pooled < 1  # the replies succeed on some cases only: the check below can tell the averages apart
    assert summary["metrics"]["pooled_macro"]["upstream_success"] == pooled
    assert summary["metrics"]["all_tasks_macro"]["success"] == 0
    assert f"compares with the paper): success {pooled:.3f}" in stdout

    # --scoring upstream: the run's own scores are the upstream reading; a new folder, no other difference
    _, rows_up, summary_up = _run(capsys, server, test_split, tmp_path / "upstream", "--scoring", "upstream")
    assert all(r["scores"]["success"] == r["scores"]["upstream_success"] for r in rows_up)
    assert summary_up["metrics"]["pooled_macro"]["success"] == pooled

    rc, report, _ = mgsd_inproc(capsys, "report", str(tmp_path / "strict"), "--out", str(tmp_path / "report"))
    assert rc == 0 and "as upstream scored it ¹" in report and "compares with the paper" in report
    headline = next(l for l in report.splitlines() if l.startswith("| ") and "planning" in l)
    assert f"| {pooled:.3f} |" in headline


def test_a_run_made_before_the_upstream_reading_gets_it_without_requests(mock_server, test_split, tmp_path, capsys):
    server = mock_server(reply=lambda request: REPLY)
    _, rows, _ = _run(capsys, server, test_split, tmp_path / "run")
    old = [{**r, "scores": {k: v for k, v in r["scores"].items() if not k.startswith("upstream_")}} for r in rows]
    (tmp_path / "run" / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in old))
    asked = server.chat_count
    _, again, summary = _run(capsys, server, test_split, tmp_path / "run")
    assert server.chat_count == asked
    assert [r["scores"] for r in again] == [r["scores"] for r in rows]
    assert "upstream_success" in summary["metrics"]["pooled_macro"]
