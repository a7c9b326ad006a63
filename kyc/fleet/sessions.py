"""Active-liveness sessions in shared state, so a session created through one API process
is completed through another and its result taken by any worker.

Implements :class:`kyc.liveness.SessionStore` over :class:`~kyc.fleet.state.SharedState`.
State moves created → claimed → finished by compare-and-set, so two concurrent claims
have one winner on every process. The result (which holds the best frame, a face image)
is sealed with a key derived from the KEK before it leaves the process.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from kyc.errors import error
from kyc.fleet.state import SharedState
from kyc.liveness import ActionEvidence, ActiveResult, LivenessSession
from kyc.liveness._session import RESULT_TTL_S, SESSION_TTL_S, new_session
from kyc.vault.envelope import open_sealed, seal

__all__ = ["StateSessionStore", "StateSessionOwners", "result_to_bytes", "result_from_bytes"]

_AAD = b"kyc/liveness-result/v1|"


def _session_json(s: LivenessSession) -> bytes:
    return json.dumps(
        {
            "id": s.id,
            "nonce": s.nonce,
            "actions": s.actions,
            "created_at": s.created_at.isoformat(),
            "expires_at": s.expires_at.isoformat(),
            "state": s.state,
        },
        sort_keys=True,
    ).encode()


def _session_of(raw: bytes) -> LivenessSession:
    d = json.loads(raw)
    return LivenessSession(
        d["id"], d["nonce"], list(d["actions"]), datetime.fromisoformat(d["created_at"]), datetime.fromisoformat(d["expires_at"]), d["state"]
    )


def result_to_bytes(r: ActiveResult) -> bytes:
    head = json.dumps(r.to_dict()).encode()
    frame = b""
    if r.best_frame is not None:
        buf = io.BytesIO()
        np.save(buf, r.best_frame, allow_pickle=False)
        frame = buf.getvalue()
    return len(head).to_bytes(4, "big") + head + frame


def result_from_bytes(data: bytes) -> ActiveResult:
    n = int.from_bytes(data[:4], "big")
    d = json.loads(data[4 : 4 + n])
    frame = np.load(io.BytesIO(data[4 + n :]), allow_pickle=False) if len(data) > 4 + n else None
    return ActiveResult(
        live=d["live"],
        score=d["score"],
        reasons=list(d["reasons"]),
        actions=[ActionEvidence(**a) for a in d["actions"]],
        best_frame=frame,
        best_frame_index=d["best_frame_index"],
        threshold=d["threshold"],
        checks=d["checks"],
        measurements=d["measurements"],
        model=d["model"],
    )


class StateSessionStore:
    def __init__(self, state: SharedState, seal_key: bytes, ttl_s: float = SESSION_TTL_S, result_ttl_s: float = RESULT_TTL_S) -> None:
        self.state = state
        self.seal_key = seal_key
        self.ttl_s = ttl_s
        self.result_ttl_s = result_ttl_s

    @property
    def _keep_s(self) -> float:
        return self.ttl_s + self.result_ttl_s

    def create_session(self, actions: list[str] | None = None) -> LivenessSession:
        session = new_session(actions, datetime.now(UTC), self.ttl_s)
        self.state.put("lv:" + session.id, _session_json(session), self._keep_s)
        return session

    def _load(self, session_id: str) -> tuple[bytes, LivenessSession]:
        raw = self.state.get("lv:" + session_id)
        if raw is None:
            raise error("liveness_session_not_found")
        return raw, _session_of(raw)

    def _live(self, session_id: str) -> tuple[bytes, LivenessSession]:
        raw, s = self._load(session_id)
        if s.state != "created":
            raise error("liveness_session_used")
        if s.expired():
            raise error("liveness_session_expired")
        return raw, s

    def get(self, session_id: str) -> LivenessSession:
        return self._live(session_id)[1]

    def claim(self, session_id: str) -> LivenessSession:
        raw, s = self._live(session_id)
        claimed = replace(s, state="claimed")
        if not self.state.swap("lv:" + session_id, raw, _session_json(claimed), self._keep_s):
            raise error("liveness_session_used")  # another process claimed it first
        return claimed

    def finish(self, session_id: str, result: ActiveResult) -> None:
        raw, s = self._load(session_id)
        if s.state != "claimed":
            raise error("liveness_session_used")
        sealed = seal(self.seal_key, result_to_bytes(result), _AAD + session_id.encode())
        self.state.put("lvres:" + session_id, sealed, self.result_ttl_s)
        if not self.state.swap("lv:" + session_id, raw, _session_json(replace(s, state="finished")), self.result_ttl_s):
            self.state.delete("lvres:" + session_id)
            raise error("liveness_session_used")

    def take_result(self, session_id: str) -> ActiveResult:
        sealed = self.state.take("lvres:" + session_id)
        if sealed is None:
            raise error("liveness_result_not_found")
        return result_from_bytes(open_sealed(self.seal_key, sealed, _AAD + session_id.encode()))


class StateSessionOwners:
    """Which client created which liveness session, and each client's quota of open
    sessions (``api/liveness_owners.SessionOwners``'s contract), in shared state, so a
    session created through one API process is owned on every process."""

    def __init__(self, state: SharedState, per_client: int, ttl_s: float, keep_s: float = 3600.0) -> None:
        self.state = state
        self.per_client = per_client
        self.ttl_s = ttl_s
        self.keep_s = max(keep_s, ttl_s)

    def admit(self, client_id: str) -> None:
        if self.state.count_events("lvquota:" + client_id, self.ttl_s) >= self.per_client:
            raise error("liveness_quota_exceeded", limit=self.per_client, retry_after_s=round(self.ttl_s, 1))

    def record(self, client_id: str, session_id: str) -> None:
        self.state.add_event("lvquota:" + client_id, self.ttl_s)
        self.state.put("lvowner:" + session_id, client_id.encode(), self.keep_s)

    def check(self, client_id: str, session_id: str) -> None:
        owner = self.state.get("lvowner:" + session_id)
        if owner is None or owner.decode() != client_id:
            raise error("liveness_session_not_found")
