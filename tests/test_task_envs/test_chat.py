"""Who sees what: the student never gets the symbolic state, the teacher never gets an image."""

import json

import pytest

from task_envs import TASKS, get_task
from task_envs.chat import (
    IMAGE_TOKEN,
    REFERENCE_PLAN_LABEL,
    content_parts,
    strip_reference_plan,
    student_messages,
    symbolic_messages,
    teacher_context,
    teacher_messages,
)
from task_envs.prompts import load_prompt


def _instance(task, level=5, seed=3):
    return get_task(task).generate(level, seed)


@pytest.mark.parametrize("task", TASKS)
def test_teacher_input_is_text_only_and_holds_the_state(task):
    inst = _instance(task)
    messages = teacher_messages(task, inst)
    text = json.dumps(messages)
    assert IMAGE_TOKEN not in text and "image" not in {
        p.get("type") for m in messages for p in content_parts(m["content"])
    }
    assert [m["role"] for m in messages] == ["system", "user"]
    assert get_task(task).symbolic_state(inst) in messages[1]["content"]
    plan = ", ".join(get_task(task).optimal_plan(inst))
    assert f"{REFERENCE_PLAN_LABEL} {plan}" in messages[1]["content"]
    assert messages[0]["content"] == load_prompt("teacher", task)


@pytest.mark.parametrize("task", TASKS)
def test_student_input_has_the_image_and_no_symbolic_state(task):
    inst = _instance(task)
    (message,) = student_messages(task)
    assert message["role"] == "user" and message["content"].startswith(IMAGE_TOKEN)
    state = get_task(task).symbolic_state(inst)
    for line in state.splitlines()[1:]:  # every line naming positions, maps or walls
        assert line not in message["content"]
    assert "Reference plan" not in message["content"]
    assert content_parts(message["content"])[0] == {"type": "image"}


@pytest.mark.parametrize("task", TASKS)
def test_reference_plan_switch(task):
    inst = _instance(task)
    with_plan, without = teacher_context(task, inst, True), teacher_context(task, inst, False)
    assert REFERENCE_PLAN_LABEL not in without
    assert strip_reference_plan(with_plan) == without


@pytest.mark.parametrize("task", TASKS)
def test_symbolic_query_is_text_only(task):
    inst = _instance(task)
    (message,) = symbolic_messages(task, inst)
    assert IMAGE_TOKEN not in message["content"]
    assert message["content"].endswith(get_task(task).symbolic_state(inst))
    assert "<answer>" in message["content"]  # the same output format as the student


def test_content_parts_order():
    assert content_parts("a<image>b") == [
        {"type": "text", "text": "a"},
        {"type": "image"},
        {"type": "text", "text": "b"},
    ]
    assert content_parts("<image>") == [{"type": "image"}]
