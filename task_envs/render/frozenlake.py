"""FrozenLake boards drawn with gymnasium's own FrozenLake sprites, as the VSP benchmark draws them.

gymnasium scales its 32 px sprites to 64 px cells (boards over 512 px shrink the cells) and outlines
each cell; the board is then resized to 256 x 256 with Lanczos, exactly as an imported VSP image is.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from . import IMAGE_SIZE

OUTLINE = (180, 200, 230)
_MAX_BOARD = 512


def sprite_dir() -> Path:
    import gymnasium.envs.toy_text as toy_text

    return Path(toy_text.__file__).parent / "img"


def _sprite(name: str, cell: int) -> Image.Image:
    with Image.open(sprite_dir() / f"{name}.png") as im:
        return im.convert("RGBA").resize((cell, cell), Image.NEAREST)


@lru_cache(maxsize=None)
def _tiles(cell: int) -> dict[str, np.ndarray]:
    """Finished cell tiles (ice below, sprite above, outline) as uint8 arrays, per tile letter."""
    ice = _sprite("ice", cell)
    layers = {"F": [], "H": ["hole"], "G": ["goal"], "S": ["stool", "elf_down"]}
    tiles = {}
    for letter, names in layers.items():
        tile = ice.copy()
        for name in names:
            tile.alpha_composite(_sprite(name, cell))
        arr = np.array(tile.convert("RGB"))
        arr[0, :] = arr[-1, :] = arr[:, 0] = arr[:, -1] = OUTLINE
        tiles[letter] = arr
    return tiles


def board_cell_size(level: int) -> int:
    return min(64 * level, _MAX_BOARD) // level


def render_frozenlake(rows: tuple[str, ...] | list[str]) -> Image.Image:
    """Draw a map (rows over S/F/H/G) with the agent on the start tile."""
    level = len(rows)
    cell = board_cell_size(level)
    tiles = _tiles(cell)
    board = np.empty((cell * level, cell * level, 3), dtype=np.uint8)
    for r, row in enumerate(rows):
        for c, letter in enumerate(row):
            board[r * cell : (r + 1) * cell, c * cell : (c + 1) * cell] = tiles[letter]
    image = Image.fromarray(board, "RGB")
    return fit_to_canvas(image)


def fit_to_canvas(image: Image.Image) -> Image.Image:
    """Resize any board image to the project's 256 x 256 RGB canvas (Lanczos)."""
    image = image.convert("RGB")
    if image.size != (IMAGE_SIZE, IMAGE_SIZE):
        image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.LANCZOS)
    return image
