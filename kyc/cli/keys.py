"""``kyc keys init`` (and, with the vault, ``rotate``)."""

from __future__ import annotations

import typer

from kyc.config import get_settings
from kyc.keyfile import ensure_key_file

app = typer.Typer(no_args_is_help=True)


@app.command("init")
def init() -> None:
    """Create the local key-encryption key file (0600) if there is none."""
    path = get_settings().resolved_key_file
    created = ensure_key_file(path)
    typer.echo(f"{'created' if created else 'kept'} key file {path}")
