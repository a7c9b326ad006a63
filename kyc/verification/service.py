"""The verification service: consent gate, worker pool with a deadline, one atomic write.

A verification is written in a single transaction after the pipeline has finished:
the row with its encrypted fields and template, the retained images (if any) and the
audit entry commit together or not at all, so a crash at any point leaves either a
whole verification or nothing. Uploads stay in memory and are dropped after processing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kyc.audit import append_audit
from kyc.config import Settings
from kyc.consent.records import get_consent, require_valid_consent
from kyc.consent.rules import RETENTION_PURPOSE
from kyc.errors import CODES, KycError, error
from kyc.fleet.jobs import JobBook, processing_view
from kyc.fleet.state import MemoryState, SharedState
from kyc.storage.db import Database
from kyc.storage.models import ApiClient, RetainedImage, Subject, Verification, new_id, utcnow
from kyc.vault import Vault
from kyc.verification.decision import DecisionRules, decide
from kyc.verification.engines import Engines
from kyc.verification.masking import mask_fields
from kyc.verification.pipeline import VerificationInput, run_pipeline

__all__ = ["VerificationService", "request_fingerprint", "verification_view"]

log = logging.getLogger("kyc.verification")


def request_fingerprint(consent_id: str, inp: VerificationInput) -> str:
    """SHA-256 over the request's parts, to tell an idempotent retry from a different request."""
    h = hashlib.sha256(consent_id.encode())
    for part in (inp.id_front, inp.id_back, inp.selfie, (inp.liveness_session_id or "").encode()):
        h.update(b"|" + (hashlib.sha256(part).digest() if part is not None else b"-"))
    return h.hexdigest()


def verification_view(v: Verification, subject_ref: str) -> dict[str, object]:
    """The public shape of a verification (masked fields only)."""
    view: dict[str, object] = {
        "id": v.id,
        "status": v.status,
        "reasons": list(v.reasons or []),
        "scores": v.scores or {},
        "models": v.models or {},
        "document": {"type": v.document_type, "fields": v.masked_fields},
        "subject_ref": subject_ref,
        "consent_id": v.consent_id,
        "created_at": v.created_at.isoformat(),
        "completed_at": v.completed_at.isoformat(),
        "duration_ms": round(v.duration_ms, 1),
    }
    if v.reviewed_at is not None:
        view["review"] = {"by": v.reviewed_by, "at": v.reviewed_at.isoformat(), "note": v.review_note}
    return view


@dataclass
class _Job:
    """Shared between the request and its worker, so a deadline and a commit never cross.

    A queued job (``kyc.fleet``) uses a guard with the same two members, kept in shared
    state instead of a lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    abandoned: bool = False
    committed: bool = False

    @contextlib.contextmanager
    def commit_window(self):
        """Held around the storing transaction: after it starts, the deadline no longer applies."""
        with self.lock:
            if self.abandoned:
                raise error("deadline_exceeded")
            yield
            self.committed = True


class VerificationService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        vault: Vault,
        engines: Engines,
        rules: DecisionRules,
        state: SharedState | None = None,
        queue=None,
    ) -> None:
        self.settings = settings
        # Idempotency slots and failure counters: process memory, or Redis for a fleet.
        self.state = state if state is not None else MemoryState()
        self.queue = queue  # a kyc.fleet.queue.JobQueue when KYC_BROKER_URL is set
        self.jobs = JobBook(self.state, settings.job_result_ttl_s)  # async and queued jobs
        self._background: set[asyncio.Task] = set()
        self.db = db
        self.vault = vault
        self.engines = engines
        self.rules = rules
        self._pool = ThreadPoolExecutor(max_workers=settings.verification_workers, thread_name_prefix="verify")
        self._waiting = 0
        self._waiting_lock = threading.Lock()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    # --- gates (cheap, before anything is read) ---
    def check_gates(self, client_id: str, consent_id: str) -> str:
        """Consent and the per-subject failure limit; returns the subject id."""
        with self.db.session() as s:
            consent = get_consent(s, client_id, consent_id)
            require_valid_consent(s, consent)
            since = utcnow() - timedelta(seconds=self.settings.subject_failure_window_s)
            rejected = s.scalar(
                select(func.count())
                .select_from(Verification)
                .where(Verification.subject_id == consent.subject_id, Verification.status == "rejected", Verification.created_at > since)
            )
            subject_id = consent.subject_id
        recent = self.state.count_events("fail:" + subject_id, self.settings.subject_failure_window_s)
        if (rejected or 0) + recent >= self.settings.subject_failure_limit:
            raise error("rate_limited", "Too many failed attempts for this subject; try again later.", scope="subject")
        return subject_id

    def _note_failure(self, subject_id: str) -> None:
        self.state.add_event("fail:" + subject_id, self.settings.subject_failure_window_s)

    def note_input_failure(self, actor: str, subject_id: str, exc: KycError) -> None:
        """Count and audit a failure the subject must fix (not a consent change or a conflict)."""
        if exc.status < 500 and exc.code not in ("consent_withdrawn", "idempotency_conflict"):
            self._note_failure(subject_id)
            self._audit_failure(actor, subject_id, exc.code)

    async def _state(self, fn, *args):
        """Shared-state calls: direct in memory, in a thread when they cross the network."""
        if isinstance(self.state, MemoryState):
            return fn(*args)
        return await asyncio.to_thread(fn, *args)

    def find_idempotent(self, client_id: str, key: str, fingerprint: str) -> dict | None:
        with self.db.session() as s:
            v = s.scalar(select(Verification).where(Verification.client_id == client_id, Verification.idempotency_key == key))
            if v is None:
                return None
            if v.request_sha256 != fingerprint:
                raise error("idempotency_conflict")
            return verification_view(v, s.get(Subject, v.subject_id).ref)

    # --- the request path ---
    async def submit(
        self,
        *,
        client_id: str,
        actor: str,
        consent_id: str,
        inp: VerificationInput,
        idempotency_key: str | None,
        respond_async: bool = False,
    ) -> tuple[dict, bool]:
        """Run a verification; returns (view, replayed). With ``respond_async`` (queued
        mode) the view is ``{"id", "status": "processing"}`` as soon as the job is queued."""
        fingerprint = request_fingerprint(consent_id, inp)
        if idempotency_key is not None and len(idempotency_key) > 200:
            raise error("validation_failed", "Idempotency-Key is at most 200 characters")
        slot = f"idem:{client_id}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}" if idempotency_key else None
        as_job = self.queue is not None or respond_async
        lease: str | None = None
        if slot is not None:
            # One request per key at a time across every API process sharing the state:
            # later ones wait, then replay. The lease expires if its holder dies. A job
            # holds it only until it is queued (then its record answers for the key).
            ttl = 15.0 if as_job else self.settings.verification_deadline_s * 2 + 5
            while (lease := await self._state(self.state.acquire, slot, ttl)) is None:
                await asyncio.sleep(0.05)
        wait_for: tuple[str, str | None, bool] | None = None  # (job id, subject id, replayed)
        try:
            if idempotency_key:
                existing = await asyncio.to_thread(self.find_idempotent, client_id, idempotency_key, fingerprint)
                if existing is not None:
                    return existing, True
                # queued or running under this key: that job, not a second one
                pending = await self._state(self.jobs.pending_job, client_id, idempotency_key, fingerprint)
                if pending is not None:
                    if respond_async:
                        return processing_view(pending), True
                    wait_for = (pending, None, True)
            if wait_for is None and as_job:
                job_id, subject_id = await self._submit_job(client_id, actor, consent_id, inp, idempotency_key, fingerprint, respond_async)
                if respond_async:
                    return processing_view(job_id), False
                wait_for = (job_id, subject_id, False)
            if wait_for is None:
                return await self._run(client_id, actor, consent_id, inp, idempotency_key, fingerprint), False
        finally:
            if lease is not None:
                await self._state(self.state.release, slot, lease)
        job_id, subject_id, replayed = wait_for
        return await self._wait_job(client_id, actor, job_id, subject_id), replayed

    async def _submit_job(self, client_id, actor, consent_id, inp, idempotency_key, fingerprint, respond_async) -> tuple[str, str]:
        """Start a job: on the task queue (``KYC_BROKER_URL``), or in this process's pool in
        the background (``respond_async`` without a broker). The consent and failure-limit
        gates answer at once. Returns (job id, subject id)."""
        subject_id = await asyncio.to_thread(self.check_gates, client_id, consent_id)
        job_id = new_id()
        if self.queue is not None:
            await asyncio.to_thread(
                self.queue.enqueue,
                job_id,
                client_id=client_id,
                actor=actor,
                consent_id=consent_id,
                subject_id=subject_id,
                inp=inp,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                completed_event=respond_async,
            )
        else:
            await self._state(self.jobs.create, job_id, client_id, idempotency_key, fingerprint)
            task = asyncio.create_task(self._run_in_background(job_id, client_id, actor, consent_id, inp, idempotency_key, fingerprint))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return job_id, subject_id

    async def _run_in_background(self, job_id, client_id, actor, consent_id, inp, idempotency_key, fingerprint) -> None:
        try:
            await self._state(self.jobs.move, job_id, "running", ("queued",))
            view = await self._run(
                client_id, actor, consent_id, inp, idempotency_key, fingerprint, verification_id=job_id, completed_event=True
            )
            await self._state(self.jobs.finish, job_id, str(view["id"]))
        except KycError as exc:
            await self._state(self.jobs.fail, job_id, exc)
        except Exception as exc:  # never lose the outcome: the job fails with a code
            log.error("background verification failed: %s", type(exc).__name__)
            await self._state(self.jobs.fail, job_id, error("internal_error"))

    async def _wait_job(self, client_id: str, actor: str, job_id: str, subject_id: str | None = None) -> dict:
        try:
            rec = await self.jobs.wait(job_id, self.settings.verification_deadline_s)
        except KycError as exc:
            if exc.code == "deadline_exceeded" and subject_id is not None:
                await asyncio.to_thread(self._audit_failure, actor, subject_id, exc.code)
            raise
        if rec.status == "failed":
            rec.raise_error()
        return await asyncio.to_thread(self.get, client_id, rec.result_id or job_id)

    def job_view(self, client_id: str, job_id: str) -> dict:
        """A stored verification, else its queued or running job (``processing``) or its failure."""
        try:
            return self.get(client_id, job_id)
        except KycError:
            rec = self.jobs.get(job_id)
            if rec is None or rec.client_id != client_id:
                raise
            if rec.status == "done":  # stored a moment ago, or answered by the verification of a raced retry
                return self.get(client_id, rec.result_id or job_id)
            if rec.status in ("failed", "abandoned"):
                err = rec.error or {"code": "deadline_exceeded", "message": CODES["deadline_exceeded"].message}
                return processing_view(job_id, "failed", {k: v for k, v in err.items() if v is not None})
            return processing_view(job_id)

    async def _run(
        self, client_id, actor, consent_id, inp, idempotency_key, fingerprint, verification_id=None, completed_event=False
    ) -> dict:
        subject_id = await asyncio.to_thread(self.check_gates, client_id, consent_id)
        with self._waiting_lock:
            if self._waiting >= self.settings.verification_queue + self.settings.verification_workers:
                raise error("service_busy")
            self._waiting += 1
        job = _Job()
        try:
            fut = self._pool.submit(
                self.process, client_id, actor, consent_id, inp, idempotency_key, fingerprint, job, verification_id, completed_event
            )
            try:
                return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(fut)), self.settings.verification_deadline_s)
            except TimeoutError:
                with job.lock:
                    if not job.committed:
                        job.abandoned = True
                if job.abandoned:
                    await asyncio.to_thread(self._audit_failure, actor, subject_id, "deadline_exceeded")
                    raise error("deadline_exceeded", deadline_s=self.settings.verification_deadline_s) from None
                return await asyncio.wrap_future(fut)
            except KycError as exc:
                await asyncio.to_thread(self.note_input_failure, actor, subject_id, exc)
                raise
        finally:
            with self._waiting_lock:
                self._waiting -= 1

    def _audit_failure(self, actor: str, subject_id: str, code: str) -> None:
        try:
            with self.db.session() as s:
                append_audit(s, actor=actor, action="verification.fail", target=f"subject:{subject_id}", detail={"code": code})
        except Exception:  # the failure itself is what the caller gets; never mask it
            log.warning("could not audit a failed verification")

    # --- the worker ---
    def process(
        self,
        client_id: str,
        actor: str,
        consent_id: str,
        inp: VerificationInput,
        idempotency_key: str | None,
        fingerprint: str,
        job: _Job | None = None,
        verification_id: str | None = None,
        completed_event: bool = False,
        engines: Engines | None = None,
    ) -> dict:
        """Pipeline, decision and the one transaction that stores the result (runs in a worker).

        A queued job passes its own ``verification_id``: a retry after a worker died
        finds the row already there (or collides on the primary key) and stores nothing twice.
        With ``completed_event`` a ``verification.completed`` webhook is queued in the same
        transaction."""
        job = job or _Job()
        if job.abandoned:  # its deadline passed while it waited in the queue
            raise error("deadline_exceeded")
        vid = verification_id or new_id()
        if verification_id is not None and (stored := self._stored_view(vid)) is not None:
            return stored
        started = utcnow()
        t0 = time.perf_counter()
        result = run_pipeline(inp, engines or self.engines, self.rules)
        try:
            return self._store(
                client_id, actor, consent_id, inp, idempotency_key, fingerprint, job, result, started, t0, vid, completed_event
            )
        except IntegrityError:
            if verification_id is not None and (stored := self._stored_view(vid)) is not None:
                return stored  # another delivery of the same job stored it first
            # The same Idempotency-Key committed by another process meanwhile: answer with that one.
            if idempotency_key:
                existing = self.find_idempotent(client_id, idempotency_key, fingerprint)
                if existing is not None:
                    return existing
            raise

    def _stored_view(self, vid: str) -> dict | None:
        with self.db.session() as s:
            v = s.get(Verification, vid)
            return verification_view(v, s.get(Subject, v.subject_id).ref) if v is not None else None

    def _store(
        self, client_id, actor, consent_id, inp, idempotency_key, fingerprint, job, result, started, t0, vid, completed_event=False
    ) -> dict:
        ev = result.evidence
        with job.commit_window():
            with self.db.session() as s:
                consent = get_consent(s, client_id, consent_id)
                require_valid_consent(s, consent)  # withdrawn while we worked: store nothing
                subject = s.get(Subject, consent.subject_id)
                dek = self.vault.subject_key(subject)
                id_number = ev.fields.get("id_number")
                index = self.vault.id_number_index(s, id_number) if id_number else None
                if index is not None:
                    same_number = [
                        Verification.id_number_index == index,
                        Verification.subject_id != subject.id,
                        Verification.status == "approved",
                    ]
                    if self.settings.duplicate_scope == "client":  # default: a tenant never learns of another's
                        same_number.append(Verification.client_id == client_id)
                    other = s.scalar(select(func.count()).select_from(Verification).where(*same_number))
                    ev.duplicate = bool(other)
                decision = decide(ev, self.rules)
                v = Verification(
                    id=vid,
                    client_id=client_id,
                    subject_id=subject.id,
                    consent_id=consent.id,
                    status=decision.status,
                    reasons=decision.reasons,
                    scores=decision.scores,
                    models=ev.models,
                    document_type=ev.document_type,
                    masked_fields=mask_fields(ev.fields),
                    fields_ct=self.vault.encrypt_json(dek, "verifications", vid, "fields", ev.fields),
                    template_ct=(
                        self.vault.encrypt(dek, "verifications", vid, "template", result.selfie_template)
                        if result.selfie_template
                        else None
                    ),
                    id_number_index=index,
                    idempotency_key=idempotency_key,
                    request_sha256=fingerprint,
                    created_at=started,
                    completed_at=utcnow(),
                    duration_ms=(time.perf_counter() - t0) * 1000,
                )
                s.add(v)
                s.flush()
                retained = 0
                if decision.status == "review" and RETENTION_PURPOSE in consent.purposes:
                    expires = utcnow() + timedelta(hours=self.settings.retention_hours)
                    for kind, data in (("id_front", inp.id_front), ("id_back", inp.id_back), ("selfie", inp.selfie)):
                        if data is None:
                            continue
                        rid = new_id()
                        s.add(
                            RetainedImage(
                                id=rid,
                                verification_id=vid,
                                subject_id=subject.id,
                                kind=kind,
                                ciphertext=self.vault.encrypt(dek, "retained_images", rid, kind, data),
                                expires_at=expires,
                            )
                        )
                        retained += 1
                append_audit(
                    s,
                    actor=actor,
                    action="verification.create",
                    target=f"verification:{vid}",
                    detail={"subject": subject.id, "status": decision.status, "reasons": decision.reasons, "retained_images": retained},
                )
                s.flush()
                view = verification_view(v, subject.ref)
                if completed_event:
                    from kyc.admin.webhooks import enqueue_delivery

                    enqueue_delivery(
                        s,
                        s.get(ApiClient, client_id),
                        vid,
                        "verification.completed",
                        {"verification": {"id": vid, "status": decision.status, "reasons": decision.reasons}},
                    )
        return view

    def get(self, client_id: str, verification_id: str) -> dict:
        with self.db.session() as s:
            v = s.get(Verification, verification_id)
            if v is None or v.client_id != client_id:
                raise error("verification_not_found")
            return verification_view(v, s.get(Subject, v.subject_id).ref)
