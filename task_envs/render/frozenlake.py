"""FrozenLake boards drawn with gymnasium's own FrozenLake sprites, as the VSP benchmark draws them.

gymnasium scales its 32 px sprites to 64 px cells (boards over 512 px shrink the cells) and outlines
each cell; the board is then resized to 256 x 256 with nearest-neighbour sampling, exactly as an
imported VSP image is, so a generated board and a benchmark image of the same map are pixel-identical.
Nearest-neighbour keeps the pixel art crisp (upstream's Lanczos blurred it into 60-100 KB PNGs that took
~10 ms to encode; these take ~1 ms).

The sprites are those of gymnasium 1.0-1.3 (byte-identical across these versions, listed in ``SPRITES``);
gymnasium 1.4 renamed and redrew them, so the base install pins ``GYMNASIUM_RANGE``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import TaskError
from . import IMAGE_SIZE

OUTLINE = (180, 200, 230)
_MAX_BOARD = 512
#: gymnasium versions whose sprites these are; pyproject.toml's dependency must say the same.
GYMNASIUM_RANGE = ">=1.0,<1.4"
#: Every sprite the board uses (``gymnasium/envs/toy_text/img/<name>.png``) and its sha256 in gymnasium 1.0-1.3.
SPRITES = {
    "ice": "bfb1f584ffcfadd12360a1999d2fb0c10bac32c9a27dc5a29ed08bac103ebcfb",
    "hole": "21439be29a447bb31b7d0f659de6670ce10937112e2df4e6402aacbe861384b2",
    "goal": "38af8e6f3cb5ef78b96343b232d073bdf10fb7c729cc3167ba6c493cf0799b2c",
    "stool": "1b4d1f4e99198703bcbac812c1a4a2d1c17c5f14726b3c675f84dd881ca9d8f7",
    "elf_down": "525ef7ebc75101f104a0501f8c03b76cea3e285bd7a764ac55d95dfe3e941702",
}
#: Sprites drawn on the ice, bottom first, per tile letter.
LAYERS = {"F": (), "H": ("hole",), "G": ("goal",), "S": ("stool", "elf_down")}


def sprite_dir() -> Path:
    import gymnasium.envs.toy_text as toy_text

    return Path(toy_text.__file__).parent / "img"


def sprite_path(name: str) -> Path:
    """The file of sprite ``name``; a one-line error naming the gymnasium range when it is missing."""
    path = sprite_dir() / f"{name}.png"
    if not path.is_file():
        from importlib.metadata import version

        raise TaskError(
            f"{path}: FrozenLake sprite missing in gymnasium {version('gymnasium')}; the renderer needs "
            f"gymnasium{GYMNASIUM_RANGE} (run: pip install 'gymnasium{GYMNASIUM_RANGE}')"
        )
    return path


def _sprite(name: str, cell: int) -> Image.Image:
    with Image.open(sprite_path(name)) as im:
        return im.convert("RGBA").resize((cell, cell), Image.NEAREST)


@cache
def _tiles(cell: int) -> dict[str, np.ndarray]:
    """Finished cell tiles (ice below, sprites above, outline) as uint8 arrays, per tile letter."""
    ice = _sprite("ice", cell)
    tiles = {}
    for letter, names in LAYERS.items():
        tile = ice.copy()
        for name in names:
            tile.alpha_composite(_sprite(name, cell))
        arr = np.array(tile.convert("RGB"))
        arr[0, :] = arr[-1, :] = arr[:, 0] = arr[:, -1] = OUTLINE
        tiles[letter] = arr
    return tiles


def board_cell_size(level: int) -> int:
    return min(64 * level, _MAX_BOARD) // level


@cache
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


@cache
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
