"""FrozenLake boards drawn with gymnasium's own FrozenLake sprites, as the VSP benchmark draws them.

gymnasium scales its 32 px sprites to 64 px cells (boards over 512 px shrink the cells) and outlines
each cell; the board is then resized to 256 x 256 with nearest-neighbour sampling, exactly as an
imported VSP image is, so a generated board and a benchmark image of the same map are pixel-identical.
Nearest-neighbour keeps the pixel art crisp (upstream's Lanczos blurred it into 60-100 KB PNGs that took
~10 ms to encode; these take ~1 ms).
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


@lru_cache(maxsize=None)
def _sampling(level: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each output pixel comes from: (cell index r*level+c, offset y*cell+x inside the tile).

    Obtained by resizing an image of board-pixel indices with PIL itself, so that rendering by
    gathering is pixel-identical to :func:`draw_board` followed by :func:`fit_to_canvas`.
    """
    cell = board_cell_size(level)
    side = cell * level
    index = Image.fromarray(np.arange(side * side, dtype=np.int32).reshape(side, side))
    if side != IMAGE_SIZE:
        index = index.resize((IMAGE_SIZE, IMAGE_SIZE), Image.NEAREST)
    y, x = np.divmod(np.asarray(index, dtype=np.intp), side)
    return (y // cell) * level + x // cell, (y % cell) * cell + x % cell


_TILE_INDEX = {"F": 0, "H": 1, "G": 2, "S": 3}


@lru_cache(maxsize=None)
def _tile_stack(cell: int) -> np.ndarray:
    """All tiles as one (4 * cell * cell, 3) array, in _TILE_INDEX order."""
    tiles = _tiles(cell)
    return np.concatenate([tiles[letter].reshape(-1, 3) for letter in _TILE_INDEX])


def render_frozenlake(rows: tuple[str, ...] | list[str]) -> Image.Image:
    """Draw a map (rows over S/F/H/G) with the agent on the start tile."""
    level = len(rows)
    cell = board_cell_size(level)
    cell_of_pixel, offset = _sampling(level)
    tile_of_cell = np.array([_TILE_INDEX[t] * cell * cell for row in rows for t in row], dtype=np.intp)
    source = np.take(tile_of_cell, cell_of_pixel) + offset
    return Image.fromarray(np.take(_tile_stack(cell), source, axis=0))


def draw_board(rows: tuple[str, ...] | list[str]) -> Image.Image:
    """The board at gymnasium's resolution (64 px cells, at most 512 px), before resizing."""
    level = len(rows)
    cell = board_cell_size(level)
    tiles = _tiles(cell)
    board = np.empty((cell * level, cell * level, 3), dtype=np.uint8)
    for r, row in enumerate(rows):
        for c, letter in enumerate(row):
            board[r * cell : (r + 1) * cell, c * cell : (c + 1) * cell] = tiles[letter]
    return Image.fromarray(board)


def fit_to_canvas(image: Image.Image) -> Image.Image:
    """Resize any board image to the project's 256 x 256 RGB canvas (nearest-neighbour)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    if image.size != (IMAGE_SIZE, IMAGE_SIZE):
        image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.NEAREST)
    return image
