"""Job records: what the API knows about a verification that is queued or running.

A job's id is the id its verification will be stored under. Its record lives in shared
state (memory, or Redis for a fleet) until ``job_result_ttl_s`` after the last change,
so ``GET /v1/verifications/{id}`` can say ``processing`` or give the failure, and a
retry with the same ``Idempotency-Key`` finds the job instead of queueing a second one.
Records hold no personal data: the client, a status and, on failure, an error code.

Status moves ``queued → running → committing → done``, or to ``failed``; the API moves
a job that missed its deadline to ``abandoned`` only while it is not ``committing``
(compare-and-set), so a deadline and a commit never cross.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Literal

from kyc.errors import KycError, error
from kyc.fleet.state import SharedState

__all__ = ["JobRecord", "JobBook", "QueuedJobGuard", "processing_view"]

Status = Literal["queued", "running", "committing", "done", "failed", "abandoned"]
PENDING = ("queued", "running", "committing")


@dataclass(frozen=True)
class JobRecord:
    client_id: str
    status: Status = "queued"
    error: dict | None = None  # {"code", "message", "detail"} when failed
    result_id: str | None = None  # when done: the stored verification (another job's, if a retry raced it)

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> JobRecord:
        return cls(**json.loads(raw))

    def raise_error(self) -> None:
        e = self.error or {"code": "internal_error"}
        raise error(e["code"], e.get("message"), **(e.get("detail") or {}))


def processing_view(job_id: str, status: str = "processing", err: dict | None = None) -> dict:
    view: dict[str, object] = {"id": job_id, "status": status, "url": f"/v1/verifications/{job_id}"}
    if err is not None:
        view["error"] = err
    return view


class JobBook:
    def __init__(self, state: SharedState, ttl_s: float) -> None:
        self.state = state
        self.ttl_s = ttl_s

    @staticmethod
    def _key(job_id: str) -> str:
        return "job:" + job_id

    @staticmethod
    def _idem_key(client_id: str, idempotency_key: str) -> str:
        return f"idemjob:{client_id}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"

    def create(self, job_id: str, client_id: str, idempotency_key: str | None = None, fingerprint: str = "") -> None:
        self.state.put(self._key(job_id), JobRecord(client_id).to_bytes(), self.ttl_s)
        if idempotency_key:
            self.link_key(job_id, client_id, idempotency_key, fingerprint)

    def link_key(self, job_id: str, client_id: str, idempotency_key: str, fingerprint: str) -> None:
        """Let a retry with this key find the job. A queued job is linked only once its message
        is sent: a job whose sender died first is not waited for; the retry runs it anew."""
        link = json.dumps({"job": job_id, "fingerprint": fingerprint}).encode()
        self.state.put(self._idem_key(client_id, idempotency_key), link, self.ttl_s)

    def finish(self, job_id: str, result_id: str) -> None:
        """Done, naming the verification that answers for the job."""
        for _ in range(5):
            got = self.load(job_id)
            if got is None or got[1].status not in ("running", "committing", "done"):
                return
            raw, rec = got
            if self.state.swap(self._key(job_id), raw, replace(rec, status="done", result_id=result_id).to_bytes(), self.ttl_s):
                return

    def load(self, job_id: str) -> tuple[bytes, JobRecord] | None:
        raw = self.state.get(self._key(job_id))
        return (raw, JobRecord.from_bytes(raw)) if raw is not None else None

    def get(self, job_id: str) -> JobRecord | None:
        got = self.load(job_id)
        return got[1] if got else None

    def move(self, job_id: str, to: Status, allowed_from: tuple[str, ...], err: dict | None = None) -> bool:
        """Compare-and-set the status; False when the record is gone or in another state."""
        for _ in range(5):
            got = self.load(job_id)
            if got is None or got[1].status not in allowed_from:
                return False
            raw, rec = got
            if self.state.swap(self._key(job_id), raw, replace(rec, status=to, error=err, result_id=rec.result_id).to_bytes(), self.ttl_s):
                return True
        return False

    def fail(self, job_id: str, exc: KycError) -> None:
        err = {"code": exc.code, "message": exc.message, "detail": dict(exc.detail) or None}
        self.move(job_id, "failed", allowed_from=(*PENDING, "failed"), err=err)

    def pending_job(self, client_id: str, idempotency_key: str, fingerprint: str) -> str | None:
        """The queued or running job holding this key, if any (a conflict if the request differs)."""
        raw = self.state.get(self._idem_key(client_id, idempotency_key))
        if raw is None:
            return None
        link = json.loads(raw)
        rec = self.get(link["job"])
        if rec is None or rec.status not in PENDING:
            return None  # finished (then the database has it) or failed (then run it again)
        if link["fingerprint"] != fingerprint:
            raise error("idempotency_conflict")
        return link["job"]

    async def wait(self, job_id: str, deadline_s: float, grace_s: float = 30.0) -> JobRecord:
        """Poll until the job is done or failed. After ``deadline_s`` a job not yet committing
        is abandoned (``deadline_exceeded``); one that is committing gets ``grace_s`` more."""
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline_s
        delay = 0.01
        while True:
            got = await asyncio.to_thread(self.load, job_id)
            if got is None:
                raise error("deadline_exceeded", deadline_s=deadline_s)  # expired unstored
            rec = got[1]
            if rec.status in ("done", "failed"):
                return rec
            now = loop.time()
            if now > end:
                if rec.status in ("queued", "running"):
                    if await asyncio.to_thread(self.move, job_id, "abandoned", allowed_from=("queued", "running")):
                        raise error("deadline_exceeded", deadline_s=deadline_s)
                    continue
                if rec.status == "abandoned" or now > end + grace_s:
                    raise error("deadline_exceeded", deadline_s=deadline_s)
            await asyncio.sleep(delay)
            delay = min(0.05, delay * 1.5)


class QueuedJobGuard:
    """The ``job`` a queued verification runs under (same members as the in-process one)."""

    def __init__(self, book: JobBook, job_id: str) -> None:
        self.book = book
        self.job_id = job_id

    @property
    def abandoned(self) -> bool:
        rec = self.book.get(self.job_id)
        return rec is None or rec.status == "abandoned"

    @contextlib.contextmanager
    def commit_window(self):
        # A retried job (its worker died) may find "committing" left by the dead worker.
        if not self.book.move(self.job_id, "committing", allowed_from=("queued", "running", "committing")):
            raise error("deadline_exceeded")
        yield
        self.book.move(self.job_id, "done", allowed_from=("committing",))
