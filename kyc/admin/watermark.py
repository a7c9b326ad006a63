"""Watermarking retained images shown to a reviewer: their name and the time, tiled across.

Pure: bytes in, JPEG bytes out. A screenshot or a saved copy carries who looked at it.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont, ImageOps

__all__ = ["watermark_image"]

_MAX_SIDE = 1600  # pixels; larger photos are shrunk for display


def watermark_image(data: bytes, text: str, *, quality: int = 88) -> bytes:
    img = Image.open(io.BytesIO(data))
    img.load()
    img = ImageOps.exif_transpose(img).convert("RGB")
    img.thumbnail((_MAX_SIDE, _MAX_SIDE))
    w, h = img.size
    size = max(12, min(w, h) // 14)
    font = ImageFont.load_default(size=size)
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    tw, th = right - left, bottom - top
    step_y = max(th * 3, 1)
    row = 0
    for y in range(-th, h + th, step_y):
        offset = (row % 2) * (tw // 2)
        for x in range(-offset, w + tw, tw + size * 2):
            draw.text((x + 1, y + 1), text, font=font, fill=(0, 0, 0, 110))
            draw.text((x, y), text, font=font, fill=(255, 255, 255, 150))
        row += 1
    out = Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")
    buf = io.BytesIO()
    out.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
