"""A preview for a scene that has no image: an SVG card naming it, drawn from its digest.

Rendering a GLB on the server would need a GPU or a software renderer and a
3D library to keep up to date, for a picture staff can upload themselves; so a
scene without ``preview.png`` gets this card instead, never a broken image.
The colours and the 5x5 symmetric pattern come from the GLB's SHA-256, so each
version looks the same every time and two versions look different.

The output is plain SVG with presentation attributes only (no ``style``, no
script, no external reference), so the pages' Content-Security-Policy allows
it as an image and nothing in it can run; every text is XML-escaped.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 360
CELLS = 5
CELL = 28
MAX_TITLE_CHARS = 22
CONTENT_TYPE = "image/svg+xml"


def placeholder_svg(title: str, slug: str, sha256: str, version: int = 1) -> bytes:
    """The SVG card for one scene version; ``sha256`` is its GLB's digest (hex)."""
    digest = bytes.fromhex(sha256)
    hue = int.from_bytes(digest[:2], "big") % 360
    background = f"hsl({hue},45%,92%)"
    ink = f"hsl({hue},55%,32%)"
    accent = f"hsl({(hue + 40) % 360},60%,55%)"
    grid_x, grid_y = 56, (HEIGHT - CELLS * CELL) // 2
    cells = []
    for row in range(CELLS):
        for col in range((CELLS + 1) // 2):
            bit = row * 3 + col
            if digest[2 + bit // 8] >> (bit % 8) & 1:
                for x in {col, CELLS - 1 - col}:  # mirrored, like an identicon
                    cells.append(
                        f'<rect x="{grid_x + x * CELL}" y="{grid_y + row * CELL}" '
                        f'width="{CELL}" height="{CELL}" rx="4" fill="{accent}"/>'
                    )
    shown = title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"
    text_x = grid_x + CELLS * CELL + 48
    label = f"{slug} · v{version}"
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(shown, _QUOTES)}">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{background}"/>'
        f"{''.join(cells)}"
        f'<text x="{text_x}" y="{HEIGHT // 2 - 6}" font-family="sans-serif" font-size="28" '
        f'font-weight="bold" fill="{ink}">{escape(shown)}</text>'
        f'<text x="{text_x}" y="{HEIGHT // 2 + 30}" font-family="monospace" font-size="18" '
        f'fill="{ink}">{escape(label)}</text>'
        f'<text x="{text_x}" y="{HEIGHT // 2 + 58}" font-family="monospace" font-size="14" '
        f'fill="{ink}" opacity="0.7">{sha256[:12]}</text>'
        "</svg>"
    )
    return svg.encode()


_QUOTES = {'"': "&quot;"}
