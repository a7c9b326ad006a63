"""The service's long-lived parts, made in the lifespan: database (migrated), vault,
verification worker pool, rate limiter, and the periodic purge of expired images.

Tests may put fake engines on ``app.state.engines`` before start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import func, select

from api.workpool import WorkPool
from kyc.access import RateLimiter, create_client
from kyc.config import Settings
from kyc.fleet.state import state_from_url
from kyc.privacy.residency import enforce_residency
from kyc.storage import ApiClient, Database
from kyc.vault import Vault
from kyc.verification import VerificationService, default_engines, load_rules, purge_expired

__all__ = ["Services", "service_lifespan"]

log = logging.getLogger("kyc.api")


@dataclass
class Services:
    db: Database
    vault: Vault
    verifications: VerificationService
    limiter: RateLimiter  # per API key
    auth_failure_limiter: RateLimiter  # wrong or missing keys, per client address
    anonymous_limiter: RateLimiter  # public routes, per client address
    engines: WorkPool  # decoding and engine work of the engine routes, off the event loop


def _bootstrap_keys(settings: Settings, db: Database) -> None:
    """Development only: a first client key and an admin key, written 0600 under the data dir."""
    if settings.environment != "development" or not settings.bootstrap_api_key:
        return
    with db.session() as s:
        if s.scalar(select(func.count()).select_from(ApiClient)):
            return
    import os

    for name, admin, file in (("development", False, "dev-api-key"), ("development-admin", True, "dev-admin-key")):
        _, key = create_client(db, name, None if not admin else [], is_admin=admin, actor="system:bootstrap")
        path = settings.data_dir / file
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key + "\n")
        log.warning("created a development %s key in %s", "admin" if admin else "API", path)


def _enforce_webhook_residency(settings: Settings, db: Database) -> None:
    from kyc.storage import AuditEntry

    with db.session() as s:
        if s.scalar(select(AuditEntry.seq).where(AuditEntry.action == "service.decommission").limit(1)) is not None:
            raise RuntimeError("refusing to start: this database was decommissioned (`kyc decommission`); its keys are destroyed")
        hooks = {cid: url for cid, url in s.execute(select(ApiClient.id, ApiClient.webhook_url).where(ApiClient.webhook_url.is_not(None)))}
    enforce_residency(settings, hooks)


async def _purge_periodically(db: Database, interval_s: float, result_retention_days: float | None = None) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            n = await asyncio.to_thread(purge_expired, db, result_retention_days=result_retention_days)
            if n:
                log.info("purged %d expired retained images", n)
        except Exception as exc:  # keep the task alive; the next round retries
            log.error("purge failed: %s", type(exc).__name__)


@contextlib.asynccontextmanager
async def service_lifespan(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    enforce_residency(settings)  # before connecting anywhere: no data target outside the jurisdiction
    db = Database.from_settings(settings)
    # A refused start (residency, a decommissioned database, a key or broker error) must
    # not leave the database's connections open behind it.
    try:
        await asyncio.to_thread(db.migrate)
        await asyncio.to_thread(_enforce_webhook_residency, settings, db)
        vault = Vault(settings)
        await asyncio.to_thread(vault.ensure_service_keys, db)
        await asyncio.to_thread(_bootstrap_keys, settings, db)
        engines = getattr(app.state, "engines", None) or default_engines(settings, app.state)
        # Shared state (issue 13): process memory, or Redis when KYC_REDIS_URL is set; the task
        # queue when KYC_BROKER_URL is set (else verifications run in this process's pool).
        state = state_from_url(settings.redis_url, settings.redis_prefix)
        if settings.redis_url and getattr(app.state, "liveness_sessions", None) is None:
            from kyc.fleet.sealing import state_key
            from kyc.fleet.sessions import StateSessionOwners, StateSessionStore

            app.state.liveness_sessions = StateSessionStore(state, state_key(vault.ring()), ttl_s=settings.liveness_session_ttl_s)
            app.state.liveness_owners = StateSessionOwners(state, settings.liveness_sessions_per_client, settings.liveness_session_ttl_s)
        queue = None
        if settings.broker_url:
            from kyc.fleet.queue import JobQueue

            queue = JobQueue(settings, state, vault)
        service = VerificationService(settings, db, vault, engines, load_rules(settings.decision_rules_file), state=state, queue=queue)
        app.state.services = Services(
            db,
            vault,
            service,
            RateLimiter(settings.rate_limit_per_minute, state=state),
            RateLimiter(settings.auth_failures_per_minute, state=state, name="auth"),
            RateLimiter(settings.anonymous_per_minute, state=state, name="anon"),
            WorkPool(settings.engine_workers, settings.engine_queue),
        )
    except BaseException:
        db.dispose()
        raise
    purger = asyncio.create_task(_purge_periodically(db, settings.purge_interval_s, settings.result_retention_days))
    try:
        yield
    finally:
        purger.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purger
        await asyncio.to_thread(service.shutdown)
        await asyncio.to_thread(app.state.services.engines.shutdown)
        if queue is not None:
            queue.close()
        db.dispose()
