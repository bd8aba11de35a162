"""VLMEvalKit benchmark classes for the three tasks; scoring delegates to ``task_envs``.

``vlmeval`` is imported only by :func:`dataset_classes` (it is not on PyPI; install it from its repository).
Everything it would call is in :class:`MGSDBenchmark`, which works without it:

    mgsd data export vlmeval --data data/test --out ~/LMUData/MGSD_Maze.tsv ...   # one TSV per class name
    python -c "from mgsd_eval.vlmeval_datasets import register; register()"      # inside your VLMEvalKit run script

``register()`` adds ``MGSD_FrozenLake``, ``MGSD_Maze``, ``MGSD_MiniBehaviour`` (and ``MGSD_All``) to
``vlmeval.dataset.IMAGE_DATASET``, so ``run.py --data MGSD_Maze --model GPT4V ...`` finds them.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from task_envs import get_task
from task_envs.metrics import summarise

from .pipelines import score_reply
from .summary import summarise_perception

#: dataset name -> tasks it holds (the TSV may hold more; rows are filtered by ``category``)
DATASETS = {"MGSD_FrozenLake": ("frozenlake",), "MGSD_Maze": ("maze",), "MGSD_MiniBehaviour": ("minibehaviour",),
            "MGSD_All": ("frozenlake", "maze", "minibehaviour")}


def tsv_path(name: str) -> Path:
    """Where the class looks for its TSV: ``$MGSD_VLMEVAL_DIR`` or VLMEvalKit's ``$LMUData`` (``~/LMUData``)."""
    root = os.environ.get("MGSD_VLMEVAL_DIR") or os.environ.get("LMUData") or str(Path.home() / "LMUData")
    return Path(root) / f"{name}.tsv"


def read_tsv(path: str | Path) -> list[dict]:
    csv.field_size_limit(1 << 30)
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


class MGSDBenchmark:
    """The benchmark logic (prompt building and scoring), independent of VLMEvalKit."""

    TYPE = "VQA"
    MODALITY = "IMAGE"

    def __init__(self, dataset: str = "MGSD_All"):
        if dataset not in DATASETS:
            raise ValueError(f"unknown MGSD dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
        self.dataset_name = dataset

    def rows(self) -> list[dict]:
        path = tsv_path(self.dataset_name)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: write it with `mgsd data export vlmeval --out {path}`")
        return [r for r in read_tsv(path) if r["category"] in DATASETS[self.dataset_name]]

    @staticmethod
    def message(line, image_path: str) -> list[dict]:
        """VLMEvalKit's multimodal message: the image first, then the prompt (as in training)."""
        return [dict(type="image", value=image_path), dict(type="text", value=line["question"])]

    @staticmethod
    def score_line(line, prediction: str) -> dict:
        record = json.loads(line["record"])
        task = get_task(record["task"])
        kind = "perception" if line.get("kind") == "perception" else "planning"
        return score_reply(kind, task.name, task.from_record(record), str(prediction))[1]

    def score_predictions(self, lines: list[dict]) -> dict:
        """Per task and level and macro summaries of the ``prediction`` column."""
        perception = bool(lines) and lines[0].get("kind") == "perception"
        rows = [{"task": l["category"], "level": int(l["level"]), "scores": self.score_line(l, l.get("prediction", ""))}
                for l in lines]
        return summarise_perception(rows) if perception else summarise(rows)

    def evaluate_file(self, eval_file: str) -> dict:
        """Score a predictions file (TSV here; VLMEvalKit's own ``load`` for xlsx/csv) and write ``*_score.json``."""
        if str(eval_file).endswith(".tsv"):
            lines = read_tsv(eval_file)
        else:
            from vlmeval.smp import load

            lines = load(eval_file).to_dict("records")
        summary = self.score_predictions(lines)
        out = Path(str(eval_file).rsplit(".", 1)[0] + "_score.json")
        out.write_text(json.dumps(summary, indent=1))
        macro = summary["all_tasks_macro"]
        return {k: v for k, v in macro.items() if isinstance(v, float)}


def dataset_classes() -> dict[str, type]:
    """The VLMEvalKit classes (imports vlmeval)."""
    from vlmeval.dataset.image_base import ImageBaseDataset

    classes = {}
    for name in DATASETS:
        def load_data(self, dataset, _name=name):
            import pandas as pd

            return pd.DataFrame(MGSDBenchmark(_name).rows())

        def build_prompt(self, line):
            if isinstance(line, int):
                line = self.data.iloc[line]
            return MGSDBenchmark.message(line, self.dump_image(line)[0])

        def evaluate(self, eval_file, **judge_kwargs):
            return MGSDBenchmark(self.dataset_name).evaluate_file(eval_file)

        classes[name] = type(name, (ImageBaseDataset,), {
            "TYPE": MGSDBenchmark.TYPE, "MODALITY": MGSDBenchmark.MODALITY, "DATASET_URL": {name: ""},
            "DATASET_MD5": {name: None}, "load_data": load_data, "build_prompt": build_prompt, "evaluate": evaluate,
            "supported_datasets": classmethod(lambda cls, _n=name: [_n]),
        })
    return classes


def register() -> dict[str, type]:
    """Add the classes to ``vlmeval.dataset`` so VLMEvalKit's ``run.py --data MGSD_*`` builds them."""
    import vlmeval.dataset as ds

    classes = dataset_classes()
    for name, cls in classes.items():
        if cls not in ds.IMAGE_DATASET:
            ds.IMAGE_DATASET.append(cls)
        setattr(ds, name, cls)
    return classes
