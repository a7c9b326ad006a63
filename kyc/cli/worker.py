"""``kyc worker``: a verification worker on the task queue (Celery), and ``kyc serve --workers``'s sibling."""

from __future__ import annotations

import os
import socket

import typer

from kyc.config import get_settings


def worker(
    concurrency: int = typer.Option(None, help="Verifications at once (processes; default: the number of cores)."),
    queues: str = typer.Option(
        "ocr,liveness,face", help="Resources this worker takes, comma-separated (a GPU host: the model-heavy ones)."
    ),
    name: str = typer.Option(None, help="Worker name (default kyc-<pid>@<host>)."),
    loglevel: str = typer.Option("info", help="Celery log level."),
) -> None:
    """Run a verification worker: takes queued jobs from KYC_BROKER_URL, stores results in KYC_DATABASE_URL."""
    from kyc.fleet.celery_app import RESOURCES, queue_name

    settings = get_settings()
    if not settings.broker_url:
        typer.echo("KYC_BROKER_URL is not set: without a broker the API runs verifications itself.", err=True)
        raise typer.Exit(2)
    if not settings.redis_url:
        typer.echo("KYC_REDIS_URL is not set: workers and API processes share job state through it.", err=True)
        raise typer.Exit(2)
    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = [q for q in wanted if q not in RESOURCES]
    if unknown:
        typer.echo(f"unknown queue(s) {unknown}; choose from {list(RESOURCES)}", err=True)
        raise typer.Exit(2)
    from kyc.fleet.worker import celery_app

    argv = [
        "worker",
        "--queues",
        ",".join(queue_name(settings, q) for q in wanted),
        "--loglevel",
        loglevel,
        "--hostname",
        name or f"kyc-{os.getpid()}@{socket.gethostname()}",
        "--without-gossip",
        "--without-mingle",
    ]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    celery_app.worker_main(argv)
