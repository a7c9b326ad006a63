"""``kyc serve``: the FastAPI service under uvicorn."""

from __future__ import annotations

import typer

from kyc.config import get_settings


def serve(
    host: str = typer.Option(None, help="Bind address (default KYC_HOST, 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default KYC_PORT, 8000)."),
) -> None:
    """Run the HTTP service."""
    import uvicorn

    from kyc.privacy.residency import startup_violations

    s = get_settings()
    problems = startup_violations(s)  # residency (issue 15): say why before starting anything
    if problems:
        for p in problems:
            typer.echo(f"refusing to start: {p}", err=True)
        raise typer.Exit(2)
    uvicorn.run("api.main:create_app", factory=True, host=host or s.host, port=port or s.port, log_level="info")
