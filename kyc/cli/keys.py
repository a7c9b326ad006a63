"""``kyc keys init`` and ``kyc keys rotate``."""

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


@app.command("rotate")
def rotate(
    grace: float = typer.Option(5.0, help="Seconds between publishing the new key and re-wrapping."),
    rewrap_only: bool = typer.Option(
        False, "--rewrap-only", help="Only re-wrap under the current key (KYC_KEK='new,old' set by the operator)."
    ),
) -> None:
    """Re-wrap every data key under a new key-encryption key, while the service keeps running."""
    from kyc.audit import append_audit
    from kyc.storage import Database
    from kyc.vault import KeyRingSource, rewrap_all, rotate_key_file

    settings = get_settings()
    db = Database.from_settings(settings)
    db.migrate()
    if rewrap_only or settings.kek is not None:
        ring = KeyRingSource(settings, create=False).ring()
        subjects, service = rewrap_all(db, ring)
        new_id, retired = ring.current_id, []
    else:
        report = rotate_key_file(db, settings.resolved_key_file, grace_s=grace)
        new_id, subjects, service, retired = (
            report.new_kek_id,
            report.rewrapped_subjects,
            report.rewrapped_service_keys,
            report.retired_kek_ids,
        )
    with db.session() as s:
        append_audit(
            s,
            actor="cli",
            action="keys.rotate",
            target=f"kek:{new_id}",
            detail={"rewrapped_subjects": subjects, "rewrapped_service_keys": service, "retired": retired},
        )
    typer.echo(f"current key {new_id}: re-wrapped {subjects} subject keys and {service} service keys; retired {retired or 'none'}")
