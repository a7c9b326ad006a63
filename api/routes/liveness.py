"""Active liveness sessions: create one, then upload what the camera saw.

The session store lives on ``app.state.liveness_sessions`` (created on first use, in
memory, per process). No business logic here: decoding and deciding are in
``kyc.liveness``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from api.deps import ServicesDep, SettingsDep, audited, require_scope
from api.errors import UPLOAD_ERRORS, error_responses
from api.liveness_owners import SessionOwners
from api.uploads import FileRule, UploadLimits, multipart_body, read_upload_form, takes_uploads
from kyc.config import Settings
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


def session_owners(request: Request) -> SessionOwners:
    owners = getattr(request.app.state, "liveness_owners", None)
    if owners is None:
        settings = request.app.state.settings
        owners = SessionOwners(settings.liveness_sessions_per_client, settings.liveness_session_ttl_s)
        request.app.state.liveness_owners = owners
    return owners


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


@router.post(
    "/sessions", status_code=201, response_model=SessionOut, responses=error_responses(*AUTH, "liveness_quota_exceeded")
)
async def create_session(request: Request, services: ServicesDep, principal=require_scope("liveness:write")) -> SessionOut:
    """A single-use challenge: perform ``actions`` in order, then upload the capture before ``expires_at``.

    The session belongs to the calling client; each client may hold a limited number open.
    """
    async with audited(services, principal, "liveness.session.create") as audit:
        owners = session_owners(request)
        owners.admit(principal.client_id)
        session = session_store(request).create_session()
        owners.record(principal.client_id, session.id)
        audit["session"] = session.id
    return SessionOut(**session.public())


def upload_limits(settings: Settings) -> UploadLimits:
    """One video, or up to ``liveness_max_frames`` frames; counted and sized as they arrive."""
    return UploadLimits(
        {
            "video": FileRule(settings.liveness_max_video_bytes, 1),
            "frames": FileRule(
                min(settings.max_upload_bytes, settings.liveness_max_frames_bytes),
                settings.liveness_max_frames,
                settings.liveness_max_frame_pixels,
                too_many_code="video_too_long",
            ),
        },
        cap_bytes=max(settings.liveness_max_video_bytes, settings.liveness_max_frames_bytes) + 64 * 1024,
    )


_FORM = multipart_body(
    "LivenessCaptureForm",
    [],
    {
        "video": {"type": "string", "format": "binary", "description": "MP4 or WebM of the whole capture"},
        "frames": {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "JPEG frames in capture order"},
        "timestamps": {"type": "string", "description": "capture time of each frame, comma-separated seconds"},
        "nonce": {"type": "string", "maxLength": 200, "description": "the session's nonce, checked when given"},
        "mirrored": {"type": "boolean", "default": False, "description": "true if the frames are mirrored like a selfie preview"},
    },
)


def _decide(store, session_id, video, frames, times, nonce, mirrored, settings):
    """Decode and decide (runs in the engine pool)."""
    decoded = decode_video(video) if video is not None else decode_frames(frames, times)
    return submit_session(store, session_id, decoded, nonce=nonce, mirrored=mirrored, settings=settings)


@router.post(
    "/sessions/{session_id}/frames",
    response_model=ResultOut,
    openapi_extra=_FORM,
    responses=error_responses(
        *AUTH,
        *UPLOAD_ERRORS,
        "liveness_session_not_found",
        "liveness_session_expired",
        "liveness_session_used",
        "video_unreadable",
        "video_too_long",
        "frames_too_few",
        "validation_failed",
    ),
)
@takes_uploads
async def upload_frames(
    session_id: str,
    request: Request,
    settings: SettingsDep,
    services: ServicesDep,
    principal=require_scope("liveness:write"),
) -> ResultOut:
    """Decide the session from a video, or from JPEG frames with their timestamps. Single use."""
    async with audited(services, principal, "liveness.frames", session=session_id) as audit:
        session_owners(request).check(principal.client_id, session_id)  # another client's: not found
        store = session_store(request)
        store.get(session_id)  # unknown, expired or used: fail before reading the upload
        form = await read_upload_form(request, upload_limits(settings))
        video = form.file("video", required=False)
        frames = form.files.get("frames") or []
        if video is not None and frames:
            raise error("validation_failed", "Send either `video` or `frames`, not both.")
        if video is None and not frames:
            raise error("upload_missing", "Upload a `video` or `frames` with `timestamps`.")
        times = None
        if frames:
            if form.field("timestamps") is None:
                raise error("validation_failed", "`timestamps` is required with `frames`.")
            times = parse_timestamps(form.field("timestamps"))
        mirrored_text = (form.field("mirrored") or "false").lower()
        if mirrored_text not in ("true", "false", "1", "0"):
            raise error("validation_failed", "`mirrored` is true or false.", part="mirrored")
        nonce = form.field("nonce")
        result = await services.engines.run(
            _decide, store, session_id, video, frames, times, nonce, mirrored_text in ("true", "1"), settings
        )
        audit["live"] = result.live
    return ResultOut(session_id=session_id, **result.to_dict())
