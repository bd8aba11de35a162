"""``mgsd eval planning|perception|modality-gap`` and ``mgsd report``, registered into the ``mgsd`` command by the
``mgsd.cli`` entry point. This module imports only argparse and ``task_envs``; the client, runner and report
(openai, matplotlib: the ``eval`` extra) are imported when a command runs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from task_envs.cli.args import add_prompt_dir_argument, add_scoring_argument, use_prompt_dir
from task_envs.cli.data import parse_tasks, resolve_levels
from task_envs.cli.evaluation import EVAL_EXTRA
from task_envs.errors import TaskError
from task_envs.registry import TASKS, get_task, normalise_task_name, task_names

DEFAULT_MAX_TOKENS = 4096


def _need_extra(plots: bool = False):
    """Import what the command needs; a missing third-party module is the one-line eval-extra error."""
    try:
        from . import fingerprint, report, runner  # noqa: F401

        if plots:
            import matplotlib  # noqa: F401
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in ("mgsd_eval", "task_envs"):
            raise
        raise TaskError(EVAL_EXTRA) from None


def _unnamed_tasks(folders: list[str]) -> tuple[str, ...]:
    """The tasks an all-task ``--levels`` applies to without ``--tasks``: the built-in ones and the installed ones the
    data holds (by the folders' manifests), so that an installed task the data does not hold never makes the
    value out of range."""
    held: set[str] = set()
    for folder in folders:
        try:
            held |= set(json.loads((Path(folder) / "manifest.json").read_text())["counts"])
        except (OSError, ValueError, KeyError, TypeError):  # the run itself reports a folder it cannot read
            continue
    return tuple(t for t in task_names() if t in TASKS or t in held)


def _filters(args) -> tuple[list[str] | None, dict | None]:
    """(--tasks, per-task --levels) as given, parsed as ``mgsd data generate`` does; None: no filter."""
    tasks = parse_tasks(args.tasks) if args.tasks else None
    if not args.levels:
        return (list(tasks) if tasks else None), None
    names = tasks or _unnamed_tasks(args.data)
    resolved = resolve_levels(names, args.levels)
    if any("=" not in v for v in args.levels):
        named = set(names)
    else:
        named = {normalise_task_name(v.split("=", 1)[0]) for v in args.levels}
    return (list(tasks) if tasks else None), {t: list(resolved[t]) for t in names if t in named}


def _options(args, endpoint) -> tuple[dict, dict]:
    """(request options, extra body): the api config's, then the flags."""
    options = dict(endpoint.options)
    options.update(
        {
            k: v
            for k, v in {"temperature": args.temperature, "top_p": args.top_p, "seed": args.seed}.items()
            if v is not None
        }
    )
    if args.max_tokens is not None:  # the flag replaces whichever token field the config file set
        for name in ("max_tokens", "max_completion_tokens"):
            options.pop(name, None)
        options[args.token_field] = args.max_tokens
    elif not {"max_tokens", "max_completion_tokens"} & set(options):
        options[args.token_field] = DEFAULT_MAX_TOKENS
    extra = dict(endpoint.extra_body)
    if args.extra_body:
        try:
            given = json.loads(args.extra_body)
        except json.JSONDecodeError:
            given = None
        if not isinstance(given, dict):
            raise TaskError(f"--extra-body: expected a JSON object, got {args.extra_body!r}")
        extra.update(given)
    return options, extra


def _eval(args) -> int:
    _need_extra()
    from .client import ClientSettings, EndpointError
    from .endpoints import resolve_endpoint
    from .fingerprint import manifest_hashes, project_version, prompt_sha256, request_options
    from .pipelines import build_cases, prompt_files, prompt_texts
    from .report import format_summary
    from .runner import run_cases

    use_prompt_dir(args)
    if args.concurrency < 1 or (args.limit is not None and args.limit < 1):
        raise TaskError("--concurrency and --limit must be positive")
    tasks, levels = _filters(args)
    endpoint = resolve_endpoint(args.base_url, args.model, args.api_config)
    options, extra_body = _options(args, endpoint)
    settings = ClientSettings(
        endpoint.base_urls,
        endpoint.api_keys,
        endpoint.model,
        args.concurrency,
        args.timeout,
        args.retries,
        options=options,
        extra_body=extra_body,
    )
    prompt = args.prompt if args.pipeline == "planning" else None
    cases = build_cases(args.pipeline, args.data, prompt or "student", args.limit, args.scoring, tasks, levels)
    if not cases and (tasks or levels):
        raise TaskError(f"no case of {', '.join(args.data)} matches --tasks/--levels")
    texts = prompt_texts(args.pipeline, prompt or "student", {c.task for c in cases})
    data = [str(d) for d in args.data]
    info = {
        "mgsd_version": project_version(),
        "pipeline": args.pipeline,
        "data": data,
        "manifests": manifest_hashes(data),
        "tasks": tasks,
        "levels": levels,
        "limit": args.limit,
        "scoring": args.scoring,
        "prompt": prompt,
        "prompt_sha256": prompt_sha256(texts),
        "prompts": sorted(texts),
        "prompt_files": prompt_files(args.pipeline, prompt or "student", {c.task for c in cases}),
        "options": request_options(options, extra_body),
        "label": args.label,
        "endpoints": endpoint.base_urls,
    }
    try:
        summary = run_cases(
            cases,
            settings,
            args.out,
            info,
            progress=not args.quiet,
            force=args.force,
            warn=lambda line: print(f"mgsd: warning: {line}", file=sys.stderr, flush=True),
        )
    except EndpointError as exc:  # e.g. no server: the model name cannot be resolved
        raise TaskError(str(exc)) from None
    print(format_summary(summary))
    print(f"{args.out}: results.jsonl, summary.json ({summary['cases']} cases, {summary['errors']} errors)")
    return 1 if summary["errors"] else 0


def _report(args) -> int:
    _need_extra(plots=True)
    from .report import write_report

    out = write_report(args.runs, args.out, args.training)
    print((out / "report.md").read_text())
    print(f"report written to {out}/ (report.json, report.csv, report.md, *.png)")
    return 0


def _add_eval_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("--data", action="append", required=True, help="dataset folder (repeatable)")
    p.add_argument("--out", required=True, help="run folder (run.json, results.jsonl, summary.json)")
    p.add_argument("--tasks", help="only these tasks, comma list, e.g. maze,frozenlake (default: all)")
    p.add_argument(
        "--levels",
        action="append",
        metavar="SPEC",
        help="only these levels, as for `mgsd data generate`: e.g. 3-5 for every task, maze=3,4 for one; "
        "repeatable, later values win (default: all; tasks not named keep all their levels; valid: "
        + ", ".join(f"{t} {get_task(t).min_level}-{get_task(t).max_level}" for t in task_names())
        + ")",
    )
    p.add_argument(
        "--base-url",
        action="append",
        help="endpoint base URL, e.g. http://127.0.0.1:8000/v1 "
        "(repeatable: requests go round-robin); default OPENAI_BASE_URL or the api config",
    )
    p.add_argument("--model", help="model name (default: the first of GET /models, with a warning)")
    p.add_argument(
        "--api-config",
        help="api_config_files/*.json (base_url, api_key: one key or a list rotated "
        "over requests, model, options, extra_body; upstream MGSD's field names too); OPENAI_API_KEY "
        "wins over its api_key",
    )
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight (default: 16)")
    p.add_argument("--limit", type=int, help="at most N cases per task and level per folder (default: all)")
    if name == "planning":
        p.add_argument(
            "--prompt",
            choices=("student", "direct"),
            default="student",
            help="student: brief reasoning then the answer, as trained (default); direct: answer only",
        )
    add_scoring_argument(p)
    add_prompt_dir_argument(p)
    p.add_argument("--temperature", type=float, default=0.0, help="default: 0.0")
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument(
        "--max-tokens", type=int, help=f"response token limit (default: the api config's, else {DEFAULT_MAX_TOKENS})"
    )
    p.add_argument(
        "--token-field",
        choices=("max_tokens", "max_completion_tokens"),
        default="max_tokens",
        help="request field for --max-tokens (newer OpenAI models need max_completion_tokens)",
    )
    p.add_argument(
        "--extra-body",
        metavar="JSON",
        help="extra request fields as a JSON object, e.g. '{\"top_k\": 20}' (over the api config's)",
    )
    p.add_argument("--timeout", type=float, default=120.0, help="seconds per request (default: 120)")
    p.add_argument("--retries", type=int, default=4, help="retries on 429/5xx/timeouts/empty replies (default: 4)")
    p.add_argument("--label", help="name of this run in reports (default: the model name)")
    p.add_argument(
        "--force",
        action="store_true",
        help="start over when the run folder holds a run with other settings (its results are deleted)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_eval)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``eval`` and ``report`` to the ``mgsd`` subcommands (the ``mgsd.cli`` entry point)."""
    ev = sub.add_parser(
        "eval",
        help="evaluate a model behind an OpenAI-compatible endpoint",
        description="Run an evaluation pipeline on dataset folders against OpenAI-compatible endpoints. "
        "Writes RUN_DIR/run.json (the run's fingerprint: model, request options, prompt and "
        "dataset hashes, filters, version), RUN_DIR/results.jsonl and RUN_DIR/summary.json. "
        "Rerunning the same command resumes (finished cases are skipped, errored ones "
        "retried); a rerun with other settings, or against a server with another model, is "
        "refused (exit 2) unless --force. Exit status 1 when cases still end in errors.",
    )
    esub = ev.add_subparsers(dest="pipeline", metavar="PIPELINE", required=True)
    helps = {
        "planning": "plan from the image (student or direct prompt)",
        "perception": "answer the perception questions about the image, scored per field",
        "modality-gap": "each case with the image and as symbolic text only; the gap per task and level",
    }
    for name, text in helps.items():
        _add_eval_arguments(esub.add_parser(name, help=text, description=text), name)

    rp = sub.add_parser(
        "report",
        help="tables and plots from evaluation runs and training runs",
        description="Write report.json, report.csv, report.md (dataset, n, 95% intervals, per-field "
        "perception accuracy, format/fell, truncation, tokens) and PNG plots: success by "
        "level (a panel per task, grouped bars per run), modality gap (a panel per run), "
        "training curves (--training). Plots an earlier report left in --out are removed.",
    )
    rp.add_argument("runs", nargs="*", help="evaluation run folders (each with summary.json)")
    rp.add_argument(
        "--training",
        nargs="+",
        default=[],
        metavar="DIR",
        help="OPCD output folders (verl's or the single-process trainer's metrics.jsonl): "
        "training_curves.png with reverse KL, validation macro success and response length",
    )
    rp.add_argument("--out", help="report folder (default: RUN/report for one run, else required)")
    rp.set_defaults(func=_report)
