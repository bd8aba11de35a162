"""``mgsd data generate | import | verify``."""

from __future__ import annotations

import argparse
import importlib.util
import os

from ..base import TaskError
from ..dataset.folder import load_dataset
from ..dataset.generate import GenerateSpec, build_dataset
from ..dataset.importers import import_visualplanning, import_vsp
from ..dataset.splits import SPLITS
from ..registry import TASKS, get_task, normalise_task_name, task_names
from .args import add_prompt_dir_argument, task_arg, use_prompt_dir


def parse_level_list(text: str) -> tuple[int, ...]:
    """``3-5,8`` -> (3, 4, 5, 8)."""
    levels: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                levels.extend(range(lo, hi + 1))
            else:
                levels.append(int(part))
        except ValueError:
            raise TaskError(f"--levels: cannot read {text!r}; use e.g. 3-6 or 3,5,7 or maze=3-6") from None
    if not levels:
        raise TaskError(f"--levels: no level in {text!r}")
    return tuple(sorted(set(levels)))


def resolve_levels(tasks: tuple[str, ...], values: list[str] | None) -> dict[str, tuple[int, ...]]:
    """Per-task levels from repeated ``--levels`` values (``3-6`` for all tasks, ``maze=3,4`` for one)."""
    levels = {t: get_task(t).default_levels for t in tasks}
    given: dict[str, str] = {}  # task -> the --levels value its levels came from
    for value in values or []:
        if "=" in value:
            name, spec = value.split("=", 1)
            name = normalise_task_name(name)
            if name not in tasks:
                raise TaskError(f"--levels: task {name!r} is not among --tasks {','.join(tasks)}")
            levels[name], given[name] = parse_level_list(spec), value
        else:
            for t in tasks:
                levels[t], given[t] = parse_level_list(value), value
    for t, value in given.items():
        check_level_range(t, levels[t], value)
    return levels


def check_level_range(name: str, levels: tuple[int, ...], value: str) -> None:
    """One line naming the task whose range ``--levels value`` leaves, and a value that would fit it."""
    task = get_task(name)
    lo, hi = task.min_level, task.max_level
    bad = [level for level in levels if not lo <= level <= hi]
    if not bad:
        return
    fit_lo, fit_hi = max(levels[0], lo), min(levels[-1], hi)
    fit = f"{fit_lo}-{fit_hi}" if fit_lo < fit_hi else str(fit_lo) if fit_lo == fit_hi else f"{lo}-{hi}"
    hint = "use e.g." if "=" in value else "give it its own range after it, e.g."
    raise TaskError(f"--levels {value}: {name} takes levels {lo}-{hi}, not {_spans(bad)}; {hint} --levels {name}={fit}")


def _spans(levels: list[int]) -> str:
    """[2, 3, 4, 9] -> '2-4,9'."""
    spans: list[list[int]] = []
    for level in levels:
        if spans and level == spans[-1][1] + 1:
            spans[-1][1] = level
        else:
            spans.append([level, level])
    return ",".join(f"{a}-{b}" if a < b else str(a) for a, b in spans)


def parse_tasks(text: str) -> tuple[str, ...]:
    names = [normalise_task_name(t) for t in text.split(",") if t.strip()]
    if not names:
        raise TaskError("--tasks: no task given")
    return tuple(t for t in task_names() if t in names)


def _generate(args) -> int:
    tasks = parse_tasks(args.tasks)
    spec = GenerateSpec(tasks, resolve_levels(tasks, args.levels), args.per_level, args.split, args.seed)
    out, built = build_dataset(spec, args.out, workers=args.workers, force=args.force, progress=not args.quiet)
    _report(out, built)
    return 0


def _import(args) -> int:
    levels = parse_level_list(args.levels) if args.levels else None
    if args.benchmark == "vsp":
        out, built = import_vsp(args.src, args.out, levels=levels, force=args.force, progress=not args.quiet)
    else:
        out, built = import_visualplanning(
            args.task, args.src, args.out, split=args.split, levels=levels, force=args.force, progress=not args.quiet
        )
    _report(out, built)
    return 0


def _export(args) -> int:
    use_prompt_dir(args)
    from ..exporters.llamafactory import export_llamafactory
    from ..exporters.selection import parse_task_weights

    if args.no_reference_plan and args.kind != "symbolic-plan":
        raise TaskError("--no-reference-plan: only for --kind symbolic-plan (its teacher records)")
    out, name, count = export_llamafactory(
        args.data,
        args.out,
        kind=args.kind,
        name=args.name,
        per_level=args.per_level,
        task_weights=parse_task_weights(args.task_weights),
        force=args.force,
        reference_plan=not args.no_reference_plan,
    )
    print(f"{out}: {count} {args.kind} records as LLaMA-Factory dataset {name!r} (dataset_dir: {out}, dataset: {name})")
    return 0


def _export_verl(args) -> int:
    use_prompt_dir(args)
    from ..exporters.selection import parse_task_weights
    from ..exporters.verl import export_verl

    if importlib.util.find_spec("pyarrow") is None:
        raise TaskError("mgsd data export verl writes parquet and needs pyarrow: pip install 'mgsd[parquet]'")
    out, count = export_verl(
        args.data,
        args.out,
        per_level=args.per_level,
        task_weights=parse_task_weights(args.task_weights),
        reference_plan=not args.no_reference_plan,
        force=args.force,
        progress=not args.quiet,
    )
    print(f"{out}: {count} verl RL rows (images embedded)")
    return 0


def _export_vlmeval(args) -> int:
    use_prompt_dir(args)
    from ..exporters.selection import parse_task_weights
    from ..exporters.vlmeval import export_vlmeval

    out, count = export_vlmeval(
        args.data,
        args.out,
        kind=args.kind,
        prompt=args.prompt,
        per_level=args.per_level,
        task_weights=parse_task_weights(args.task_weights),
        force=args.force,
    )
    print(
        f"{out}: {count} VLMEvalKit rows ({args.kind}); register it with mgsd_eval.vlmeval_datasets (evaluate/README.md)"
    )
    return 0


def _verify(args) -> int:
    for path in args.data:
        dataset = load_dataset(path)
        dataset.verify()
        for _ in dataset.instances():
            pass
        print(f"{path}: ok ({len(dataset.samples)} samples, {len(dataset.manifest['files'])} files checked)")
    return 0


def _report(out, built: bool) -> None:
    dataset = load_dataset(out)
    state = "built" if built else "up to date (same spec), reused"
    counts = ", ".join(
        f"{t} " + "/".join(f"L{l}:{n}" for l, n in lv.items()) for t, lv in dataset.manifest["counts"].items()
    )
    print(f"{out}: {state}; {len(dataset.samples)} samples ({counts})")


def _export_args(parser: argparse.ArgumentParser, out_help: str) -> None:
    """What every export takes: the folders, the output, and the task mix (``exporters.selection``)."""
    parser.add_argument("--data", action="append", required=True, help="dataset folder (repeatable)")
    parser.add_argument("--out", required=True, help=out_help)
    parser.add_argument("--per-level", type=int, help="at most this many cases per task and level (default: all)")
    parser.add_argument("--task-weights", help="repeat factors per task, e.g. minibehaviour=3,maze=2 (default: 1 each)")
    parser.add_argument("--force", action="store_true", help="replace an existing export")
    add_prompt_dir_argument(parser)


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="build, import and check dataset folders")
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    gen = dsub.add_parser(
        "generate",
        help="generate a dataset folder of task instances",
        description="Generate instances, images and optimal plans into a dataset folder "
        "(manifest.json, samples.jsonl, images/). The output is a pure function of the options: "
        "the same options give byte-identical files whatever --workers is. Splits are disjoint by "
        "construction: an instance's split is decided by a hash of its content.",
    )
    gen.add_argument(
        "--tasks",
        default=",".join(TASKS),
        help="comma list of tasks (`mgsd tasks` lists them; default: the built-in three)",
    )
    gen.add_argument(
        "--levels",
        action="append",
        metavar="SPEC",
        help="levels (grid sides) for every task, e.g. 4-6 or 4,5; or for one task, e.g. maze=3-6; "
        "repeatable, later values win (default: frozenlake 3-8, maze 3-6, minibehaviour 5-6; "
        "valid: " + ", ".join(f"{t} {get_task(t).min_level}-{get_task(t).max_level}" for t in task_names()) + ")",
    )
    gen.add_argument("--per-level", type=int, default=100, help="samples per task and level (default: 100)")
    gen.add_argument("--split", choices=SPLITS, default="train", help="which split to draw (default: train)")
    gen.add_argument("--seed", type=int, default=0, help="base seed (default: 0)")
    gen.add_argument("--out", required=True, help="output dataset folder (written atomically)")
    gen.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    gen.add_argument("--force", action="store_true", help="replace an existing dataset folder with another spec")
    gen.add_argument("--quiet", action="store_true", help="no progress bars")
    gen.set_defaults(func=_generate)

    imp = dsub.add_parser(
        "import",
        help="import a public benchmark into a dataset folder",
        description="Turn a public benchmark into a dataset folder; records keep their source file and line.",
    )
    isub = imp.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    vsp = isub.add_parser("vsp", help="VSP FrozenLake maps (level3..level8 folders with table/ and img/)")
    vsp.add_argument("--src", required=True, help="maps root holding level<N>/table/<n>.txt and level<N>/img/<n>.png")
    vp = isub.add_parser("visualplanning", help="a VisualPlanning JSONL file (rendered from each line's meta)")
    vp.add_argument("--task", required=True, type=task_arg, choices=TASKS, help="one of " + ", ".join(TASKS))
    vp.add_argument("--src", required=True, help="the JSONL file, e.g. maze/tokenized_dataset/SFT/test_dataset.jsonl")
    vp.add_argument("--split", choices=SPLITS, help="split name to record (default: from the file name, else test)")
    for p in (vsp, vp):
        p.add_argument("--out", required=True, help="output dataset folder (written atomically)")
        p.add_argument("--levels", help="only these levels, e.g. 3-5")
        p.add_argument("--force", action="store_true", help="replace an existing dataset folder")
        p.add_argument("--quiet", action="store_true", help="no progress bars")
        p.set_defaults(func=_import)

    exp = dsub.add_parser("export", help="export dataset folders to a framework's format")
    esub = exp.add_subparsers(dest="export_format", metavar="FORMAT", required=True)
    lf = esub.add_parser(
        "llamafactory",
        help="LLaMA-Factory sharegpt dataset (perception or plan SFT)",
        description="Write OUT/<name>.json, OUT/dataset_info.json and OUT/images/ so that LLaMA-Factory's "
        "dataset_dir: OUT and dataset: <name> work unchanged. The default mix takes every case of every "
        "--data folder, i.e. equal samples per level when the folders were generated (upstream's mix).",
    )
    _export_args(lf, "output folder")
    lf.add_argument(
        "--kind",
        choices=("perception", "plan", "symbolic-plan"),
        default="perception",
        help="perception: questions about the image -> exact answers (default); plan: student prompt -> "
        "optimal plan; symbolic-plan: text only, no image, two records per case (the modality-gap "
        "symbolic query, and the OPCD teacher's system prompt + symbolic context) -> optimal plan",
    )
    lf.add_argument("--name", help="dataset name in dataset_info.json (default: mgsd_<kind>, e.g. mgsd_symbolic_plan)")
    lf.add_argument(
        "--no-reference-plan",
        action="store_true",
        help="symbolic-plan: leave the reference plan out of the teacher records' context "
        "(as mgsd data export verl --no-reference-plan)",
    )
    lf.set_defaults(func=_export)

    vl = esub.add_parser(
        "verl",
        help="verl RL parquet for OPCD (student prompt + image, teacher context in extra_info)",
        description="Write one parquet file with verl's RL columns (data_source, prompt, images as PNG bytes, ability, "
        "reward_model, extra_info). extra_info carries the task record the reward replays, the teacher's "
        "system prompt and symbolic context and the reference plan. Mixing as for llamafactory: every case "
        "of every --data folder by default, --per-level and --task-weights to change it.",
    )
    _export_args(vl, "output .parquet file (written atomically)")
    vl.add_argument(
        "--no-reference-plan",
        action="store_true",
        help="leave the reference plan out of the teacher context (it stays in extra_info.reference_plan)",
    )
    vl.add_argument("--quiet", action="store_true", help="no progress bar")
    vl.set_defaults(func=_export_verl)

    vk = esub.add_parser(
        "vlmeval",
        help="VLMEvalKit TSV (index, image, question, answer, category, level, case_id, record)",
        description="Write a VLMEvalKit benchmark TSV (images as base64) for the MGSD dataset classes in "
        "mgsd_eval.vlmeval_datasets; scoring there goes through task_envs.",
    )
    _export_args(vk, "output .tsv file (written atomically)")
    vk.add_argument(
        "--kind", choices=("plan", "perception"), default="plan", help="plan (default) or perception questions"
    )
    vk.add_argument("--prompt", choices=("student", "direct"), default="student", help="plan prompt (default: student)")
    vk.set_defaults(func=_export_vlmeval)

    ver = dsub.add_parser("verify", help="check dataset folders against their manifests (sha256, records)")
    ver.add_argument("data", nargs="+", help="dataset folders")
    ver.set_defaults(func=_verify)
