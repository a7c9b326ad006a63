"""A corpus of broken and unusual images, generated (nothing is committed but this code).

Every entry is (name, bytes). ``broken_corpus`` is what an attacker or a bad camera app
sends: truncations, wrong magic, bit flips, decompression bombs, and AVIF/HEIC/WebP/TIFF
variants; ``odd_but_valid`` are real images in modes phones rarely send (CMYK, 16-bit,
animated, palette, alpha, EXIF-rotated, grey).
"""

from __future__ import annotations

import io
import random
import struct
import zlib

import numpy as np
from PIL import Image


def _photo(w: int = 160, h: int = 120) -> Image.Image:
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([(x * 255 // w), (y * 255 // h), ((x + y) % 256)], axis=-1).astype(np.uint8)
    return Image.fromarray(arr)


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    if fmt in ("HEIF", "AVIF"):
        from pillow_heif import register_heif_opener

        register_heif_opener()
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int, height: int) -> bytes:
    """A valid-looking PNG header claiming ``width`` x ``height`` with a tiny body."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * min(width, 4096)
    idat = zlib.compress(row * 16, 9)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def valid_images() -> list[tuple[str, bytes]]:
    photo = _photo()
    out = [
        ("jpeg", encode(photo, "JPEG", quality=90)),
        ("png", encode(photo, "PNG")),
        ("webp", encode(photo, "WEBP")),
        ("avif", encode(photo, "AVIF")),
    ]
    try:
        out.append(("heic", encode(photo, "HEIF")))
    except Exception:  # noqa: BLE001 - no HEVC encoder in this libheif build
        pass
    return out


def broken_corpus(seed: int = 9) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    corpus: list[tuple[str, bytes]] = []
    for name, data in valid_images():
        for frac in (0.05, 0.3, 0.5, 0.8, 0.97):
            corpus.append((f"{name}-truncated-{frac}", data[: max(12, int(len(data) * frac))]))
        for i in range(12):  # bit flips and byte smashes past the magic
            b = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                pos = rng.randrange(12, len(b))
                b[pos] = rng.randrange(256) if i % 2 else b[pos] ^ (1 << rng.randrange(8))
            corpus.append((f"{name}-flipped-{i}", bytes(b)))
        corpus.append((f"{name}-zeroed-tail", data[: len(data) // 2] + b"\0" * (len(data) - len(data) // 2)))
    jpeg = valid_images()[0][1]
    png = valid_images()[1][1]
    corpus += [
        ("png-magic-jpeg-body", b"\x89PNG\r\n\x1a\n" + jpeg[3:]),
        ("jpeg-magic-png-body", b"\xff\xd8\xff" + png[8:]),
        ("jpeg-magic-random", b"\xff\xd8\xff" + bytes(rng.randrange(256) for _ in range(2000))),
        ("webp-magic-random", b"RIFF\x00\x10\x00\x00WEBPVP8 " + bytes(rng.randrange(256) for _ in range(500))),
        ("avif-brand-random", b"\x00\x00\x00\x20ftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(rng.randrange(256) for _ in range(800))),
        ("heic-brand-random", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(rng.randrange(256) for _ in range(800))),
        ("heic-brand-empty", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"),
        ("tiff", encode(_photo(), "TIFF")),
        ("tiff-bigendian-random", b"MM\x00*" + bytes(rng.randrange(256) for _ in range(300))),
        ("gif", encode(_photo(), "GIF")),
        ("bmp", encode(_photo(), "BMP")),
        ("pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj"),
        ("empty-ish", b"\xff\xd8"),
        ("png-bomb-50k", png_bomb(50_000, 50_000)),
        ("png-bomb-wide", png_bomb(2**31 - 1, 1)),
        ("png-zero-size", png_bomb(0, 0)),
        ("png-bomb-65k", png_bomb(65_535, 65_535)),
    ]
    return corpus


def odd_but_valid() -> list[tuple[str, bytes]]:
    photo = _photo()
    grey16 = Image.fromarray((np.asarray(photo.convert("L"), dtype=np.uint16) * 257))
    frames = [_photo().rotate(a) for a in (0, 10, 20)]
    apng = io.BytesIO()
    frames[0].save(apng, "PNG", save_all=True, append_images=frames[1:], duration=100)
    awebp = io.BytesIO()
    frames[0].save(awebp, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    exif = photo.getexif()
    exif[0x0112] = 6  # rotate 90
    return [
        ("jpeg-cmyk", encode(photo.convert("CMYK"), "JPEG")),
        ("png-16bit-grey", encode(grey16, "PNG")),
        ("png-rgba", encode(photo.convert("RGBA"), "PNG")),
        ("png-palette", encode(photo.convert("P"), "PNG")),
        ("png-grey", encode(photo.convert("L"), "PNG")),
        ("png-1bit", encode(photo.convert("1"), "PNG")),
        ("png-animated", apng.getvalue()),
        ("webp-animated", awebp.getvalue()),
        ("jpeg-exif-rotated", encode(photo, "JPEG", exif=exif)),
        ("avif-grey", encode(photo.convert("L"), "AVIF")),
    ]
