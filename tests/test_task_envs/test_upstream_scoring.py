"""``scoring="upstream"``: upstream MGSD's checkpoint-evaluation reading of replies, one hand-written case per
quirk (docs/scoring.md lists them with their upstream source), and its pooled all-task macro.

The same reading was checked against upstream's own ``parse_actions`` and ``eval_*`` functions (commit 53b731a)
on 600,000 random texts over an alphabet of its quirks and 27,000 plays of generated instances: no difference
(see the closing note of the session that added it; upstream's code is not vendored here)."""

import pytest

from task_envs import get_task, parse_answer
from task_envs.frozenlake import FrozenLakeInstance
from task_envs.metrics import PAPER, format_table, summarise
from task_envs.minibehaviour import MiniBehaviourInstance, table_cells

FL, MAZE, MB = get_task("frozenlake"), get_task("maze"), get_task("minibehaviour")
# S F F
# F H F
# F F G
LAKE = FrozenLakeInstance(3, ("SFF", "FHF", "FFG"))
# row 0: A . . . .  / row 1: . P . . . / row 2: . . . . . / rows 3-4: T T T . .
ROOM = MiniBehaviourInstance(5, (0, 0), (1, 1), table_cells(3, 0))


def up(text, task="frozenlake"):
    parsed = parse_answer(text, task, scoring="upstream")
    return parsed.actions, parsed.invalid_tokens


@pytest.mark.parametrize(
    "text, actions",
    [
        # no tag: the whole text is read, stray words included
        ("go up then left. RRDD", ("up", "left")),
        ("I'd go right", ("down", "right")),  # the "d" of "I'd" is a word-bounded token
        # the compact path (FrozenLake/Maze): separators , ; | / > - and whitespace removed, then LRUD0123 per character
        ("<answer>R, R -> D | D</answer>", ("right", "right", "down", "down")),
        ("<answer>rrdd</answer>", ("right", "right", "down", "down")),  # upper-cased first
        ("<answer>2 2 1 1</answer>", ("right", "right", "down", "down")),  # digits 0-3: left, down, right, up
        ("<answer>RRDL.</answer>", ()),  # a dot breaks the compact path, and RRDL. is no word-bounded token
        # word spellings: -ward(s) as moves; arrows are not read
        ("<answer>Leftwards, upward</answer>", ("left", "up")),
        ("<answer>→ → ↓ ↓</answer>", ()),
    ],
)
def test_reading_of_moves(text, actions):
    assert up(text)[0] == actions


def test_the_block_is_the_last_non_overlapping_match():
    # each match runs from an <answer> to the first </answer> after it; a nested open tag stays inside
    assert parse_answer("<answer>up <answer>down</answer>", "maze", scoring="upstream").answer_text == "up <answer>down"
    text = "e.g. <answer>left</answer> so <answer> right </answer> and <answer>up"
    parsed = parse_answer(text, "maze", scoring="upstream")
    assert parsed.answer_text == "right" and parsed.has_block and parsed.actions == ("right",)


def test_unknown_words_are_ignored_and_invalid_tokens_still_play():
    # strict reading: an unknown word makes the plan unplayable; upstream: ignored
    assert FL.score(LAKE, "<answer>right then right, down and down</answer>")["success"] == 0
    assert FL.score(LAKE, "<answer>right then right, down and down</answer>", scoring="upstream")["success"] == 1
    # PICK/DROP/4/5 are invalid outside MiniBehaviour: parse fails, the moves are played all the same
    scores = FL.score(LAKE, "<answer>right right pick down down</answer>", scoring="upstream")
    assert scores["success"] == 1 and scores["parse"] == 0
    assert up("<answer>R 4 R 5</answer>") == (("right", "right"), ("4", "5"))


@pytest.mark.parametrize(
    "text, actions",
    [
        (
            "<answer>D, D, R, pick up, R, R, D, PLACE</answer>",
            ("down", "down", "right", "pick", "up", "right", "right", "down", "drop"),
        ),  # "pick up" is pick then up
        ("<answer>grab 5 4 drop pick-up pickup</answer>", ("pick", "drop", "pick", "drop", "pick", "pick")),
        ("<answer>put down</answer>", ("down",)),  # a bare PUT is never matched
        ("<answer>UUPICK</answer>", ()),  # no compact path for MiniBehaviour
        ("<answer>0 1 2 3</answer>", ("left", "down", "right", "up")),
    ],
)
def test_reading_of_minibehaviour(text, actions):
    assert up(text, "minibehaviour")[0] == actions


def test_play_stops_at_success_and_optimal_counts_the_steps_played():
    # trailing actions after the goal are ignored, as in the strict reading
    scores = FL.score(LAKE, "<answer>RRDDLL</answer>", scoring="upstream")
    assert scores["success"] == 1 and scores["optimal"] == 1
    # off-grid is a failure (upstream's evaluation, unlike its training reward)
    assert FL.score(LAKE, "<answer>U R R D D</answer>", scoring="upstream")["success"] == 0
    # MiniBehaviour: the first legal drop succeeds
    plan = ", ".join(MB.optimal_plan(ROOM))
    assert MB.score(ROOM, f"<answer>{plan}, up</answer>", scoring="upstream")["optimal"] == 1


def test_readings_give_both_and_the_summary_pools_cases_within_a_task():
    _, scores = FL.score_readings(LAKE, "Moves: R R D D", "strict")
    assert scores["success"] == 0 and scores["upstream_success"] == 1 and scores["upstream_optimal"] == 1
    # two levels of unequal size: ours averages levels, upstream pools cases
    rows = [{"task": "maze", "level": 3, "scores": {"success": 1, "upstream_success": 1, "upstream_optimal": 1}}]
    rows += [{"task": "maze", "level": 4, "scores": {"success": 0, "upstream_success": 0, "upstream_optimal": 0}}] * 3
    rows += [{"task": "frozenlake", "level": 3, "scores": {"success": 1, "upstream_success": 1, "upstream_optimal": 0}}]
    summary = summarise(rows, ("success", "upstream_success", "upstream_optimal"))
    assert summary["all_tasks_macro"]["success"] == pytest.approx((0.5 + 1) / 2)
    assert summary["pooled_macro"]["upstream_success"] == pytest.approx((0.25 + 1) / 2)
    assert PAPER == "pooled_macro.upstream_success"


def test_score_cli_prints_the_upstream_line(tmp_path):
    rows = [{"task": "frozenlake", "level": 3, "scores": FL.score_readings(LAKE, "<answer>R R D D</answer>")[1]}]
    table = format_table(summarise(rows))
    assert "compares with the paper): success 1.000, optimal 1.000" in table
