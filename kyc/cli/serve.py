"""``kyc serve``: the FastAPI service under uvicorn, one process or several."""

from __future__ import annotations

import typer

from kyc.config import get_settings


def _prepare(settings) -> None:
    """Migrate the database and create the key file and service keys once, in the parent,
    so N API processes starting together do not race to do it."""
    from kyc.storage import Database
    from kyc.vault import Vault

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_settings(settings)
    try:
        db.migrate()
        Vault(settings).ensure_service_keys(db)
    finally:
        db.dispose()


def serve(
    host: str = typer.Option(None, help="Bind address (default KYC_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default KYC_PORT, 8000)."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="API processes behind the one port."),
) -> None:
    """Run the HTTP service (``--workers N``: N processes sharing the port)."""
    import uvicorn

    from kyc.privacy.residency import startup_violations

    s = get_settings()
    problems = startup_violations(s)  # residency (issue 15): say why before starting anything
    if problems:
        for p in problems:
            typer.echo(f"refusing to start: {p}", err=True)
        raise typer.Exit(2)
    if workers > 1:
        if not s.redis_url:
            typer.echo(
                "warning: without KYC_REDIS_URL each API process keeps its own rate limits, idempotency "
                "leases and liveness sessions; set it so the processes behave as one service.",
                err=True,
            )
        _prepare(s)
    uvicorn.run(
        "api.main:create_app", factory=True, host=host or s.host, port=port or s.port, log_level="info", workers=workers
    )
