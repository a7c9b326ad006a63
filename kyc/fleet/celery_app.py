"""The Celery application: one configuration for the API (which sends) and workers.

Why Celery: the most widely deployed Python task queue, with both RabbitMQ and Redis as
brokers, late acknowledgement, per-task time limits, message expiry and queue routing
built in; the service adds only what is specific to it (sealed uploads, job records,
idempotent storage).

Reliability settings, and why:

* ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged only
  after the verification is stored (or has failed for good), so a worker killed mid-job
  leaves it in the broker for another worker; the verification id is the job id, so
  the retry cannot store it twice.
* ``worker_prefetch_multiplier=1``: a worker holds one job beyond those it runs, so a
  dead worker strands few and jobs spread over workers.
* per-message ``expires`` (the deadline) and task ``time_limit``: a job nobody started in
  time is dropped, and one that hangs is killed.
* JSON only (never pickle): a message cannot carry code.
"""

from __future__ import annotations

from kyc.config import Settings

__all__ = ["make_celery", "TASK_VERIFY", "RESOURCES", "queue_name", "send_stage"]

TASK_VERIFY = "kyc.verify"
# Queues by resource: each stage of a job (kyc.fleet.stages) goes to its resource's
# queue; workers pick queues with ``kyc worker --queues``, so GPU hosts can take the
# model-heavy ones.
RESOURCES = ("ocr", "liveness", "face")


def queue_name(settings: Settings, resource: str) -> str:
    return f"{settings.queue_prefix}.{resource}"


def make_celery(settings: Settings):
    from celery import Celery
    from kombu import Queue

    app = Celery("kyc", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        broker_heartbeat=10,
        task_publish_retry=False,
        broker_transport_options={
            "visibility_timeout": settings.broker_visibility_timeout_s,  # Redis broker: redeliver unacked after
            # ... and look for such jobs this often (kombu's default sweep is every ~100 s)
            "unacked_restore_interval": max(1, int(settings.broker_visibility_timeout_s // 2)),
            "unacked_restore_throttle": 1,
            "socket_timeout": 3,
            "socket_connect_timeout": 3,
        },
        task_queues=[Queue(queue_name(settings, r)) for r in RESOURCES],
        task_default_queue=queue_name(settings, "face"),
        task_time_limit=settings.verification_deadline_s + 30,
        task_soft_time_limit=settings.verification_deadline_s + 20,
    )
    return app


def send_stage(app, settings: Settings, stage: str, message: dict, expires_at: float) -> None:
    """Publish one stage of a job to its resource's queue (raises when the broker is down)."""
    import time

    app.send_task(
        TASK_VERIFY,
        kwargs={**message, "stage": stage, "expires_at": expires_at},
        queue=queue_name(settings, stage),
        expires=max(0.5, expires_at - time.time()),
        retry=False,
    )
