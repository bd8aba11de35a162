"""The parser never raises and stays fast on arbitrary and adversarial text."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from task_envs import TASKS, get_task, parse_answer
from task_envs.answers import SCORINGS

ALPHABET = st.sampled_from(list("<>/answerANSWER udlrUDLR,;.-→←↑↓ \n\tpickdrop0123é漢😀"))
fragments = st.lists(
    st.one_of(
        st.text(ALPHABET, max_size=20), st.sampled_from(["<answer>", "</answer>", "<ANSWER>", "pick up", "RRDL"])
    ),
    max_size=30,
)


@settings(max_examples=400, deadline=None)
@given(parts=fragments, task=st.sampled_from(TASKS), scoring=st.sampled_from(SCORINGS))
def test_parser_never_raises(parts, task, scoring):
    text = "".join(parts)
    parsed = parse_answer(text, task, scoring=scoring)
    allowed = set(get_task(task).actions)
    assert set(parsed.actions) <= allowed
    if parsed.has_block:
        assert parsed.answer_text is not None


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), task=st.sampled_from(TASKS))
def test_score_never_raises_on_any_text(text, task):
    t = get_task(task)
    instance = t.generate(t.default_levels[0], 7)
    _, scores = t.score_readings(instance, text)
    assert 0.0 <= scores["progress"] <= 1.0
    assert scores["optimal"] <= scores["success"] and scores["upstream_optimal"] <= scores["upstream_success"]


@pytest.mark.parametrize(
    "text",
    [
        "<answer>" * 20_000,
        "</answer>" * 20_000,
        "<answer>" * 10_000 + "</answer>",
        "<answer>" + "R" * 200_000 + "</answer>",
        "<answer>" + "UPICK" * 20_000 + "</answer>",
        "<answer>" + "pick " * 20_000 + "</answer>",
        "<answer>" + "-> " * 50_000 + "</answer>",
        "a" * 300_000,
        "<answer>" + "x" * 300_000 + "</answer>",
    ],
)
def test_adversarial_inputs_are_linear(text):
    t0 = time.perf_counter()
    for task in TASKS:
        parse_answer(text, task)
        parse_answer(text, task, lenient=True)
        parse_answer(text, task, scoring="upstream")
    assert time.perf_counter() - t0 < 5.0
