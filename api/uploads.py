"""The one upload path: multipart bodies parsed in memory, limits checked as bytes arrive.

Every route that takes files goes through :func:`read_upload_form`. Nothing touches the
disk: file parts are collected in ``bytearray``s (starlette's parser would roll parts
over 1 MiB into a temporary file). Checked while the body streams in, so a request
that breaks a limit is refused before the rest of it is buffered:

- the whole body against ``UploadLimits.total_bytes`` (``request_too_large``, 413),
  the declared ``Content-Length`` first;
- each file part against its byte limit (``image_too_large``, 413), as its data arrives;
- the number of files per field (``frames_too_many`` style codes per field) and in all,
  and of plain fields, when each part's headers arrive;
- each image part's pixel count from its header when the part ends, before any decoding
  (``image_too_many_pixels``, 413).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.multipart import parse_options_header
from starlette.formparsers import MultiPartException, MultiPartParser, _user_safe_decode

from kyc.errors import error
from kyc.images import check_image_header

__all__ = [
    "FileRule",
    "UploadLimits",
    "UploadForm",
    "read_upload_form",
    "multipart_body",
    "FORM_SCHEMAS",
    "takes_uploads",
    "BodyLimitMiddleware",
]

FIELD_BYTES = 4096  # a plain form field (ids, timestamps, flags)


@dataclass(frozen=True)
class FileRule:
    """Limits for the files sent under one field name."""

    max_bytes: int
    max_count: int = 1
    max_pixels: int | None = None  # checked from the image header; None: not an image
    too_many_code: str = "validation_failed"


@dataclass(frozen=True)
class UploadLimits:
    files: dict[str, FileRule]
    max_fields: int = 16
    slack_bytes: int = 64 * 1024  # multipart headers and plain fields
    cap_bytes: int | None = None  # a total lower than the sum of the per-field limits

    @property
    def total_bytes(self) -> int:
        total = sum(r.max_bytes * r.max_count for r in self.files.values()) + self.slack_bytes
        return min(total, self.cap_bytes) if self.cap_bytes is not None else total


@dataclass
class UploadForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, list[bytes]] = field(default_factory=dict)

    def file(self, name: str, *, required: bool) -> bytes | None:
        blobs = self.files.get(name) or []
        if not blobs:
            if required:
                raise error("upload_missing", part=name)
            return None
        return blobs[0]

    def field(self, name: str) -> str | None:
        value = self.fields.get(name)
        return value if value else None


class _InMemoryParser(MultiPartParser):
    """Starlette's multipart parser with file parts kept in memory and checked as they arrive."""

    def __init__(self, request: Request, stream: AsyncIterator[bytes], limits: UploadLimits) -> None:
        super().__init__(request.headers, stream, max_files=0, max_fields=limits.max_fields, max_part_size=FIELD_BYTES)
        self.limits = limits
        self.form = UploadForm()
        self._rule: FileRule | None = None
        self._size = 0

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._current_part.content_disposition)
        try:
            name = _user_safe_decode(options[b"name"], self._charset)
        except KeyError:
            raise error("malformed_body", 'A multipart part has no Content-Disposition "name".') from None
        self._current_part.field_name = name
        self._current_part.file = None
        self._size = 0
        if b"filename" not in options:
            self._rule = None
            self._current_fields += 1
            if self._current_fields > self.max_fields:
                raise error("validation_failed", "Too many form fields.", limit=self.max_fields)
            return
        rule = self.limits.files.get(name)
        if rule is None:
            raise error("validation_failed", f"Unexpected file field {name!r}.", part=name)
        count = len(self.form.files.setdefault(name, []))
        if count >= rule.max_count:
            raise error(rule.too_many_code, f"At most {rule.max_count} file(s) in {name!r}.", part=name, limit=rule.max_count)
        self._rule = rule

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._rule is None:
            return super().on_part_data(data, start, end)
        self._size += end - start
        if self._size > self._rule.max_bytes:
            raise error("image_too_large", part=self._current_part.field_name, limit_bytes=self._rule.max_bytes)
        self._current_part.data.extend(data[start:end])

    def on_part_end(self) -> None:
        name = self._current_part.field_name
        if self._rule is None:
            value = _user_safe_decode(self._current_part.data, self._charset)
            self.form.fields[name] = value
            return
        blob = bytes(self._current_part.data)
        if not blob:
            raise error("image_empty", part=name)
        if self._rule.max_pixels is not None:
            check_image_header(blob, self._rule.max_pixels)
        self.form.files[name].append(blob)
        self._current_part.data = bytearray()


async def _limited(stream: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > limit:
            raise error("request_too_large", limit_bytes=limit)
        yield chunk


async def read_upload_form(request: Request, limits: UploadLimits) -> UploadForm:
    """Parse a ``multipart/form-data`` body in memory under ``limits`` (see module doc)."""
    ctype = request.headers.get("content-type", "")
    if not ctype and request.headers.get("content-length", "0") == "0":
        raise error("upload_missing", "The request has no body; send multipart/form-data.")
    if not ctype.lower().startswith("multipart/form-data"):
        raise error("unsupported_media_type", "The body must be multipart/form-data.")
    limit = limits.total_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise error("request_too_large", limit_bytes=limit)
    parser = _InMemoryParser(request, _limited(request.stream(), limit), limits)
    try:
        await parser.parse()
    except MultiPartException as exc:
        raise error("malformed_body", str(exc)) from None
    except KeyError:  # no Content-Type boundary parameter
        raise error("malformed_body", "Missing multipart boundary.") from None
    return parser.form


# Named multipart body schemas, added to the OpenAPI components by api.openapi (stable
# names for generated clients instead of names derived from operation ids).
FORM_SCHEMAS: dict[str, dict] = {}


def multipart_body(name: str, required: list[str], properties: dict[str, dict]) -> dict:
    """``openapi_extra`` documenting a multipart body read by :func:`read_upload_form`."""
    assert FORM_SCHEMAS.get(name, None) in (None, {"type": "object", "required": required, "properties": properties}), name
    FORM_SCHEMAS[name] = {"title": name, "type": "object", "required": required, "properties": properties}
    return {
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        }
    }


_UPLOAD_ATTR = "__kyc_uploads__"


def takes_uploads(endpoint):
    """Mark a route that reads its body with :func:`read_upload_form` (it sets its own limits)."""
    setattr(endpoint, _UPLOAD_ATTR, True)
    return endpoint


class BodyLimitMiddleware:
    """Every other route's body is capped at ``limit`` bytes (JSON, the admin forms).

    A larger declared ``Content-Length`` is refused before reading; a chunked body is
    cut off when it passes the limit. Both answer 413 ``request_too_large``. Routes
    marked :func:`takes_uploads` are left to :func:`read_upload_form`'s own limits.
    """

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._upload_regexes: list | None = None

    def _is_upload(self, scope) -> bool:
        if self._upload_regexes is None:
            from fastapi.routing import iter_route_contexts

            router = scope["app"].router if "app" in scope else None
            routes = iter_route_contexts(router.routes) if router is not None else []
            self._upload_regexes = [
                r.path_regex for r in routes if getattr(r.endpoint, _UPLOAD_ATTR, False) and getattr(r, "path_regex", None)
            ]
        return any(rx.match(scope["path"]) for rx in self._upload_regexes)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or self._is_upload(scope):
            await self.app(scope, receive, send)
            return
        from starlette.responses import JSONResponse

        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                err = error("request_too_large", limit_bytes=self.limit)
                await JSONResponse({"error": err.to_dict()}, status_code=413)(scope, receive, send)
                return
        seen = 0
        limit = self.limit

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise error("request_too_large", limit_bytes=limit)
            return message

        await self.app(scope, limited_receive, send)
