"""Active liveness sessions: create one, then upload what the camera saw.

The session store lives on ``app.state.liveness_sessions`` (created on first use, in
memory, per process). No business logic here: decoding and deciding are in
``kyc.liveness``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import ServicesDep, SettingsDep, audit_call, require_scope
from api.errors import error_responses
from api.uploads import read_upload
from kyc.errors import error
from kyc.liveness import InMemorySessionStore, SessionStore, decode_frames, decode_video, parse_timestamps, submit_session

router = APIRouter(prefix="/v1/liveness", tags=["liveness"])


def session_store(request: Request) -> SessionStore:
    """The app's session store, created lazily (an app may set its own before startup)."""
    store = getattr(request.app.state, "liveness_sessions", None)
    if store is None:
        ttl = request.app.state.settings.liveness_session_ttl_s
        store = InMemorySessionStore(ttl_s=ttl)
        request.app.state.liveness_sessions = store
    return store


class SessionOut(BaseModel):
    id: str
    nonce: str
    actions: list[str]
    created_at: str
    expires_at: str


class ActionOut(BaseModel):
    action: str
    passed: bool
    start_frame: int | None
    end_frame: int | None
    measurements: dict[str, float]


class ResultOut(BaseModel):
    session_id: str
    live: bool
    score: float
    threshold: float
    reasons: list[str]
    actions: list[ActionOut]
    best_frame_index: int | None
    checks: dict[str, float]
    measurements: dict[str, float]
    model: str


AUTH = ("unauthenticated", "forbidden", "rate_limited")


@router.post("/sessions", status_code=201, response_model=SessionOut, responses=error_responses(*AUTH))
async def create_session(request: Request, services: ServicesDep, principal=require_scope("liveness:write")) -> SessionOut:
    """A single-use challenge: perform ``actions`` in order, then upload the capture before ``expires_at``."""
    session = session_store(request).create_session()
    await run_in_threadpool(audit_call, services, principal, "liveness.session.create", session=session.id)
    return SessionOut(**session.public())


@router.post(
    "/sessions/{session_id}/frames",
    response_model=ResultOut,
    responses=error_responses(
        *AUTH,
        "liveness_session_not_found",
        "liveness_session_expired",
        "liveness_session_used",
        "video_unreadable",
        "video_too_long",
        "frames_too_few",
        "upload_missing",
        "image_corrupt",
        "image_too_large",
        "validation_failed",
    ),
)
async def upload_frames(
    session_id: str,
    request: Request,
    settings: SettingsDep,
    services: ServicesDep,
    video: Annotated[UploadFile | None, File(description="MP4 or WebM of the whole capture")] = None,
    frames: Annotated[list[UploadFile] | None, File(description="JPEG frames in capture order")] = None,
    timestamps: Annotated[str | None, Form(description="capture time of each frame, comma-separated seconds")] = None,
    nonce: Annotated[str | None, Form(description="the session's nonce, checked when given")] = None,
    mirrored: Annotated[bool, Form(description="true if the frames are mirrored like a selfie preview")] = False,
    principal=require_scope("liveness:write"),
) -> ResultOut:
    """Decide the session from a video, or from JPEG frames with their timestamps. Single use."""
    store = session_store(request)
    store.get(session_id)  # unknown, expired or used: fail before reading the upload
    if video is not None and frames:
        raise error("validation_failed", "Send either `video` or `frames`, not both.")
    if video is not None:
        data = await read_upload(video, settings.liveness_max_video_bytes)
        decoded = await run_in_threadpool(decode_video, data)
    elif frames:
        if timestamps is None:
            raise error("validation_failed", "`timestamps` is required with `frames`.")
        times = parse_timestamps(timestamps)
        blobs = [await read_upload(f, settings.max_upload_bytes) for f in frames]
        decoded = await run_in_threadpool(decode_frames, blobs, times)
    else:
        raise error("upload_missing", "Upload a `video` or `frames` with `timestamps`.")
    result = await run_in_threadpool(
        submit_session, store, session_id, decoded, nonce=nonce, mirrored=mirrored, settings=settings
    )
    await run_in_threadpool(audit_call, services, principal, "liveness.frames", session=session_id, live=result.live)
    return ResultOut(session_id=session_id, **result.to_dict())
