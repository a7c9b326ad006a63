"""Reading multipart uploads with the size limit enforced while reading."""

from __future__ import annotations

from fastapi import UploadFile

from kyc.errors import error

CHUNK = 1 << 16


async def read_upload(upload: UploadFile, max_bytes: int) -> bytes:
    """The upload's bytes, or ``image_too_large`` as soon as it passes ``max_bytes``."""
    parts: list[bytes] = []
    total = 0
    while chunk := await upload.read(CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise error("image_too_large", limit_bytes=max_bytes)
        parts.append(chunk)
    return b"".join(parts)
