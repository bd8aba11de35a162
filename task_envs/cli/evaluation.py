"""``mgsd eval planning|perception|modality-gap`` and ``mgsd report`` (the evaluation package, ``mgsd_eval``,
is imported only when these run: it needs the ``eval`` environment)."""

from __future__ import annotations

import argparse

from ..errors import TaskError

DEFAULT_MAX_TOKENS = 4096


def _need_eval():
    try:
        import mgsd_eval.runner  # noqa: F401
    except ImportError as exc:
        raise TaskError(f"the evaluation needs the eval environment ({exc}); run: bash requirements/setup_env.sh eval") from None


def _eval(args) -> int:
    _need_eval()
    from mgsd_eval.client import ClientSettings
    from mgsd_eval.endpoints import resolve_endpoint
    from mgsd_eval.pipelines import build_cases
    from mgsd_eval.runner import run_cases
    from mgsd_eval.report import format_summary

    if args.concurrency < 1 or (args.limit is not None and args.limit < 1):
        raise TaskError("--concurrency and --limit must be positive")
    endpoint = resolve_endpoint(args.base_url, args.model, args.api_config)
    options = dict(endpoint.options)
    options.update({k: v for k, v in {"temperature": args.temperature, "top_p": args.top_p, "seed": args.seed}.items()
                    if v is not None})
    if args.max_tokens is not None:  # the flag replaces whichever token field the config file set
        for field in ("max_tokens", "max_completion_tokens"):
            options.pop(field, None)
        options[args.token_field] = args.max_tokens
    elif not {"max_tokens", "max_completion_tokens"} & set(options):
        options[args.token_field] = DEFAULT_MAX_TOKENS
    settings = ClientSettings(endpoint.base_urls, endpoint.api_key, endpoint.model, args.concurrency, args.timeout,
                              args.retries, options=options)
    prompt = args.prompt if args.pipeline == "planning" else None
    cases = build_cases(args.pipeline, args.data, prompt or "student", args.limit, args.lenient)
    info = {"pipeline": args.pipeline, "data": [str(d) for d in args.data], "prompt": prompt, "model": endpoint.model,
            "limit": args.limit, "lenient": args.lenient, "label": args.label, "endpoints": endpoint.base_urls,
            "options": options}
    from mgsd_eval.client import EndpointError

    try:
        summary = run_cases(cases, settings, args.out, info, progress=not args.quiet)
    except EndpointError as exc:  # e.g. no server: the model name cannot be resolved
        raise TaskError(str(exc)) from None
    print(format_summary(summary))
    print(f"{args.out}: results.jsonl, summary.json ({summary['cases']} cases, {summary['errors']} errors)")
    return 1 if summary["errors"] else 0


def _report(args) -> int:
    _need_eval()
    from mgsd_eval.report import write_report

    out = write_report(args.runs, args.out)
    print((out / "report.md").read_text())
    print(f"report written to {out}/ (report.json, report.csv, report.md, *.png)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    ev = sub.add_parser("eval", help="evaluate a model behind an OpenAI-compatible endpoint",
                        description="Run an evaluation pipeline on dataset folders against OpenAI-compatible endpoints. "
                                    "Writes RUN_DIR/results.jsonl and RUN_DIR/summary.json; rerunning the same command "
                                    "resumes (finished cases are skipped, errored ones retried). Exit status 1 when "
                                    "cases still end in errors.")
    esub = ev.add_subparsers(dest="pipeline", metavar="PIPELINE", required=True)
    helps = {"planning": "plan from the image (student or direct prompt)",
             "perception": "answer the perception questions about the image, scored per field",
             "modality-gap": "each case with the image and as symbolic text only; the gap per task and level"}
    for name, text in helps.items():
        p = esub.add_parser(name, help=text, description=text)
        p.add_argument("--data", action="append", required=True, help="dataset folder (repeatable)")
        p.add_argument("--out", required=True, help="run folder (results.jsonl, summary.json)")
        p.add_argument("--base-url", action="append", help="endpoint base URL, e.g. http://127.0.0.1:8000/v1 "
                       "(repeatable: requests go round-robin); default OPENAI_BASE_URL or the api config")
        p.add_argument("--model", help="model name (default: the first of GET /models)")
        p.add_argument("--api-config", help="api_config_files/*.json (base_url, api_key, model, options); "
                       "OPENAI_API_KEY wins over its api_key")
        p.add_argument("--concurrency", type=int, default=16, help="requests in flight (default: 16)")
        p.add_argument("--limit", type=int, help="at most N cases per task and level per folder (default: all)")
        if name == "planning":
            p.add_argument("--prompt", choices=("student", "direct"), default="student",
                           help="student: brief reasoning then the answer, as trained (default); direct: answer only")
        p.add_argument("--lenient", action="store_true", help="accept a plan outside answer tags (format stays 0)")
        p.add_argument("--temperature", type=float, default=0.0, help="default: 0.0")
        p.add_argument("--top-p", type=float)
        p.add_argument("--seed", type=int)
        p.add_argument("--max-tokens", type=int,
                       help=f"response token limit (default: the api config's, else {DEFAULT_MAX_TOKENS})")
        p.add_argument("--token-field", choices=("max_tokens", "max_completion_tokens"), default="max_tokens",
                       help="request field for --max-tokens (newer OpenAI models need max_completion_tokens)")
        p.add_argument("--timeout", type=float, default=120.0, help="seconds per request (default: 120)")
        p.add_argument("--retries", type=int, default=4, help="retries on 429/5xx/timeouts/empty replies (default: 4)")
        p.add_argument("--label", help="name of this run in reports (default: the model name)")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        p.set_defaults(func=_eval)

    rp = sub.add_parser("report", help="tables and plots from evaluation runs",
                        description="Write report.json, report.csv, report.md and PNG plots (success by level per task, "
                                    "one line per run; visual vs symbolic bars for modality-gap runs).")
    rp.add_argument("runs", nargs="+", help="run folders (each with summary.json)")
    rp.add_argument("--out", help="report folder (default: RUN/report for one run, else required)")
    rp.set_defaults(func=_report)
