"""Decoding uploaded images safely.

Uploads come from phones: JPEG, PNG, WebP and HEIC, often with an EXIF orientation
tag instead of rotated pixels. Everything downstream works on an upright
``numpy.ndarray`` in BGR order (OpenCV's), shape ``(height, width, 3)``, ``uint8``.
Every way an upload can be wrong ends in a :class:`~kyc.errors.KycError` with its own code.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

from kyc.errors import KycError, error

__all__ = ["decode_image", "check_image_header", "sniff_image_type", "encode_jpeg"]

_HEIF_REGISTERED = False


def _register_heif() -> None:
    global _HEIF_REGISTERED
    if not _HEIF_REGISTERED:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _HEIF_REGISTERED = True


def _require_supported_type(data: bytes) -> None:
    """``image_unsupported_type`` unless the bytes sniff as a type we decode (HEIC's
    opener registered on first use): the one gate of the header check and the decoder."""
    kind = sniff_image_type(data)
    if kind is None:
        raise error("image_unsupported_type")
    if kind == "heic":
        _register_heif()


def sniff_image_type(data: bytes) -> str | None:
    """The image format from its magic bytes: ``jpeg``, ``png``, ``webp``, ``heic`` or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp" and data[8:12] in {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis", b"avif"}:
        return "heic"
    return None


def check_image_header(data: bytes, max_pixels: int) -> tuple[int, int]:
    """The image's (width, height) from its header, without decoding the pixels.

    For the upload path: a supported type and at most ``max_pixels`` pixels, checked
    as soon as a part has arrived so that a decompression bomb costs nothing.
    """
    _require_supported_type(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
    except Image.DecompressionBombError:
        raise error("image_too_many_pixels", limit_pixels=max_pixels) from None
    except Exception:  # any decoder failure on a client's bytes is the client's problem: 4xx
        raise error("image_corrupt") from None
    if width * height > max_pixels:
        raise error("image_too_many_pixels", limit_pixels=max_pixels, pixels=width * height)
    return width, height


def decode_image(
    data: bytes,
    *,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    min_side: int | None = None,
) -> np.ndarray:
    """Decode an upload to an upright BGR array, honouring EXIF orientation.

    Limits default to the configured ones (``KYC_MAX_UPLOAD_BYTES``,
    ``KYC_MAX_IMAGE_PIXELS``, ``KYC_MIN_IMAGE_SIDE``). The pixel limit is checked
    from the header before decoding, so a decompression bomb costs nothing.
    """
    if max_bytes is None or max_pixels is None or min_side is None:
        from kyc.config import get_settings

        s = get_settings()
        max_bytes = s.max_upload_bytes if max_bytes is None else max_bytes
        max_pixels = s.max_image_pixels if max_pixels is None else max_pixels
        min_side = s.min_image_side if min_side is None else min_side

    if not data:
        raise error("image_empty")
    if len(data) > max_bytes:
        raise error("image_too_large", limit_bytes=max_bytes, size_bytes=len(data))
    _require_supported_type(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # odd EXIF and the like: decode what we can
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > max_pixels:
                raise error("image_too_many_pixels", limit_pixels=max_pixels, pixels=width * height)
            img.load()  # the first frame of an animation
            img = ImageOps.exif_transpose(img)
            img = _to_rgb(img)
    except KycError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise error("image_too_many_pixels", limit_pixels=max_pixels) from None
    except MemoryError:
        raise error("image_too_many_pixels", limit_pixels=max_pixels) from None
    except Exception:
        # Decoders (Pillow, libheif, libavif, libwebp) fail with OSError, ValueError,
        # SyntaxError, EOFError, RuntimeError, struct.error, ...: every one is a broken
        # upload, the client's to fix, never a 500.
        raise error("image_corrupt") from None
    if min(img.size) < min_side:
        raise error("image_too_small", min_side=min_side, width=img.size[0], height=img.size[1])
    rgb = np.asarray(img, dtype=np.uint8)
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _to_rgb(img: Image.Image) -> Image.Image:
    """8-bit RGB; 16-bit and float images are scaled down, not clipped to white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        arr = np.asarray(img, dtype=np.uint16) >> 8
        return Image.fromarray(arr.astype(np.uint8), "L").convert("RGB")
    if img.mode in ("I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        return Image.fromarray(np.nan_to_num(scaled).astype(np.uint8), "L").convert("RGB")
    return img.convert("RGB")


def encode_jpeg(image: np.ndarray, quality: int = 92) -> bytes:
    """Encode a BGR array as JPEG bytes (for crops handed back to clients)."""
    import cv2

    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise error("internal_error", "could not encode image")
    return buf.tobytes()
