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


incident_app = typer.Typer(no_args_is_help=True)


def _when(value: str) -> "datetime":
    from datetime import UTC, datetime

    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time (e.g. 2026-12-01T08:00:00Z)") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # a time without zone is UTC


@incident_app.command("report")
def incident_report_cmd(
    start: str = typer.Option(..., "--from", help="Start of the window (ISO 8601; UTC unless a zone is given)."),
    end: str = typer.Option(..., "--to", help="End of the window."),
    key_id: str = typer.Option(None, "--key-id", help="A key-encryption key id, or a service key (blind_index, webhook_signing, statement_signing)."),
    staff: str = typer.Option(None, "--staff", help="A console username: only what this account accessed."),
    client: str = typer.Option(None, "--client", help="A client application id: only what its API key did."),
    out: Path = typer.Option(None, "--out", help="Folder for report.json and one notice-<client>.txt per client."),
) -> None:
    """Which subjects' data could have been exposed, per client, with a notice draft per client (English and Chinese)."""
    from kyc.privacy import IncidentQuery, incident_report, notice_draft

    settings = get_settings()
    db = _db()
    try:
        try:
            report = incident_report(db, IncidentQuery(_when(start), _when(end), key_id, staff, client), actor="cli")
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
    finally:
        db.dispose()
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
        return
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(text + "\n")
    for c in report["clients"]:
        for language, suffix in (("en", ""), ("zh-CN", ".zh-CN")):
            (out / f"notice-{c['client_id']}{suffix}.txt").write_text(
                notice_draft(
                    report, c, controller_name=settings.controller_name, controller_contact=settings.controller_contact, language=language
                )
            )
    t = report["totals"]
    typer.echo(f"{t['subjects']} subjects of {t['clients']} clients; wrote {out / 'report.json'} and {len(report['clients'])} notice drafts")


def decommission_cmd(
    confirm: str = typer.Option(None, "--confirm", help="The confirmation phrase (asked for when not given)."),
    statement_out: Path = typer.Option(Path("decommission-statement.json"), "--statement-out", help="Where to write the signed statement."),
) -> None:
    """Destroy every data key and the key-encryption keys: all personal data becomes unreadable, backups included."""
    from kyc.privacy import DecommissionRefused, confirmation_phrase, decommission
    from kyc.privacy.decommission import plan
    from kyc.vault import Vault

    settings = get_settings()
    db = _db()
    try:
        vault = Vault(settings)
        p = plan(db, vault)
        phrase = confirmation_phrase(db)
        if confirm is None:
            typer.echo(
                f"This destroys {p.subjects} subject data keys, the service keys {', '.join(p.service_keys) or '-'} and the "
                f"key-encryption keys {', '.join(p.kek_ids)}. Nothing encrypted can be read afterwards, from this database "
                "or any backup. It cannot be undone."
            )
            confirm = typer.prompt(f"Type {phrase!r} to go on")
        try:
            statement = decommission(db, vault, settings, confirm, actor="cli")
        except DecommissionRefused as exc:
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(1) from None
    finally:
        db.dispose()
    statement_out.write_text(json.dumps(statement, indent=2, ensure_ascii=False) + "\n")
    d = statement["payload"]["destroyed"]
    typer.echo(
        f"destroyed {d['subject_data_keys']} subject keys, service keys {d['service_keys']}, KEKs {d['key_encryption_keys']}; "
        f"signed statement in {statement_out}"
    )
    for line in statement["payload"]["not_destroyed_here"]:
        typer.echo(f"STILL TO DO: {line}", err=True)


privacy_app = typer.Typer(no_args_is_help=True)


@privacy_app.command("inventory")
def privacy_inventory(
    write_readme: bool = typer.Option(False, "--write-readme", help="Replace the generated list in README.md."),
) -> None:
    """What is kept, why and for how long, generated from the data inventory of the models."""
    from kyc.config import PROJECT_ROOT
    from kyc.privacy.inventory import README_END, README_START, inventory_markdown

    text = inventory_markdown()
    if not write_readme:
        typer.echo(text)
        return
    readme = PROJECT_ROOT / "README.md"
    body = readme.read_text()
    if README_START not in body or README_END not in body:
        typer.echo(f"README.md has no {README_START} ... {README_END} block", err=True)
        raise typer.Exit(1)
    head, rest = body.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(head + README_START + "\n" + text + "\n" + README_END + tail)
    typer.echo(f"updated {readme}")
