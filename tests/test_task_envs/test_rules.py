"""Every canonical rule of DESIGN.md, one test each (answers, simulation, metrics)."""

import pytest

from task_envs import get_task, parse_answer
from task_envs.frozenlake import FrozenLakeInstance
from task_envs.maze import MazeInstance, walls_from_layout
from task_envs.minibehaviour import MiniBehaviourInstance, table_cells

FL = get_task("frozenlake")
MAZE = get_task("maze")
MB = get_task("minibehaviour")

# S F F
# F H F
# F F G
LAKE = FrozenLakeInstance(3, ("SFF", "FHF", "FFG"))


def open_maze(level, start, target):
    """A maze with only the border walled (not perfect, but handy for rule tests)."""
    layout = [
        [{"north": r == 0, "south": r == level - 1, "west": c == 0, "east": c == level - 1} for c in range(level)]
        for r in range(level)
    ]
    return MazeInstance(level, walls_from_layout(layout, level), start, target)


# A room:  row 0: A . . . .
#          row 1: . P . . .
#          row 2: . . . . .
#          row 3: T T T . .
#          row 4: T T T . .
ROOM = MiniBehaviourInstance(5, (0, 0), (1, 1), table_cells(3, 0))


# ---- answers ------------------------------------------------------------------------------
def test_last_answer_block_is_the_plan():
    text = "Example: <answer>left</answer>. My plan: <answer>right, right</answer>"
    assert parse_answer(text, "maze").actions == ("right", "right")


def test_no_block_is_a_format_failure_with_no_actions():
    parsed = parse_answer("go right then down", "maze")
    assert parsed.actions == () and not parsed.has_block and not parsed.ok
    scores = FL.score(LAKE, "right right down down")
    assert scores["format"] == 0 and scores["parse"] == 0 and scores["success"] == 0


def test_unclosed_block_is_not_a_block():
    assert not parse_answer("<answer>right, down", "maze").has_block


def test_lenient_mode_reads_untagged_text_and_skips_unknown_words():
    parsed = parse_answer("I would go right, right then down, down.", "frozenlake", lenient=True)
    assert parsed.actions == ("right", "right", "down", "down")
    assert FL.score(LAKE, "Moves: R R D D", lenient=True)["success"] == 1
    assert FL.score(LAKE, "Moves: R R D D", lenient=True)["format"] == 0


@pytest.mark.parametrize(
    "body, expected",
    [
        ("up, down, left, right", ("up", "down", "left", "right")),
        ("U D L R", ("up", "down", "left", "right")),
        ("RRDL", ("right", "right", "down", "left")),
        ("→ → ↓ ←", ("right", "right", "down", "left")),
        ("Right -> Right -> Down", ("right", "right", "down")),
        ("1. up\n2. left", None),  # numbering digits are invalid tokens
    ],
)
def test_accepted_move_spellings(body, expected):
    parsed = parse_answer(f"<answer>{body}</answer>", "maze")
    if expected is None:
        assert parsed.invalid_tokens and not parsed.ok
    else:
        assert parsed.actions == expected and parsed.ok


def test_pick_and_drop_only_for_minibehaviour():
    mb = parse_answer("<answer>up, pick up, left, put down</answer>", "minibehaviour")
    assert mb.actions == ("up", "pick", "left", "drop") and mb.ok
    assert parse_answer("<answer>UUPICKRDROP</answer>", "minibehaviour").actions == (
        "up",
        "up",
        "pick",
        "right",
        "drop",
    )
    maze = parse_answer("<answer>up, pick</answer>", "maze")
    assert maze.invalid_tokens == ("pick",) and not maze.ok


def test_an_invalid_token_makes_the_block_unparseable_and_nothing_is_played():
    scores = FL.score(LAKE, "<answer>right, right, jump, down, down</answer>")
    assert scores["parse"] == 0 and scores["format"] == 1 and scores["success"] == 0 and scores["steps"] == 0


# ---- simulation ----------------------------------------------------------------------------
def test_frozenlake_off_grid_is_illegal():
    out = FL.simulate(LAKE, ["up", "right"])
    assert out.illegal and out.reason == "off_grid" and out.steps == 1 and not out.success


def test_frozenlake_hole_is_a_fall_not_illegal():
    out = FL.simulate(LAKE, ["right", "down", "down"])
    assert out.fell and not out.illegal and out.steps == 2
    scores = FL.score(LAKE, "<answer>right, down</answer>")
    assert scores["fell"] == 1 and scores["illegal"] == 0


def test_success_at_first_arrival_and_trailing_actions_ignored():
    out = FL.simulate(LAKE, ["right", "right", "down", "down", "up", "up", "up", "up"])
    assert out.success and out.steps == 4
    scores = FL.score(LAKE, "<answer>R R D D U U U U</answer>")
    assert scores["success"] == 1 and scores["optimal"] == 1


def test_maze_wall_is_illegal():
    inst = open_maze(3, (0, 0), (2, 2))
    out = MAZE.simulate(inst, ["left"])
    assert out.illegal and out.reason == "wall"
    perfect = MAZE.generate(4, 3)
    r, c = perfect.start
    blocked = [m for m in MAZE.actions if m not in perfect.open_moves((r, c))]
    assert MAZE.simulate(perfect, blocked[:1]).illegal


def test_maze_reaching_target_succeeds():
    inst = open_maze(3, (0, 0), (0, 2))
    assert MAZE.simulate(inst, ["right", "right"]).success


def test_minibehaviour_table_cell_is_illegal():
    out = MB.simulate(ROOM, ["down", "down", "down"])
    assert out.illegal and out.reason == "table" and out.steps == 3


def test_minibehaviour_printer_blocked_until_carried():
    out = MB.simulate(ROOM, ["down", "right"])
    assert out.illegal and out.reason == "printer"
    out = MB.simulate(ROOM, ["down", "pick", "right"])
    assert not out.illegal and out.states[-1] == (1, 1, True)


def test_minibehaviour_pick_needs_adjacency_and_drop_needs_carrying_next_to_table():
    assert MB.simulate(ROOM, ["pick"]).reason == "not_next_to_printer"
    assert MB.simulate(ROOM, ["down", "drop"]).reason == "not_carrying"
    assert MB.simulate(ROOM, ["down", "pick", "pick"]).reason == "already_carrying"
    assert MB.simulate(ROOM, ["down", "pick", "up", "drop"]).reason == "not_next_to_table"


def test_minibehaviour_first_legal_drop_succeeds():
    plan = ["down", "pick", "down", "drop", "up", "up"]
    out = MB.simulate(ROOM, plan)
    assert out.success and out.steps == 4
    assert MB.optimal_length(ROOM) == 4


def test_minibehaviour_off_grid_is_illegal():
    assert MB.simulate(ROOM, ["up"]).reason == "off_grid"


# ---- metrics -------------------------------------------------------------------------------
def test_optimal_needs_optimal_length():
    longer = FL.score(LAKE, "<answer>down, down, right, right</answer>")
    assert longer["success"] == 1 and longer["optimal"] == 1
    detour = FL.score(LAKE, "<answer>right, right, left, right, down, down</answer>")
    assert detour["success"] == 1 and detour["optimal"] == 0


def test_progress_rate_counts_the_prefix_on_an_optimal_path():
    assert FL.progress(LAKE, ["right", "right", "down", "down"]) == 1.0
    assert FL.progress(LAKE, ["right", "right", "up"]) == 0.5
    assert FL.progress(LAKE, ["left"]) == 0.0
    assert FL.progress(LAKE, ["right", "left", "right", "right", "down", "down"]) == 0.25
    assert MB.progress(ROOM, ["down", "pick", "right"]) == pytest.approx(2 / 4)


def test_score_keys():
    scores = MB.score(ROOM, MB.oracle_response(ROOM))
    for key in ("success", "optimal", "progress", "format", "parse", "illegal", "fell"):
        assert key in scores
    assert scores["success"] == scores["optimal"] == scores["parse"] == scores["format"] == 1
