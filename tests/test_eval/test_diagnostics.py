"""``mgsd report``'s diagnostics: perception x planning and symbolic x image, four counts per model and task."""

import json

from evalhelpers import mgsd_inproc

from mgsd_eval.diagnostics import diagnostics


def _run(folder, pipeline, rows, label="m"):
    folder.mkdir(parents=True)
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {
        "run": str(folder),
        "label": label,
        "pipeline": pipeline,
        "prompt": "student" if pipeline == "planning" else None,
    }


def _row(case, task, scores, variant=None, error=None):
    return {
        "key": case + (f"/{variant}" if variant else ""),
        "case_id": case,
        "task": task,
        "variant": variant,
        "scores": scores,
        "error": error,
    }


def test_counts_over_shared_cases_without_errors(tmp_path):
    perception = [
        _row("a", "maze", {"all_correct": 1}),
        _row("b", "maze", {"all_correct": 1}),
        _row("c", "maze", {"all_correct": 0}),
        _row("d", "maze", {"all_correct": 0}),
        _row("e", "maze", {"all_correct": 1}, error="timeout"),  # errored: left out
        _row("f", "frozenlake", {"all_correct": 0}),
    ]
    planning = [
        _row("a", "maze", {"success": 1}),
        _row("b", "maze", {"success": 0}),
        _row("c", "maze", {"success": 1}),
        _row("d", "maze", {"success": 0}),
        _row("e", "maze", {"success": 1}),
        _row("g", "frozenlake", {"success": 1}),
    ]  # no perception reply of g: left out
    gap = [
        _row(c, "maze", {"success": s}, v)
        for c, s, v in [
            ("a", 1, "symbolic"),
            ("a", 1, "visual"),
            ("b", 1, "symbolic"),
            ("b", 0, "visual"),
            ("c", 0, "symbolic"),
            ("c", 1, "visual"),
            ("d", 0, "symbolic"),
            ("d", 0, "visual"),
            ("h", 1, "symbolic"),
        ]
    ]
    runs = [
        _run(tmp_path / "p", "perception", perception),
        _run(tmp_path / "q", "planning", planning),
        _run(tmp_path / "g", "modality-gap", gap),
        _run(tmp_path / "other", "planning", planning, label="x"),
    ]
    diag = diagnostics(runs)
    assert diag["m"]["maze"]["perception_x_planning"] == {
        "cases": 4,
        "perceived_solved": 1,
        "perceived_failed": 1,
        "misperceived_solved": 1,
        "misperceived_failed": 1,
    }
    assert diag["m"]["maze"]["symbolic_x_visual"] == {
        "cases": 4,
        "both_solved": 1,
        "symbolic_only": 1,
        "visual_only": 1,
        "neither": 1,
    }
    assert "frozenlake" not in diag["m"] and "x" not in diag  # no shared case; a label with one run


def test_report_shows_them(mock_server, test_split, tmp_path, capsys):
    server = mock_server()
    runs = []
    for pipeline in ("planning", "perception", "modality-gap"):
        runs.append(tmp_path / pipeline)
        assert (
            mgsd_inproc(
                capsys,
                "eval",
                pipeline,
                "--data",
                test_split,
                "--out",
                runs[-1],
                "--base-url",
                server.base_url,
                "--limit",
                "1",
                "--quiet",
                "--label",
                "mock",
            )[0]
            == 0
        )
    rc, out, _ = mgsd_inproc(capsys, "report", *runs, "--out", tmp_path / "report")
    assert rc == 0 and "## Diagnostics" in out and "### Perception x planning" in out and "### Symbolic x image" in out
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    rows = {
        p: [json.loads(l) for l in (tmp_path / p / "results.jsonl").read_text().splitlines()]
        for p in ("planning", "perception", "modality-gap")
    }
    for task, entry in report["diagnostics"]["mock"].items():
        solved = {r["case_id"]: r["scores"]["success"] for r in rows["planning"] if r["task"] == task}
        right = {r["case_id"]: r["scores"]["all_correct"] for r in rows["perception"] if r["task"] == task}
        counts = entry["perception_x_planning"]
        assert counts["cases"] == len(solved) == len(right)
        assert counts["perceived_failed"] == sum(right[c] and not solved[c] for c in solved)
        assert counts["misperceived_failed"] == sum(not right[c] and not solved[c] for c in solved)
        assert (
            sum(entry["symbolic_x_visual"][k] for k in ("both_solved", "symbolic_only", "visual_only", "neither"))
            == entry["symbolic_x_visual"]["cases"]
            == len(solved)
        )
    assert "diagnostics.png" in report["plots"] and (tmp_path / "report" / "diagnostics.png").stat().st_size > 1000
