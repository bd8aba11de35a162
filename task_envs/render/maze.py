"""Maze boards in upstream's look: black walls, white corridors, a yellow start and a blue target dot."""

from __future__ import annotations

from PIL import Image, ImageDraw

from . import IMAGE_SIZE

WALL = (0, 0, 0)
CORRIDOR = (255, 255, 255)
OPEN_BORDER = (224, 224, 224)
START = (255, 215, 0)
TARGET = (30, 90, 255)
_SOUTH, _EAST = 2, 8


def render_maze(walls, start, target) -> Image.Image:
    """Draw wall masks (bits N=1, S=2, W=4, E=8) with the start and target markers."""
    level = len(walls)
    cs = IMAGE_SIZE / level
    w = max(2, int(cs / 4))
    half = w / 2
    line = max(1, int(cs / 16))
    image = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), WALL)
    draw = ImageDraw.Draw(image)
    for r in range(level):
        for c in range(level):
            x0, y0 = c * cs, r * cs
            draw.rectangle([x0 + half, y0 + half, x0 + cs - half - 1, y0 + cs - half - 1], fill=CORRIDOR)
            mask = walls[r][c]
            if r + 1 < level and not mask & _SOUTH:
                draw.rectangle([x0 + half, y0 + cs - half - 1, x0 + cs - half - 1, y0 + cs + half], fill=CORRIDOR)
                draw.line([x0 + half, y0 + cs, x0 + cs - half - 1, y0 + cs], fill=OPEN_BORDER, width=line)
            if c + 1 < level and not mask & _EAST:
                draw.rectangle([x0 + cs - half - 1, y0 + half, x0 + cs + half, y0 + cs - half - 1], fill=CORRIDOR)
                draw.line([x0 + cs, y0 + half, x0 + cs, y0 + cs - half - 1], fill=OPEN_BORDER, width=line)
    radius = max(3, int((cs - w) * 0.25))
    for (r, c), colour in ((start, START), (target, TARGET)):
        cx, cy = (c + 0.5) * cs, (r + 0.5) * cs
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=colour)
    return image
