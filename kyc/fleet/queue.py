"""The API side of the task queue: seal a verification's uploads and hand it to Celery.

Used by :class:`kyc.verification.VerificationService` when ``KYC_BROKER_URL`` is set.
If the broker cannot take the job, nothing is left behind and the client gets 503
``queue_unavailable`` with ``Retry-After``.
"""

from __future__ import annotations

import base64
import logging
import time

from kyc.config import Settings
from kyc.errors import error
from kyc.fleet.celery_app import make_celery, send_stage
from kyc.fleet.jobs import JobBook
from kyc.fleet.sealing import seal_job, wrap_job_key
from kyc.fleet.stages import STAGES
from kyc.fleet.state import SharedState, StateUnavailable
from kyc.vault import Vault
from kyc.verification.pipeline import VerificationInput

__all__ = ["JobQueue", "JobMessage"]

log = logging.getLogger("kyc.fleet")


class JobMessage(dict):
    """The task's keyword arguments (JSON): ids and the sealed uploads, never plaintext."""


class JobQueue:
    def __init__(self, settings: Settings, state: SharedState, vault: Vault, celery_app=None) -> None:
        self.settings = settings
        self.state = state
        self.vault = vault
        self.book = JobBook(state, settings.job_result_ttl_s)
        self.app = celery_app or make_celery(settings)

    def close(self) -> None:
        """Nothing to do: kombu's producer pools are process-wide and keyed by broker URL,
        so closing them here would break another app in this process on the same broker."""

    def enqueue(
        self,
        job_id: str,
        *,
        client_id: str,
        actor: str,
        consent_id: str,
        subject_id: str,
        inp: VerificationInput,
        idempotency_key: str | None,
        fingerprint: str,
        completed_event: bool,
    ) -> None:
        """Seal, record and send one job (blocking; call it from a thread)."""
        key, blob = seal_job(job_id, inp)
        ttl = self.settings.job_result_ttl_s
        try:
            self.state.put("jobkey:" + job_id, wrap_job_key(self.vault.ring(), job_id, key), ttl)
            self.book.create(job_id, client_id)
        except StateUnavailable:
            raise error("queue_unavailable", retry_after_s=self.settings.broker_retry_after_s) from None
        message = JobMessage(
            job_id=job_id,
            client_id=client_id,
            actor=actor,
            consent_id=consent_id,
            subject_id=subject_id,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            completed_event=completed_event,
            sealed=base64.b64encode(blob).decode(),
            found=None,
        )
        # A synchronous caller waits the deadline; an asynchronous job may wait for a worker
        # until its record would expire.
        budget = self.settings.job_result_ttl_s if completed_event else self.settings.verification_deadline_s
        try:
            send_stage(self.app, self.settings, STAGES[0], message, time.time() + budget)
        except Exception as exc:  # kombu OperationalError, socket errors: the broker is down
            log.warning("could not queue a verification: %s: %s", type(exc).__name__, exc)
            try:
                self.state.delete("jobkey:" + job_id)
                self.state.delete("job:" + job_id)
            except StateUnavailable:
                pass
            raise error("queue_unavailable", retry_after_s=self.settings.broker_retry_after_s) from None
        if idempotency_key:
            try:
                self.book.link_key(job_id, client_id, idempotency_key, fingerprint)
            except StateUnavailable:
                pass  # a retry then runs it again; storage answers with this one (same key)

