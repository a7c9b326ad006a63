"""Multipart forms parsed in memory only: uploads of personal images never touch the disk.

Starlette spools file parts over 1 MiB to a temporary file; this parser keeps them in
memory up to the configured upload limit and stops reading a body that is too large.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from kyc.errors import error

__all__ = ["read_form_in_memory", "form_bytes"]


class _InMemoryParser(MultiPartParser):
    spool_max_size = 1 << 62  # never roll over to a temporary file


async def _limited(stream: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > limit:
            raise error("request_too_large", limit_bytes=limit)
        yield chunk


async def read_form_in_memory(
    request: Request, *, max_file_bytes: int, max_files: int = 4, max_total_bytes: int | None = None
) -> FormData:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise error("validation_failed", "The body must be multipart/form-data.")
    limit = (max_total_bytes or max_file_bytes * max_files) + 64 * 1024
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise error("request_too_large", limit_bytes=limit)
    parser = _InMemoryParser(
        request.headers, _limited(request.stream(), limit), max_files=max_files, max_fields=20, max_part_size=64 * 1024
    )
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise error("validation_failed", str(exc)) from None


async def form_bytes(form: FormData, name: str, max_bytes: int, *, required: bool) -> bytes | None:
    value = form.get(name)
    if value is None or (isinstance(value, str) and value == ""):
        if required:
            raise error("upload_missing", part=name)
        return None
    if not isinstance(value, UploadFile):
        raise error("validation_failed", f"{name} must be a file upload", part=name)
    data = await value.read()
    await value.close()
    if len(data) > max_bytes:
        raise error("image_too_large", limit_bytes=max_bytes, part=name)
    if not data:
        raise error("image_empty", part=name)
    return data
