"""What OPCD optimises, measured on held-out prompts: the student's reverse KL to its text teacher on the
student's own samples, and whether those samples are well-formed answers.

    python -m mgsd_opcd.probe --student DIR --teacher DIR --data val.parquet [--samples 2] [--seed 0]

prints one JSON object: ``reverse_kl`` (per sequence, the mean over response tokens of
``log p_student - log p_teacher``; averaged over sequences, as the trainers' ``actor/reverse_kl``),
``format``, ``parse``, ``success`` (rates over the samples) and ``n``. The student reads the image prompt,
the teacher its symbolic context, exactly as in training (``sp_model.student_logprobs`` /
``teacher_logprobs``), so a checkpoint of either trainer can be compared with the one it started from.
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

from .reward import score_response
from .sp_data import read_rows
from .sp_model import eos_ids, generate, load_model, load_processor, student_inputs, student_logprobs, teacher_logprobs


@torch.no_grad()
def probe(
    student,
    teacher,
    processor,
    teacher_tokenizer,
    rows,
    *,
    samples: int = 2,
    max_new_tokens: int = 24,
    seed: int = 0,
    reference_plan: bool = True,
    batch_size: int = 8,
) -> dict:
    """Reverse KL and answer-format rates of ``student`` against ``teacher`` on ``rows`` (``samples`` each)."""
    device = next(student.parameters()).device
    student.eval()
    teacher.eval()
    eos = eos_ids(student, processor.tokenizer)
    cases = [row for row in rows for _ in range(samples)]
    torch.manual_seed(seed)
    kls, scores = [], []
    for start in range(0, len(cases), batch_size):
        part = cases[start : start + batch_size]
        inputs = student_inputs(processor, part, device)
        responses = generate(student, processor, inputs, max_new_tokens, 1.0, 1.0, eos)
        logp, mask = student_logprobs(student, processor, part, responses, device)
        t_logp = teacher_logprobs(teacher, teacher_tokenizer, part, responses, reference_plan, device)
        kls += (((logp - t_logp) * mask).sum(1) / mask.sum(1).clamp_min(1)).tolist()
        texts = processor.tokenizer.batch_decode(responses, skip_special_tokens=True)
        scores += [score_response(row.extra_info, text) for row, text in zip(part, texts)]
    rate = lambda key: sum(s[key] for s in scores) / len(scores)  # noqa: E731
    return {
        "reverse_kl": sum(kls) / len(kls),
        "format": rate("format"),
        "parse": rate("parse"),
        "success": rate("success"),
        "n": len(cases),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mgsd_opcd.probe", description=__doc__.splitlines()[0])
    parser.add_argument("--student", required=True, help="Hugging Face folder of the student")
    parser.add_argument("--teacher", required=True, help="Hugging Face folder of the text teacher")
    parser.add_argument("--data", required=True, help="verl parquet of held-out cases (mgsd data export verl)")
    parser.add_argument("--limit", type=int, default=0, help="first N cases only (0: all)")
    parser.add_argument("--samples", type=int, default=2, help="student samples per case")
    parser.add_argument("--max-new-tokens", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-reference-plan", action="store_true", help="the teacher's context without the plan")
    args = parser.parse_args(argv)
    try:
        rows = read_rows(args.data)[: args.limit or None]
        processor = load_processor(args.student, 65536, 262144)
        teacher_tokenizer = load_processor(args.teacher, 65536, 262144).tokenizer
        student = load_model(args.student, torch.float32, torch.device("cpu"))
        teacher = load_model(args.teacher, torch.float32, torch.device("cpu"))
    except (OSError, ValueError) as exc:
        print(f"mgsd_opcd.probe: error: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    print(
        json.dumps(
            probe(
                student,
                teacher,
                processor,
                teacher_tokenizer,
                rows,
                samples=args.samples,
                max_new_tokens=args.max_new_tokens,
                seed=args.seed,
                reference_plan=not args.no_reference_plan,
            )
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
