"""``mgsd oracle`` and ``mgsd score``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tqdm import tqdm

from ..dataset.folder import DatasetError, load_datasets, read_jsonl
from ..io_utils import atomic_write_json, atomic_write_text
from ..metrics import format_table, summarise
from ..registry import get_task
from .args import add_scoring_argument


def load_cases(paths: list[str]) -> list[tuple[dict, object]]:
    """(sample, instance) pairs of every dataset folder; ids must be unique across folders."""
    return [case for dataset in load_datasets(paths) for case in dataset.instances()]


def load_predictions(path: str, known_ids: set[str]) -> dict[str, str]:
    """``{"id", "response"}`` lines; unknown or repeated ids and non-string responses are errors."""
    predictions: dict[str, str] = {}
    for lineno, obj in enumerate(read_jsonl(Path(path), required=("id", "response")), start=1):
        case_id, response = obj["id"], obj["response"]
        if case_id not in known_ids:
            raise DatasetError(f"{path}: prediction for unknown id {case_id!r} (record {lineno})")
        if case_id in predictions:
            raise DatasetError(f"{path}: second prediction for id {case_id!r} (record {lineno})")
        if not isinstance(response, str):
            raise DatasetError(f"{path}: field 'response' of id {case_id!r} must be a string")
        predictions[case_id] = response
    return predictions


def _oracle(args) -> int:
    cases = load_cases(args.data)
    lines = []
    for sample, instance in tqdm(cases, desc="oracle", unit="case", disable=args.quiet):
        lines.append(
            json.dumps({"id": sample["id"], "response": get_task(sample["task"]).oracle_response(instance)}) + "\n"
        )
    atomic_write_text(args.out, "".join(lines))
    print(f"{args.out}: {len(lines)} oracle predictions")
    return 0


def _score(args) -> int:
    cases = load_cases(args.data)
    predictions = load_predictions(args.predictions, {s["id"] for s, _ in cases})
    rows = []
    missing = 0
    for sample, instance in tqdm(cases, desc="score", unit="case", disable=args.quiet):
        response = predictions.get(sample["id"])
        if response is None:
            missing += 1
            response = ""
        _, scores = get_task(sample["task"]).score_readings(instance, response, args.scoring)
        rows.append({"task": sample["task"], "level": sample["level"], "scores": scores})
    summary = summarise(rows)
    print(format_table(summary))
    if missing:
        print(f"{missing} of {len(cases)} cases have no prediction and were scored as failures")
    if args.out:
        atomic_write_json(
            args.out,
            {
                "data": args.data,
                "predictions": args.predictions,
                "scoring": args.scoring,
                "missing_predictions": missing,
                **summary,
            },
        )
        print(f"metrics written to {args.out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    oracle = sub.add_parser(
        "oracle",
        help="write optimal-plan predictions for dataset folders",
        description='Write one {"id", "response"} JSON line per case with an optimal plan in <answer> tags.',
    )
    oracle.add_argument("--data", action="append", required=True, help="dataset folder (repeatable)")
    oracle.add_argument("--out", required=True, help="predictions JSONL to write")
    oracle.add_argument("--quiet", action="store_true", help="no progress bar")
    oracle.set_defaults(func=_oracle)

    score = sub.add_parser(
        "score",
        help="score predictions against dataset folders",
        description='Score {"id", "response"} predictions: per task and level, per-task macro over levels and the '
        "all-task macro (all_tasks_macro.success is MGSD's headline number). Cases with no prediction "
        "count as failures.",
    )
    score.add_argument("--data", action="append", required=True, help="dataset folder (repeatable)")
    score.add_argument("--predictions", required=True, help='predictions JSONL ({"id", "response"} per line)')
    score.add_argument("--out", help="write the metrics JSON here")
    add_scoring_argument(score)
    score.add_argument("--quiet", action="store_true", help="no progress bar")
    score.set_defaults(func=_score)
