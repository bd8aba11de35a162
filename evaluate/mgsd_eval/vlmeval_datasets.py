"""VLMEvalKit benchmark classes for the three tasks (scoring delegates to ``task_envs``), and a run entry.

VLMEvalKit is ``ms-vlmeval`` on PyPI (module ``vlmeval``), in its own environment
(``bash requirements/setup_env.sh vlmeval``). ``evaluate/run_vlmeval.sh`` is the launcher:

    mgsd data export vlmeval --data data/test --out OUT/LMUData/MGSD_All.tsv      # one TSV, every task
    python -m mgsd_eval.vlmeval_datasets --base-url URL --model NAME --work-dir OUT --data MGSD_Maze

The entry adds ``MGSD_<title>`` for every registered task (``MGSD_FrozenLake``, ``MGSD_Maze``, ``MGSD_MiniBehaviour``
and installed ones: ``mgsd tasks``) and ``MGSD_All`` (every task) to VLMEvalKit's
dataset registry in its own process (:func:`register`; nothing in VLMEvalKit is changed), writes a VLMEvalKit
``--config`` JSON (model class ``GPT4V`` with ``api_base`` = ``<base URL>/chat/completions``, one entry per
dataset naming its class) and calls VLMEvalKit's own ``run.main``: its inference, its prediction files, its
``status.json``; :meth:`MGSDBenchmark.evaluate_file` scores the ``prediction`` column with ``task_envs`` and
writes ``<predictions>_acc.csv`` (the table) and ``<predictions>_score.json`` (the summary, as ``mgsd eval``'s).

A class reads ``<name>.tsv`` from ``$MGSD_VLMEVAL_DIR`` (default VLMEvalKit's ``$LMUData``, ``~/LMUData``),
else ``MGSD_All.tsv`` there, keeping the rows of its task (``category``). ``vlmeval`` is imported only by
:func:`dataset_classes` and the entry; :class:`MGSDBenchmark` works without it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib
import io
import json
import logging
import math
import os
import shutil
import sys
import types
import urllib.request
from pathlib import Path

from task_envs import get_task
from task_envs.metrics import summarise
from task_envs.registry import task_names

from .pipelines import score_reply
from .summary import summarise_perception

ALL_TSV = "MGSD_All"
#: what VLMEvalKit's API models answer when every retry failed (``vlmeval.api.base.BaseAPI.fail_msg``)
FAIL_MSG = "Failed to obtain answer via API."


def datasets() -> dict[str, tuple[str, ...]]:
    """Dataset name -> the tasks it holds: ``MGSD_<title>`` per registered task, and ``MGSD_All`` (the TSV may
    hold more; rows are filtered by ``category``)."""
    names = task_names()
    found: dict[str, tuple[str, ...]] = {}
    for t in names:
        name = f"MGSD_{get_task(t).title or t}"
        if name in found or name == ALL_TSV or not name.replace("_", "").isalnum():
            raise ValueError(f"task {t!r}: its VLMEvalKit dataset name {name!r} is taken or not a plain word (title)")
        found[name] = (t,)
    return {**found, ALL_TSV: names}


def data_root() -> Path:
    """``$MGSD_VLMEVAL_DIR``, else VLMEvalKit's ``$LMUData``, else ``~/LMUData``."""
    return Path(os.environ.get("MGSD_VLMEVAL_DIR") or os.environ.get("LMUData") or str(Path.home() / "LMUData"))


def tsv_path(name: str) -> Path:
    """The TSV a class reads: ``<name>.tsv`` when present, else ``MGSD_All.tsv`` (filtered by task)."""
    own = data_root() / f"{name}.tsv"
    if own.is_file() or name == ALL_TSV:
        return own
    shared = data_root() / f"{ALL_TSV}.tsv"
    return shared if shared.is_file() else own


def read_tsv(path: str | Path) -> list[dict]:
    csv.field_size_limit(1 << 30)
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _prediction(value) -> str:
    """A prediction cell as text (pandas reads an empty cell as NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


class MGSDBenchmark:
    """The benchmark logic (rows, prompt, scoring), independent of VLMEvalKit."""

    TYPE = "VQA"
    MODALITY = "IMAGE"

    def __init__(self, dataset: str = "MGSD_All"):
        known = datasets()
        if dataset not in known:
            raise ValueError(f"unknown MGSD dataset {dataset!r}; expected one of {', '.join(known)}")
        self.dataset_name, self.tasks = dataset, known[dataset]

    def rows(self) -> list[dict]:
        path = tsv_path(self.dataset_name)
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: no {self.dataset_name}.tsv or {ALL_TSV}.tsv in {path.parent}; write one "
                f"with `mgsd data export vlmeval --data DIR --out {path.parent / (ALL_TSV + '.tsv')}`"
            )
        every = read_tsv(path)
        rows = [r for r in every if r["category"] in self.tasks]
        if self.dataset_name == ALL_TSV and len(rows) < len(every):
            missing = sorted({r["category"] for r in every} - set(self.tasks))
            raise ValueError(f"{path}: rows of {', '.join(missing)}, not installed here (`mgsd tasks`)")
        if not rows:
            raise ValueError(f"{path}: no rows of {', '.join(self.tasks)} (column 'category')")
        return rows

    @staticmethod
    def message(line, image_path: str) -> list[dict]:
        """VLMEvalKit's multimodal message: the image first, then the prompt (as in training)."""
        return [dict(type="image", value=image_path), dict(type="text", value=line["question"])]

    @staticmethod
    def score_line(line, prediction: str) -> dict:
        record = json.loads(line["record"])
        task = get_task(record["task"])
        kind = "perception" if line.get("kind") == "perception" else "planning"
        return score_reply(kind, task.name, task.from_record(record), prediction)[1]

    def score_predictions(self, lines: list[dict]) -> dict:
        """Per task and level and macro summaries of the ``prediction`` column (``mgsd eval``'s summary). A
        prediction that is VLMEvalKit's failure message (the API never answered) counts in ``errors``, not in
        the rates, as a failed request in ``mgsd eval``."""
        perception = bool(lines) and lines[0].get("kind") == "perception"
        rows = []
        for line in lines:
            text = _prediction(line.get("prediction"))
            failed = FAIL_MSG in text
            rows.append(
                {
                    "task": line["category"],
                    "level": int(line["level"]),
                    "error": failed,
                    "scores": None if failed else self.score_line(line, text),
                }
            )
        return summarise_perception(rows) if perception else summarise(rows)

    def evaluate_file(self, eval_file: str) -> dict:
        """Score a predictions file (TSV here; xlsx/csv/json through VLMEvalKit's ``load``); write
        ``<eval_file>_acc.csv`` (one row per task and level, a macro row per task, the all-task macro) and
        ``<eval_file>_score.json`` (the whole summary). Returns the summary."""
        if str(eval_file).endswith(".tsv"):
            lines = read_tsv(eval_file)
        else:
            from vlmeval.smp import load

            lines = load(eval_file).to_dict("records")
        summary = self.score_predictions(lines)
        stem = str(eval_file).rsplit(".", 1)[0]
        Path(stem + "_score.json").write_text(json.dumps(summary, indent=1))
        Path(stem + "_acc.csv").write_text(score_table(summary))
        return summary


def score_table(summary: dict) -> str:
    """The summary as CSV: ``task, level, n, errors, <metrics>``; ``level`` is ``macro`` on a task's macro row,
    and the last row (``task`` = ``all_tasks``) is the all-task macro (MGSD's headline is its ``success``)."""
    metrics: list[str] = []
    for levels in summary["by_task_level"].values():
        for entry in levels.values():
            metrics += [k for k, v in entry.items() if isinstance(v, float) and k not in metrics]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["task", "level", "n", "errors", *metrics])
    fmt = lambda entry: [f"{entry[m]:.6g}" if m in entry else "" for m in metrics]
    for task, levels in summary["by_task_level"].items():
        for level, entry in levels.items():
            writer.writerow([task, level, entry["n"], entry["errors"], *fmt(entry)])
        entry = summary["by_task"][task]
        writer.writerow([task, "macro", entry["n"], entry["errors"], *fmt(entry)])
    micro = summary["micro"]
    writer.writerow(["all_tasks", "macro", micro["n"], micro["errors"], *fmt(summary["all_tasks_macro"])])
    return out.getvalue()


_CLASSES: dict[str, type] = {}


def dataset_classes() -> dict[str, type]:
    """The VLMEvalKit classes, subclasses of ``vlmeval.dataset.image_base.ImageBaseDataset`` (imports vlmeval)."""
    from vlmeval.dataset.image_base import ImageBaseDataset

    known = datasets()
    if set(_CLASSES) == set(known):
        return dict(_CLASSES)
    _CLASSES.clear()  # a task was registered since: build them again
    for name in known:

        def load_data(self, dataset, _name=name):
            import pandas as pd

            return pd.DataFrame(MGSDBenchmark(_name).rows())

        def build_prompt(self, line):
            if isinstance(line, int):
                line = self.data.iloc[line]
            return MGSDBenchmark.message(line, self.dump_image(line)[0])

        def evaluate(self, eval_file, **judge_kwargs):
            """Scores by ``task_envs`` (no judge model); VLMEvalKit logs and records the returned macros, the
            files next to ``eval_file`` hold every task and level."""
            summary = MGSDBenchmark(self.dataset_name).evaluate_file(eval_file)
            return {k: summary[k] for k in ("all_tasks_macro", "by_task")}

        def report_primary_metric(cls, metrics):
            """The headline for VLMEvalKit's run summary: the all-task macro success (field accuracy for
            perception); ``metrics`` are the flattened keys of :meth:`MGSDBenchmark.evaluate_file`'s summary."""
            for key in ("all_tasks_macro|success", "all_tasks_macro|field_accuracy"):
                if isinstance((metrics or {}).get(key), (int, float)):
                    return {key: metrics[key]}
            return {}

        _CLASSES[name] = type(
            name,
            (ImageBaseDataset,),
            {
                "__module__": __name__,
                "__doc__": f"VLMEvalKit dataset {name}: tasks {', '.join(known[name])}.",
                "TYPE": MGSDBenchmark.TYPE,
                "MODALITY": MGSDBenchmark.MODALITY,
                "DATASET_URL": {name: ""},
                "DATASET_MD5": {name: None},
                "load_data": load_data,
                "build_prompt": build_prompt,
                "evaluate": evaluate,
                "supported_datasets": classmethod(lambda cls, _n=name: [_n]),
                "report_primary_metric": classmethod(report_primary_metric),
            },
        )
    return dict(_CLASSES)


def register() -> dict[str, type]:
    """Add the classes to VLMEvalKit's registry in this process (``vlmeval.dataset``: the module attributes a
    ``--config`` ``class`` names, ``IMAGE_DATASET``, ``DATASET_CLASSES`` and ``SUPPORTED_DATASETS``, which
    ``build_dataset``/``--data`` use). Idempotent; VLMEvalKit's files are not touched."""
    import vlmeval.dataset as ds

    classes = dataset_classes()
    for name, cls in classes.items():
        setattr(ds, name, cls)
        for registry in (ds.IMAGE_DATASET, ds.DATASET_CLASSES):
            if all(getattr(c, "__name__", None) != name for c in registry):
                registry.append(cls)
        if name not in ds.SUPPORTED_DATASETS:
            ds.SUPPORTED_DATASETS.append(name)
    return classes


# ---- the run entry -------------------------------------------------------------------------------------------


class _Absent:
    """Stands for any torchvision name: attribute access gives another stand-in, a call fails."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Absent(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            f"{self._name}: torchvision is not usable in this environment (CPU torch; see "
            "mgsd_eval.vlmeval_datasets.torchvision_stand_in)"
        )

    def __mro_entries__(self, bases):
        return (object,)


class _AbsentModule(types.ModuleType):
    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Absent(f"{self.__name__}.{attr}")


class _TorchvisionFinder:
    """Meta-path finder and loader of the stand-in ``torchvision`` package and every submodule."""

    def find_spec(self, name, path=None, target=None):
        if name == "torchvision" or name.startswith("torchvision."):
            from importlib.machinery import ModuleSpec

            return ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _AbsentModule(spec.name)
        module.__path__ = []
        module.__version__ = "0.0.0+mgsd-stand-in"
        module.MGSD_STAND_IN = True
        return module

    def exec_module(self, module):
        pass


def torchvision_stand_in() -> bool:
    """VLMEvalKit imports ``torchvision`` at module level in dataset and model files an API run never calls
    (``vlmeval.dataset.mmlongbench``, ``mvbench``, ``vlmeval.vlm.*``). On CPU the environment has CPU torch and
    no torchvision (every torchvision wheel on PyPI is a CUDA build that fails to import there; see
    ``requirements/setup_env.sh``). Then a stand-in package is installed in this process: importing from it
    works, calling anything in it raises. Returns whether it was installed (False where torchvision imports)."""
    if any(isinstance(f, _TorchvisionFinder) for f in sys.meta_path):
        return True
    try:
        importlib.import_module("torchvision")
        return False
    except Exception:  # absent, or a CUDA build that cannot load its operators
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
    sys.meta_path.insert(0, _TorchvisionFinder())
    return True


def _quiet_and_redacted_logging(secrets: list[str]) -> None:
    """VLMEvalKit logs the API key (``GPT4V.__init__``: ``API Key: ...``): every log record made in this process
    has the keys replaced by ``***``. Its complaint about a missing ``.env`` next to the package (keys may be
    given there; here they come from the environment) is dropped."""
    secrets = [s for s in secrets if s]
    previous = logging.getLogRecordFactory()

    def redact(text):
        for secret in secrets:
            text = text.replace(secret, "***")
        return text

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if secrets:
            record.msg = redact(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return record

    logging.setLogRecordFactory(factory)

    class _NoDotEnv(logging.Filter):
        def filter(self, record):
            return not str(record.msg).startswith("Did not detect the .env file")

    logging.getLogger().addFilter(_NoDotEnv())


def _served_models(base_url: str, key: str | None) -> list[str]:
    request = urllib.request.Request(
        base_url.rstrip("/") + "/models", headers={"Authorization": f"Bearer {key}"} if key else {}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return [m["id"] for m in json.load(response).get("data", [])]


def safe_name(model: str) -> str:
    """VLMEvalKit's model name (file names under the work dir): the served name with ``/`` and the like
    replaced."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in model) or "model"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m mgsd_eval.vlmeval_datasets",
        description="Run VLMEvalKit (its run.main: inference, prediction files, evaluation, status.json) on the "
        "MGSD_* datasets against an OpenAI-compatible endpoint. Registers the dataset classes in this "
        "process and writes WORK_DIR/vlmeval_config.json (no key in it). Arguments after `--` go to "
        "VLMEvalKit's run.py as they are.",
    )
    p.add_argument(
        "--data",
        action="append",
        required=True,
        choices=sorted(datasets()),
        help="dataset name (repeatable); reads $LMUData/<name>.tsv or $LMUData/MGSD_All.tsv",
    )
    p.add_argument("--work-dir", required=True, help="VLMEvalKit's --work-dir; results in WORK_DIR/<model>/")
    p.add_argument(
        "--base-url", help="endpoint, e.g. http://127.0.0.1:8000/v1 (default OPENAI_BASE_URL or the api config's)"
    )
    p.add_argument("--model", help="served model name (default: the api config's, else the first of GET /models)")
    p.add_argument(
        "--api-config",
        help="api_config_files/*.json (base_url, api_key, model, options, extra_body); "
        "OPENAI_API_KEY wins over its api_key",
    )
    p.add_argument("--max-tokens", type=int, help="default: the api config's, else 4096")
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--timeout", type=int, default=120, help="seconds per request (default: 120)")
    p.add_argument("--retry", type=int, default=5, help="attempts per request (GPT4V's retry; default: 5)")
    p.add_argument("--nproc", type=int, default=8, help="requests in flight (VLMEvalKit's --api-nproc; default: 8)")
    p.add_argument("--img-detail", choices=("low", "high"), default="high", help="GPT4V's image detail (default: high)")
    p.add_argument(
        "--force",
        action="store_true",
        help="start over when WORK_DIR holds a run with other settings or data (its results are deleted)",
    )
    p.add_argument("--dry-run", action="store_true", help="print the resolved settings and the config; run nothing")
    p.add_argument("run_args", nargs=argparse.REMAINDER, help="-- then extra VLMEvalKit run.py arguments")
    return p


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from task_envs.errors import TaskError

    from .endpoints import resolve_endpoint

    try:
        endpoint = resolve_endpoint([args.base_url] if args.base_url else None, args.model, args.api_config)
    except TaskError as exc:
        return _fail(str(exc))
    base_url, key = endpoint.base_urls[0], (endpoint.api_keys or [None])[0]
    if len(endpoint.base_urls) > 1:
        print(f"note: VLMEvalKit's GPT4V talks to one endpoint; using {base_url}", file=sys.stderr)
    model = endpoint.model
    if not model:
        if args.dry_run:
            model = "<first of GET /models>"
        else:
            try:
                served = _served_models(base_url, key)
            except Exception as exc:  # noqa: BLE001 - one line, whatever went wrong
                return _fail(
                    f"no --model given and GET {base_url}/models failed ({type(exc).__name__}); name the model"
                )
            if not served:
                return _fail(f"no --model given and GET {base_url}/models lists none; name the model")
            model = served[0]
            print(
                f"warning: no --model given; using {model!r}, the first of GET /models; name it with MODEL/--model",
                file=sys.stderr,
            )
    options = endpoint.options
    max_tokens = args.max_tokens or options.get("max_tokens") or options.get("max_completion_tokens") or 4096
    name = safe_name(model)
    work_dir = Path(args.work_dir).resolve()
    model_entry = {
        "class": "GPT4V",
        "model": model,
        "api_base": base_url.rstrip("/") + "/chat/completions",
        "temperature": args.temperature,
        "max_tokens": max_tokens,
        "timeout": args.timeout,
        "retry": args.retry,
        "img_detail": args.img_detail,
        "verbose": False,
        **endpoint.extra_body,
    }
    config = {"model": {name: model_entry}, "data": {d: {"class": d, "dataset": d} for d in dict.fromkeys(args.data)}}
    tsvs = {d: tsv_path(d) for d in config["data"]}
    run_args = [a for a in args.run_args if a != "--"] if args.run_args[:1] == ["--"] else list(args.run_args)
    settings = {
        "config": config,
        "run_args": run_args,
        "data": {d: {"tsv": str(p), "sha256": _sha256(p) if p.is_file() else None} for d, p in tsvs.items()},
    }
    print(
        f"VLMEvalKit run: model {model} ({name}) at {model_entry['api_base']}; key: "
        f"{'set' if key else 'none'}; data {', '.join(config['data'])} from {data_root()}; work dir {work_dir}; "
        f"max_tokens {max_tokens}, temperature {args.temperature}, nproc {args.nproc}",
        file=sys.stderr,
    )
    if args.dry_run:
        print(json.dumps(settings, indent=1))
        return 0
    missing = [str(p) for p in tsvs.values() if not p.is_file()]
    if missing:
        return _fail(
            f"{missing[0]} not found; write it with `mgsd data export vlmeval --out {data_root() / (ALL_TSV + '.tsv')}`"
        )

    # One work dir holds one run: VLMEvalKit resumes from the prediction files it finds there (by row index),
    # so a rerun with other data or settings is refused, or with --force started over.
    work_dir.mkdir(parents=True, exist_ok=True)
    stamp = work_dir / "mgsd_vlmeval_run.json"
    if stamp.is_file():
        previous = json.loads(stamp.read_text())
        if previous != settings:
            changed = _first_difference(previous, settings)
            if not args.force:
                return _fail(
                    f"{work_dir} holds a VLMEvalKit run with other settings ({changed}); "
                    "use another OUT or FORCE=1/--force to start over"
                )
            for old in previous.get("config", {}).get("model", {}):
                shutil.rmtree(work_dir / old, ignore_errors=True)
            print(f"--force: starting over ({changed}); removed the previous results", file=sys.stderr)
    stamp.write_text(json.dumps(settings, indent=1))
    config_file = work_dir / "vlmeval_config.json"
    config_file.write_text(json.dumps(config, indent=1))
    # VLMEvalKit dumps each TSV row's image to $LMUData/images/<dataset>/<index>.png and reuses what it finds:
    # a fresh export may reuse indices, so the dumps of these datasets are made again.
    os.environ.setdefault("LMUData", str(data_root()))
    for d in config["data"]:
        shutil.rmtree(Path(os.environ["LMUData"]) / "images" / d, ignore_errors=True)

    if key:
        os.environ["OPENAI_API_KEY"] = key  # GPT4V reads it when its config has no key
    else:
        os.environ.setdefault("OPENAI_API_KEY", "EMPTY")
    os.environ.setdefault("PRED_FORMAT", "tsv")
    _quiet_and_redacted_logging(endpoint.api_keys)
    torchvision_stand_in()
    import vlmeval.run

    register()
    sys.argv = [
        "vlmeval.run",
        "--config",
        str(config_file),
        "--work-dir",
        str(work_dir),
        "--api-nproc",
        str(args.nproc),
        *run_args,
    ]
    vlmeval.run.main()
    return _check_results(work_dir / name, name, list(config["data"]))


def _first_difference(old, new, path: str = "") -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in list(old) + [k for k in new if k not in old]:
            if old.get(k) != new.get(k):
                return _first_difference(old.get(k), new.get(k), f"{path}.{k}" if path else str(k))
    return f"{path}: {json.dumps(old)[:80]} -> {json.dumps(new)[:80]}"


def _check_results(run_dir: Path, model: str, datasets: list[str]) -> int:
    """VLMEvalKit logs a failed dataset and goes on: the exit status comes from its ``status.json``."""
    status_file = run_dir / "status.json"
    status = json.loads(status_file.read_text()).get("datasets", {}) if status_file.is_file() else {}
    code = 0
    for d in datasets:
        entry = status.get(d, {})
        problem = entry.get("error_message") or entry.get("skip_reason")
        if problem or entry.get("status") != "done":
            print(
                f"error: VLMEvalKit {model} x {d}: {problem or entry.get('status') or 'no status'} "
                f"(log: {run_dir.parent / 'logs'})",
                file=sys.stderr,
            )
            code = 1
            continue
        pred = run_dir / (entry.get("prediction_file") or "")
        score = Path(str(pred).rsplit(".", 1)[0] + "_score.json")
        summary = json.loads(score.read_text()) if score.is_file() else {}
        errors = summary.get("micro", {}).get("errors", 0)
        macro = summary.get("all_tasks_macro", {})
        metric = "success" if "success" in macro else "field_accuracy"
        print(
            f"{d}: all-task macro {metric} = {macro.get(metric, float('nan')):.4f} over "
            f"{summary.get('micro', {}).get('n')} cases; predictions {pred}; table {score.with_name(score.name.replace('_score.json', '_acc.csv'))}",
            file=sys.stderr,
        )
        if errors:
            print(
                f"error: {errors} request(s) of {d} failed for good (VLMEvalKit's '{FAIL_MSG}'); rerun to retry them",
                file=sys.stderr,
            )
            code = 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
