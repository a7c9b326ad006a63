"""The ``kyc`` command line: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from kyc.cli import admin, bench, documents, faces, keys, liveness, models, privacy, serve, service, worker

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Real-name identity verification.")
app.add_typer(models.app, name="models", help="Fetch, verify and list the model files.")
app.add_typer(keys.app, name="keys", help="Key-encryption key management.")
app.add_typer(documents.app, name="id", help="Read ID documents.")
app.add_typer(faces.app, name="face", help="Face detection, templates and 1:1 comparison.")
app.add_typer(liveness.app, name="liveness", help="Passive and active liveness.")
app.add_typer(bench.app, name="bench", help="Benchmarks that write reports.")
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)  # issue 13: task-queue worker
# verification service (issue 5)
app.add_typer(service.clients_app, name="clients", help="Client applications and their API keys.")
app.add_typer(service.audit_app, name="audit", help="The hash-chained audit log.")
app.command("purge")(service.purge)
app.command("openapi")(service.openapi)
app.add_typer(admin.app, name="admin", help="Review console: staff accounts and client webhooks.")  # issue 6
app.add_typer(privacy.consents_app, name="consents", help="Consent receipts: the public key, offline verification.")  # issue 15
app.command("decommission")(privacy.decommission_cmd)  # issue 15
app.add_typer(privacy.privacy_app, name="privacy", help="The data inventory: what is kept, why, how long.")  # issue 15
app.add_typer(privacy.incident_app, name="incident", help="Incident reports: who could have been exposed.")  # issue 15


def main() -> None:
    app()
