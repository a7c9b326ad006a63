"""Privacy mechanisms (issue 15): consent receipts, incident reports, decommissioning."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from kyc.config import get_settings

consents_app = typer.Typer(no_args_is_help=True)


def _db():
    from kyc.storage import Database

    db = Database.from_settings(get_settings())
    db.migrate()
    return db


@consents_app.command("public-key")
def consents_public_key(out: Path = typer.Option(None, "--out", help="Write the PEM here instead of printing it.")) -> None:
    """Print (or write) the public key that verifies consent receipts and signed statements."""
    from kyc.consent import receipt_public_key
    from kyc.vault import Vault

    settings = get_settings()
    db = _db()
    try:
        vault = Vault(settings)
        vault.ensure_service_keys(db)
        pem = receipt_public_key(db, vault)
    finally:
        db.dispose()
    if out is None:
        typer.echo(pem, nl=False)
    else:
        out.write_text(pem)
        typer.echo(f"wrote {out}")


@consents_app.command("verify-receipt")
def consents_verify_receipt(
    file: Path = typer.Argument(..., help="A receipt (JSON) from GET /v1/consents/{id}/receipt, or a signed statement."),
    public_key: Path = typer.Option(..., "--public-key", help="The published PEM public key (`kyc consents public-key`)."),
) -> None:
    """Check a receipt's signature offline; exit 1 when it does not verify."""
    from kyc.vault.signing import load_public_key, verify_document

    try:
        doc = json.loads(file.read_bytes())
        key = load_public_key(public_key.read_bytes())
    except (OSError, ValueError) as exc:
        typer.echo(f"INVALID: cannot read the receipt or the key ({type(exc).__name__})", err=True)
        raise typer.Exit(1) from None
    check = verify_document(doc, key)
    if not check.ok:
        typer.echo(f"INVALID: {check.reason}", err=True)
        raise typer.Exit(1)
    p = doc["payload"]
    typer.echo(f"valid: {p.get('kind', p.get('statement', 'document'))} signed by key {doc['signature']['key_id']}")
