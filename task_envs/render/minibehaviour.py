"""MiniBehaviour rooms in upstream's look: black floor, tan table, white printer icon, red agent triangle."""

from __future__ import annotations

from PIL import Image, ImageDraw

from . import IMAGE_SIZE

BACKGROUND = (96, 96, 96)
FLOOR = (0, 0, 0)
TABLE = (181, 143, 96)
PRINTER = (255, 255, 255)
PRINTER_DETAIL = (0, 0, 0)
AGENT = (255, 24, 16)
GRID_LINE = (60, 60, 60)


def _printer(draw: ImageDraw.ImageDraw, x0: float, y0: float, cs: float) -> None:
    """A printer icon: paper sheet on top, a body with a black slot and a status dot, a tray below."""

    def box(fx0, fy0, fx1, fy1, fill):
        draw.rectangle([x0 + fx0 * cs, y0 + fy0 * cs, x0 + fx1 * cs, y0 + fy1 * cs], fill=fill)

    box(0.30, 0.14, 0.70, 0.36, PRINTER)  # paper
    box(0.14, 0.34, 0.86, 0.70, PRINTER)  # body
    box(0.24, 0.50, 0.76, 0.56, PRINTER_DETAIL)  # output slot
    box(0.70, 0.40, 0.78, 0.46, PRINTER_DETAIL)  # status dot
    box(0.22, 0.72, 0.78, 0.84, PRINTER)  # tray


def render_minibehaviour(level: int, agent, printer, table) -> Image.Image:
    cs = IMAGE_SIZE / level
    image = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, IMAGE_SIZE - 1, IMAGE_SIZE - 1], fill=FLOOR)
    for r, c in table:
        draw.rectangle([c * cs + 1, r * cs + 1, (c + 1) * cs - 2, (r + 1) * cs - 2], fill=TABLE)
    _printer(draw, printer[1] * cs, printer[0] * cs, cs)
    ar, ac = agent
    x0, y0 = ac * cs, ar * cs
    draw.polygon(
        [(x0 + 0.2 * cs, y0 + 0.2 * cs), (x0 + 0.82 * cs, y0 + 0.5 * cs), (x0 + 0.2 * cs, y0 + 0.8 * cs)], fill=AGENT
    )
    for i in range(level + 1):
        p = min(round(i * cs), IMAGE_SIZE - 1)
        draw.line([(p, 0), (p, IMAGE_SIZE - 1)], fill=GRID_LINE, width=1)
        draw.line([(0, p), (IMAGE_SIZE - 1, p)], fill=GRID_LINE, width=1)
    return image
