"""``kyc admin``: staff accounts of the review console, and client webhooks."""

from __future__ import annotations

import sys

import typer

from kyc.config import get_settings

app = typer.Typer(no_args_is_help=True)


def _db():
    from kyc.storage import Database

    db = Database.from_settings(get_settings())
    db.migrate()
    return db


def _fail(exc) -> None:
    typer.echo(f"error: {exc.code}: {exc.message}", err=True)
    raise typer.Exit(1)


@app.command("create-user")
def create_user(
    username: str = typer.Argument(..., help="2 to 64 characters: a-z, 0-9, dot, dash, underscore."),
    role: str = typer.Option(..., "--role", help="reviewer, admin or auditor."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin."),
) -> None:
    """Create a staff account (the password is prompted for, or read from stdin)."""
    from kyc.admin import create_user as make
    from kyc.errors import KycError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        account = make(_db(), username, password, role, actor="cli")
    except KycError as exc:
        _fail(exc)
    typer.echo(f"created {account.username} ({account.role})")


@app.command("users")
def users() -> None:
    """List staff accounts."""
    from kyc.admin import list_users

    for u in list_users(_db()):
        state = "disabled" if u.disabled else ("locked" if u.locked() else "active")
        typer.echo(f"{u.username:<24} {u.role:<9} {state}")


@app.command("unlock")
def unlock(username: str) -> None:
    """Unlock an account locked after failed sign-ins."""
    from kyc.admin.accounts import find_user, unlock_user
    from kyc.errors import KycError

    db = _db()
    try:
        unlock_user(db, find_user(db, username).id, actor="cli")
    except KycError as exc:
        _fail(exc)
    typer.echo(f"unlocked {username}")


@app.command("disable")
def disable(username: str, enable: bool = typer.Option(False, "--enable", help="Re-enable instead.")) -> None:
    """Disable an account (its sessions end at once), or re-enable it."""
    from kyc.admin.accounts import find_user, set_disabled
    from kyc.errors import KycError

    db = _db()
    try:
        set_disabled(db, find_user(db, username).id, not enable, actor="cli")
    except KycError as exc:
        _fail(exc)
    typer.echo(f"{'enabled' if enable else 'disabled'} {username}")


@app.command("set-webhook")
def set_webhook(
    client_id: str,
    url: str,
    new_secret: bool = typer.Option(False, "--new-secret", help="Replace the signing secret."),
) -> None:
    """Set a client application's webhook URL; prints the signing secret when one is made."""
    from kyc.admin import set_webhook as put
    from kyc.errors import KycError
    from kyc.vault import Vault

    settings = get_settings()
    db = _db()
    try:
        secret = put(db, Vault(settings), settings, client_id, url, actor="cli", new_secret=new_secret)
    except KycError as exc:
        _fail(exc)
    typer.echo(f"webhook set for {client_id}")
    if secret:
        typer.echo(secret)
