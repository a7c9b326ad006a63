"""The worker side: one Celery task that opens a sealed job, runs the verification and
stores it exactly once (``kyc worker`` runs it).

Exactly once: the verification is stored under the job's id in one transaction, so a
job delivered twice (its first worker died after storing but before acknowledging)
finds its row and stores nothing. The job key is deleted once the job is stored or has
failed for good; the broker deletes the message when it is acknowledged.
"""

from __future__ import annotations

import base64
import importlib
import logging
import time
from dataclasses import dataclass
from functools import lru_cache

from kyc.config import Settings, get_settings
from kyc.errors import KycError, error
from kyc.fleet.celery_app import TASK_VERIFY, make_celery, send_stage
from kyc.fleet.jobs import JobBook, QueuedJobGuard
from kyc.fleet.sealing import open_job, state_key, unwrap_job_key
from kyc.fleet.stages import STAGES, next_stage, open_findings, replay_engines, run_stage, seal_findings
from kyc.fleet.state import SharedState, StateUnavailable, state_from_url

__all__ = ["WorkerContext", "worker_context", "run_job", "celery_app"]

log = logging.getLogger("kyc.fleet.worker")


@dataclass
class WorkerContext:
    settings: Settings
    state: SharedState
    book: JobBook
    service: object  # kyc.verification.VerificationService without a queue


def _engines(settings: Settings, sessions):
    """The real engines, or ``KYC_ENGINES_FACTORY`` (``module:function``) for tests."""
    from kyc.verification import default_engines

    if settings.engines_factory:
        module, _, fn = settings.engines_factory.partition(":")
        return getattr(importlib.import_module(module), fn)()

    class _State:  # default_engines looks for a session store on an app-state-like object
        liveness_sessions = sessions

    return default_engines(settings, _State())


@lru_cache(maxsize=1)
def worker_context() -> WorkerContext:
    """Made once per worker process (after the fork), never in the parent."""
    from kyc.fleet.sessions import StateSessionStore
    from kyc.storage import Database
    from kyc.vault import Vault
    from kyc.verification import VerificationService, load_rules

    settings = get_settings()
    db = Database.from_settings(settings)
    vault = Vault(settings)
    state = state_from_url(settings.redis_url, settings.redis_prefix)
    sessions = StateSessionStore(state, state_key(vault.ring()), ttl_s=settings.liveness_session_ttl_s)
    service = VerificationService(settings, db, vault, _engines(settings, sessions), load_rules(settings.decision_rules_file), state=state)
    return WorkerContext(settings, state, JobBook(state, settings.job_result_ttl_s), service)


def run_job(
    ctx: WorkerContext,
    *,
    job_id: str,
    client_id: str,
    actor: str,
    consent_id: str,
    subject_id: str,
    idempotency_key: str | None,
    fingerprint: str,
    completed_event: bool,
    sealed: str,
    found: str | None = None,
    stage: str = STAGES[-1],
    expires_at: float = 0.0,
) -> str:
    """Run one stage of a job; returns what became of it (for logs)."""
    rec = ctx.book.get(job_id)
    if rec is None or rec.status in ("done", "failed", "abandoned"):
        ctx.state.delete("jobkey:" + job_id)
        return rec.status if rec else "expired"
    ctx.book.move(job_id, "running", ("queued",))
    wrapped = ctx.state.get("jobkey:" + job_id)
    if wrapped is None:
        ctx.book.fail(job_id, error("deadline_exceeded"))
        return "expired"
    service = ctx.service
    final = True
    try:
        key = unwrap_job_key(service.vault.ring(), job_id, wrapped)
        inp = open_job(key, job_id, base64.b64decode(sealed))
        findings = open_findings(key, job_id, base64.b64decode(found)) if found else {}
        while (nxt := next_stage(stage)) is not None:
            findings.update(run_stage(stage, service.engines, inp))
            message = dict(
                job_id=job_id, client_id=client_id, actor=actor, consent_id=consent_id, subject_id=subject_id,
                idempotency_key=idempotency_key, fingerprint=fingerprint, completed_event=completed_event, sealed=sealed,
                found=base64.b64encode(seal_findings(key, job_id, findings)).decode(),
            )
            try:
                send_stage(celery_app, ctx.settings, nxt, message, expires_at or time.time() + ctx.settings.verification_deadline_s)
            except Exception as exc:  # the broker went away mid-job: finish the job here instead
                log.warning("could not queue stage %s (%s); running it in this worker", nxt, type(exc).__name__)
                stage = nxt
                continue
            final = False
            return "staged:" + nxt
        view = service.process(
            client_id, actor, consent_id, inp, idempotency_key, fingerprint,
            job=QueuedJobGuard(ctx.book, job_id), verification_id=job_id, completed_event=completed_event,
            engines=replay_engines(service.engines, findings),
        )
        ctx.book.finish(job_id, str(view["id"]))
        return "done"
    except StateUnavailable:
        final = False  # Redis is away: keep the job key, the message goes back to the queue
        raise
    except KycError as exc:
        if exc.code == "deadline_exceeded":
            service._audit_failure(actor, subject_id, exc.code)
        else:
            service.note_input_failure(actor, subject_id, exc)
        ctx.book.fail(job_id, exc)
        return "failed"
    except Exception as exc:  # a fault of ours: the job fails for good, the message is acknowledged
        log.error("verification job failed: %s", type(exc).__name__)
        ctx.book.fail(job_id, error("internal_error"))
        return "failed"
    finally:
        if final:  # crypto-shred: any copy of the job's messages is now unreadable
            ctx.state.delete("jobkey:" + job_id)


celery_app = make_celery(get_settings())


@celery_app.task(name=TASK_VERIFY)
def verify(**kwargs) -> str:
    """One stage of a job. The return value (logged by Celery) carries the stage's CPU and
    wall seconds, which ``kyc bench service --fleet`` adds up into the capacity model."""
    from celery.exceptions import Reject

    cpu0, wall0 = time.process_time(), time.perf_counter()
    ctx = worker_context()
    try:
        outcome = run_job(ctx, **kwargs)
    except StateUnavailable:
        log.warning("shared state unreachable; the job goes back to the queue")
        time.sleep(ctx.settings.broker_retry_after_s)
        raise Reject("shared state unreachable", requeue=True) from None
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return f"{outcome} stage={kwargs.get('stage', STAGES[-1])} cpu_s={cpu:.4f} wall_s={wall:.4f}"
