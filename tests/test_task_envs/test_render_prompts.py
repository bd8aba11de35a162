"""Images are 256x256 RGB with the markers where the state says, and prompts describe those colours."""

import numpy as np
import pytest

from task_envs import TASKS, get_task
from task_envs.prompts import PLAN_PROMPTS, load_prompt
from task_envs.render import maze as maze_render
from task_envs.render import minibehaviour as mb_render
from task_envs.render.frozenlake import draw_board, fit_to_canvas, render_frozenlake


def cell_pixels(image, pos, level):
    arr = np.asarray(image)
    cs = 256 / level
    r, c = pos
    return arr[int(r * cs) + 2 : int((r + 1) * cs) - 2, int(c * cs) + 2 : int((c + 1) * cs) - 2].reshape(-1, 3)


def has_colour(pixels, colour):
    return bool((np.abs(pixels.astype(int) - np.array(colour)).sum(axis=1) < 30).any())


@pytest.mark.parametrize("name", TASKS)
def test_images_are_256_rgb(name):
    task = get_task(name)
    for level in task.default_levels:
        image = task.render(task.generate(level, 0))
        assert image.size == (256, 256) and image.mode == "RGB"


def test_maze_markers_sit_on_their_cells():
    task = get_task("maze")
    for seed in range(5):
        inst = task.generate(5, seed)
        image = task.render(inst)
        assert has_colour(cell_pixels(image, inst.start, 5), maze_render.START)
        assert has_colour(cell_pixels(image, inst.target, 5), maze_render.TARGET)
        others = [(r, c) for r in range(5) for c in range(5) if (r, c) not in (inst.start, inst.target)]
        assert not any(has_colour(cell_pixels(image, p, 5), maze_render.START) for p in others)


def test_minibehaviour_objects_sit_on_their_cells():
    task = get_task("minibehaviour")
    for seed in range(5):
        inst = task.generate(6, seed)
        image = task.render(inst)
        assert has_colour(cell_pixels(image, inst.agent, 6), mb_render.AGENT)
        assert has_colour(cell_pixels(image, inst.printer, 6), mb_render.PRINTER)
        assert all(has_colour(cell_pixels(image, t, 6), mb_render.TABLE) for t in inst.table)
        assert not has_colour(cell_pixels(image, inst.agent, 6), mb_render.TABLE)


def test_frozenlake_render_equals_board_resized_like_a_benchmark_image():
    task = get_task("frozenlake")
    for level in range(2, 12):
        inst = task.generate(level, level)
        fast = np.asarray(render_frozenlake(inst.rows))
        reference = np.asarray(fit_to_canvas(draw_board(inst.rows)))
        assert (fast == reference).all()


def test_frozenlake_tiles_differ_by_content():
    task = get_task("frozenlake")
    inst = task.generate(4, 11)
    image = task.render(inst)
    ice = [(r, c) for r in range(4) for c in range(4) if inst.rows[r][c] == "F"]
    assert not (cell_pixels(image, inst.start, 4) == cell_pixels(image, ice[0], 4)).all()
    assert not (cell_pixels(image, inst.goal, 4) == cell_pixels(image, ice[0], 4)).all()


# Colour words each prompt must use, from the renderer's palette.
LEGEND = {
    "frozenlake": ["elf", "present", "hole"],
    "maze": ["yellow", "blue", "black", "white"],
    "minibehaviour": ["red triangle", "white", "printer", "tan", "table", "black floor"],
}
WRONG = {"minibehaviour": ["white marker", "red object"], "maze": ["red dot", "green"]}


@pytest.mark.parametrize("name", TASKS)
@pytest.mark.parametrize("variant", PLAN_PROMPTS + ("perception",))
def test_prompts_match_the_renderer_legend(name, variant):
    text = load_prompt(variant, name)
    for word in LEGEND[name]:
        assert word in text.lower(), f"{variant} prompt for {name} lacks {word!r}"
    for word in WRONG.get(name, []):
        assert word not in text.lower()
    assert ("<answer>" in text and "</answer>" in text) == (variant != "perception")
    assert "<image>" not in text


def test_prompt_variants_differ():
    for name in TASKS:
        assert load_prompt("student", name) != load_prompt("direct", name)
        assert "reason" in load_prompt("student", name).lower()
        assert "nothing else" in load_prompt("direct", name).lower()
