"""Operator commands of the verification service: clients, purge, audit, openapi."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from kyc.config import get_settings

clients_app = typer.Typer(no_args_is_help=True)
audit_app = typer.Typer(no_args_is_help=True)


def _db():
    from kyc.storage import Database

    db = Database.from_settings(get_settings())
    db.migrate()
    return db


@clients_app.command("create")
def clients_create(
    name: str = typer.Argument(..., help="The client application's name."),
    scope: list[str] = typer.Option(None, "--scope", help="Repeat for each scope (default: all client scopes)."),
    admin: bool = typer.Option(False, "--admin", help="An admin key (clients, policies); no client scopes."),
) -> None:
    """Create a client application and print its API key (shown once)."""
    from kyc.access import create_client

    client, key = create_client(_db(), name, [] if admin and not scope else (scope or None), is_admin=admin)
    typer.echo(f"client {client.id} ({name}) scopes={','.join(client.scopes) or '-'} admin={admin}")
    typer.echo(key)


@clients_app.command("list")
def clients_list() -> None:
    """List client applications (never their keys)."""
    from sqlalchemy import select

    from kyc.storage import ApiClient

    with _db().session() as s:
        for c in s.scalars(select(ApiClient).order_by(ApiClient.created_at)).all():
            state = "revoked" if c.revoked_at else "active"
            typer.echo(f"{c.id}  {state:<8} admin={c.is_admin!s:<5} {c.name}  [{','.join(c.scopes)}]")


@clients_app.command("revoke")
def clients_revoke(client_id: str) -> None:
    """Revoke a client's key."""
    from kyc.access import revoke_client

    revoke_client(_db(), client_id)
    typer.echo(f"revoked {client_id}")


def purge() -> None:
    """Delete retained review images past their expiry (the service also does this periodically)."""
    from kyc.verification import purge_expired

    n = purge_expired(_db(), actor="cli", result_retention_days=get_settings().result_retention_days)
    typer.echo(f"purged {n} expired retained images")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; exit 1 naming the first broken entry."""
    from kyc.audit import verify_chain

    report = verify_chain(_db())
    if report.ok:
        typer.echo(f"ok: {report.entries} entries, chain intact")
        return
    typer.echo(f"BROKEN at entry {report.first_broken_seq}: {report.reason} ({report.entries} entries verified before it)", err=True)
    raise typer.Exit(1)


def openapi(out: Path = typer.Option(Path("openapi.json"), "--out", help="Where to write the schema.")) -> None:
    """Write the service's OpenAPI schema (for generating mobile SDKs)."""
    from api.main import create_app

    schema = create_app(get_settings()).openapi()
    out.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
    typer.echo(f"wrote {out} ({len(schema['paths'])} paths)")
