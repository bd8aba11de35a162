"""The OPCD teacher's input and the realignment of its log-probs to the student's response.

The teacher reads, text only, its system prompt and the symbolic state of the same instance (plus
the reference plan unless switched off), then the student's response tokens. Its per-token
log-probs of those response tokens are what the student's are compared with.
"""

from __future__ import annotations

from typing import Any

from task_envs.chat import strip_reference_plan


def teacher_messages_for(extra_info: dict, reference_plan: bool = True) -> list[dict]:
    """System + user turns of the teacher for one verl row's ``extra_info`` (no image)."""
    try:
        system, context = extra_info["teacher_system_prompt"], extra_info["teacher_context"]
    except (KeyError, TypeError):
        raise ValueError(
            "extra_info lacks teacher_system_prompt/teacher_context (export the data with `mgsd data export verl`)"
        ) from None
    if not reference_plan:
        context = strip_reference_plan(context)
    return [{"role": "system", "content": system}, {"role": "user", "content": context}]


def teacher_prompt_ids(tokenizer: Any, messages: list[dict]) -> list[int]:
    """Token ids of the teacher's chat up to the assistant turn's start (generation prompt)."""
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if hasattr(ids, "keys"):  # some tokenizers return a BatchEncoding
        ids = ids["input_ids"]
    return [int(i) for i in ids]


def realign_teacher_outputs(
    teacher_ids, teacher_logprobs, teacher_prompt_len: int, student_prompt_len: int, response_len: int
):
    """Move the teacher's per-position outputs onto the student's sequence layout.

    verl's teacher returns one row per position of the scored sequence, row ``i`` holding the
    log-prob of token ``i + 1`` (the last row a dummy). The teacher scored
    ``teacher_prompt + response``; the trainer reads rows ``[P-1, P+R-1)`` of a sequence laid out as
    ``student_prompt + response`` (``no_padding_2_padding``). This returns tensors of
    ``student_prompt_len + response_len`` rows whose response rows are the teacher's, and whose prompt
    rows (never read) are zero.
    """

    total_t = teacher_prompt_len + response_len
    if teacher_ids.shape[0] != total_t or teacher_logprobs.shape[0] != total_t:
        raise ValueError(
            f"teacher outputs have {teacher_logprobs.shape[0]} rows, expected {total_t} "
            f"(teacher prompt {teacher_prompt_len} + response {response_len})"
        )
    if student_prompt_len < 1 or teacher_prompt_len < 1:
        raise ValueError("prompts must hold at least one token")
    total_s = student_prompt_len + response_len
    ids = teacher_ids.new_zeros((total_s, *teacher_ids.shape[1:]))
    logprobs = teacher_logprobs.new_zeros((total_s, *teacher_logprobs.shape[1:]))
    # Rows predicting the response tokens, plus the trailing dummy row.
    ids[student_prompt_len - 1 :] = teacher_ids[teacher_prompt_len - 1 :]
    logprobs[student_prompt_len - 1 :] = teacher_logprobs[teacher_prompt_len - 1 :]
    return ids, logprobs
